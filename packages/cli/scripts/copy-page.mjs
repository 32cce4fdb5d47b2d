// The command line builds three pages with Vite at run time (`welford train --browser`,
// `welford conformance --browser`, and the charts of `welford experiment`), from their folders in
// dist/: the built scripts sit there already; each page's index.html is copied beside them,
// loading main.js instead of main.ts.
import { readFileSync, writeFileSync } from 'node:fs';

for (const page of ['browser/page', 'conformance/browser/page', 'experiment/plot_page']) {
  const html = readFileSync(`src/${page}/index.html`, 'utf8');
  if (!html.includes('src="./main.ts"')) throw new Error(`copy-page: src/${page}/index.html no longer loads ./main.ts`);
  writeFileSync(`dist/${page}/index.html`, html.replace('src="./main.ts"', 'src="./main.js"'));
}
