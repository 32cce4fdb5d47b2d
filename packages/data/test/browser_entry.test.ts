import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Every file reachable from `entry` through relative imports, with the bare imports each makes. */
function importGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const visit = (file: string): void => {
    if (graph.has(file)) return;
    const source = readFileSync(file, 'utf8');
    const specifiers = [...source.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]);
    graph.set(file, specifiers.filter((s) => !s.startsWith('.')));
    for (const s of specifiers.filter((s) => s.startsWith('.'))) visit(resolve(dirname(file), s));
  };
  visit(entry);
  return graph;
}

describe('the browser entry', () => {
  it('reaches no node: module and no npm package but @welford/core', () => {
    const graph = importGraph(fileURLToPath(new URL('../src/index.ts', import.meta.url)));
    expect(graph.size).toBeGreaterThan(10);
    for (const [file, bare] of graph) {
      expect(file).not.toMatch(/[\\/]src[\\/]node[\\/]/);
      for (const s of bare) expect(s, file).toBe('@welford/core');
    }
  });
});
