// The playground as a user deploys it: the folder its own build script writes (playground/dist,
// datasets included), copied to a nested sub-path of a site and served by a plain static server.
// A page URL that is not relative to the page's folder misses the sub-path and shows up as a
// request outside it, or a 404.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { serveStatic, type StaticServer } from './static_server.ts';

/** Where the playground sits on the site, as on a project page (https://user.github.io/repo/). */
export const SUB_PATH = '/deploy/welford/';

export interface DeployedSite extends StaticServer {
  /** The page's address: the origin and the sub-path. */
  url: string;
}

/**
 * Runs `pnpm --filter @welford/playground build` (pack the datasets, `vite build`), copies
 * `playground/dist` to `siteRoot` + SUB_PATH (the rest of `siteRoot` is emptied) and serves `siteRoot`.
 */
export async function deployPlayground(repoRoot: string, siteRoot: string): Promise<DeployedSite> {
  execFileSync('pnpm', ['--filter', '@welford/playground', 'build'], { cwd: repoRoot, stdio: 'inherit' });
  const dist = join(repoRoot, 'playground/dist');
  if (!existsSync(join(dist, 'index.html'))) throw new Error(`the playground build wrote no ${dist}/index.html`);
  rmSync(siteRoot, { recursive: true, force: true });
  cpSync(dist, join(siteRoot, SUB_PATH), { recursive: true });
  const server = await serveStatic(siteRoot);
  return { ...server, url: `${server.origin}${SUB_PATH}` };
}
