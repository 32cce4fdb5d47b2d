// The code examples of the packages' READMEs that a user would copy: a fenced block whose info
// string names a file (```js file=layers-train.mjs) is written into the consumer project under
// that name. The packaging test runs the .mjs ones with plain node and builds the Vite app from
// index.html and src/main.ts.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export interface ReadmeExample {
  /** The package folder the README is in (packages/<name>). */
  packageDir: string;
  /** The file the block becomes, relative to the consumer project. */
  file: string;
  code: string;
}

const BLOCK = /^```(\w+) file=(\S+)\n([\s\S]*?)^```$/gm;

/** Every file block of packages/*\/README.md, in package order; throws on a name used twice. */
export function readmeExamples(repoRoot: string): ReadmeExample[] {
  const found: ReadmeExample[] = [];
  const packages = join(repoRoot, 'packages');
  for (const name of readdirSync(packages).sort()) {
    const readme = join(packages, name, 'README.md');
    if (!existsSync(readme)) continue;
    for (const m of readFileSync(readme, 'utf8').matchAll(BLOCK)) {
      const file = m[2]!;
      const twice = found.find((e) => e.file === file);
      if (twice) throw new Error(`README examples: ${file} is written by both ${twice.packageDir}/README.md and packages/${name}/README.md`);
      found.push({ packageDir: `packages/${name}`, file, code: m[3]! });
    }
  }
  return found;
}
