// `welford train --browser` builds its page with Vite from dist/browser/page/: the built main.js
// sits there already; its index.html is copied beside it, pointing at main.js instead of main.ts.
import { readFileSync, writeFileSync } from 'node:fs';

const html = readFileSync('src/browser/page/index.html', 'utf8');
if (!html.includes('src="./main.ts"')) throw new Error('copy-page: src/browser/page/index.html no longer loads ./main.ts');
writeFileSync('dist/browser/page/index.html', html.replace('src="./main.ts"', 'src="./main.js"'));
