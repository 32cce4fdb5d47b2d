// What a packed tarball must hold for `npm install` of it to work: its manifest as published
// (pnpm applies publishConfig), and every file that manifest points at.
import { execFileSync } from 'node:child_process';

/** The fields of a published package.json that are checked here. */
interface Manifest {
  name?: string;
  version?: string;
  type?: string;
  license?: string;
  repository?: unknown;
  engines?: Record<string, string>;
  sideEffects?: unknown;
  bin?: Record<string, string>;
  exports?: Record<string, unknown>;
  imports?: Record<string, unknown>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** A tarball's published manifest and the paths it holds (relative to the package root). */
export function readTarball(tarball: string): { manifest: Manifest; files: Set<string> } {
  const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' });
  const files = new Set(listing.split('\n').filter(Boolean).map((p) => p.replace(/^package\//, '')));
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as Manifest;
  return { manifest, files };
}

/** Every target path of an exports/imports entry, with the conditions that lead to it. */
function targets(entry: unknown, conditions: string[] = []): { conditions: string[]; path: string }[] {
  if (typeof entry === 'string') return [{ conditions, path: entry }];
  if (entry && typeof entry === 'object') return Object.entries(entry).flatMap(([k, v]) => targets(v, [...conditions, k]));
  return [];
}

/** What is wrong with the package in `tarball` (nothing: an empty list). */
export function manifestProblems(tarball: string): string[] {
  const { manifest: m, files } = readTarball(tarball);
  const problems: string[] = [];
  const has = (path: string): boolean => files.has(path.replace(/^\.\//, ''));
  for (const field of ['name', 'version', 'license', 'repository', 'engines'] as const) {
    if (m[field] === undefined) problems.push(`package.json has no "${field}"`);
  }
  if (m.type !== 'module') problems.push(`package.json "type" is ${JSON.stringify(m.type)}, not "module"`);
  if (m.sideEffects === undefined) problems.push('package.json has no "sideEffects" (bundlers then keep every module)');
  for (const file of ['LICENSE', 'README.md']) if (!files.has(file)) problems.push(`${file} is not in the tarball`);
  if (!m.exports) problems.push('package.json has no "exports"');
  for (const [subpath, entry] of Object.entries(m.exports ?? {})) {
    const all = targets(entry);
    if (!all.some((t) => t.conditions.includes('types'))) problems.push(`exports["${subpath}"] has no "types" condition`);
    if (!all.some((t) => t.conditions.includes('import'))) problems.push(`exports["${subpath}"] has no "import" condition`);
    for (const t of all) {
      if (!t.path.startsWith('./dist/')) problems.push(`exports["${subpath}"] (${t.conditions.join('/')}) points outside dist/: ${t.path}`);
      else if (!has(t.path)) problems.push(`exports["${subpath}"] (${t.conditions.join('/')}) points at ${t.path}, which is not in the tarball`);
    }
  }
  for (const [name, entry] of Object.entries(m.imports ?? {})) {
    for (const t of targets(entry)) if (!has(t.path)) problems.push(`imports["${name}"] (${t.conditions.join('/')}) points at ${t.path}, which is not in the tarball`);
  }
  for (const [name, path] of Object.entries(m.bin ?? {})) {
    if (!has(path)) problems.push(`bin "${name}" is ${path}, which is not in the tarball`);
    else if (!execFileSync('tar', ['-xzOf', tarball, `package/${path.replace(/^\.\//, '')}`], { encoding: 'utf8' }).startsWith('#!/usr/bin/env node')) {
      problems.push(`bin "${name}" (${path}) does not start with #!/usr/bin/env node`);
    }
  }
  for (const deps of [m.dependencies, m.optionalDependencies, m.peerDependencies]) {
    for (const [dep, range] of Object.entries(deps ?? {})) {
      if (/^(workspace|link|file):/.test(range)) problems.push(`dependency ${dep} is "${range}", which a registry cannot resolve`);
    }
  }
  for (const file of files) {
    if (/^(src|test)\//.test(file) || file.endsWith('.tsbuildinfo')) problems.push(`${file} is packed (only dist/ belongs in the tarball)`);
  }
  return problems;
}
