// Builds the workspace package in the current folder (its `pnpm build`, run by `prepack`) to
// dist/ with its tsconfig.build.json. dist/ is emptied first so that a file deleted from src/
// never lingers in a published tarball.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync(join(process.cwd(), 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
