// The import rules of .dependency-cruiser.cjs (core's layers, the packages' order, no cycles),
// checked over every package's src/ through dependency-cruiser's API; and, over a fixture tree
// that breaks them on purpose, proof that the check can fail. docs/core.md, "Layers", says why.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseOptions } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/layering/', import.meta.url));

interface Violation {
  rule: string;
  from: string;
  to: string;
}

/** Cruises `dirs` (relative to `baseDir`) with the repository's rules; returns what they forbid. */
async function violations(baseDir: string, dirs: string[]): Promise<Violation[]> {
  const tsConfigFile = join(ROOT, 'tsconfig.base.json');
  const options: ICruiseOptions = {
    ...(await extractDepcruiseOptions(join(ROOT, '.dependency-cruiser.cjs'))),
    baseDir,
    // The config names it relative to the repository root; the test may run from elsewhere.
    tsConfig: { fileName: tsConfigFile },
  };
  const tsConfig = extractTSConfig(tsConfigFile);
  const { output } = await cruise(dirs, options, {}, { tsConfig });
  if (typeof output === 'string') throw new Error(`dependency-cruiser returned text, not a result: ${output.slice(0, 200)}`);
  return output.summary.violations.map((v) => ({
    rule: v.rule.name,
    from: v.from,
    // A cycle is printed whole: from → … → from.
    to: v.cycle && v.cycle.length > 0 ? v.cycle.map((d) => d.name).join(' → ') : v.to,
  }));
}

const describeAll = (found: Violation[]): string => found.map((v) => `  ${v.rule}: ${v.from} → ${v.to}`).join('\n');

describe('layering', () => {
  it('no module imports upward or in a cycle, inside core or across packages', async () => {
    const sources = readdirSync(join(ROOT, 'packages'))
      .map((name) => `packages/${name}/src`)
      .filter((dir) => existsSync(join(ROOT, dir)));
    expect(sources).toContain('packages/core/src');
    const found = await violations(ROOT, sources);
    expect(found.length, `${found.length} import(s) break the rules of .dependency-cruiser.cjs:\n${describeAll(found)}\n`).toBe(0);
  });

  it('the checker reports an upward import, a type-only cycle, code where only types may be imported, and an import of a higher package', async () => {
    const found = await violations(FIXTURE, ['packages']);
    expect(found.map((v) => v.rule).sort(), describeAll(found)).toEqual(['core-layer-reference-types-only', 'core-layer-util', 'no-circular', 'package-core']);
    const rule = (name: string): Violation | undefined => found.find((v) => v.rule === name);
    expect(rule('core-layer-util')).toMatchObject({ from: 'packages/core/src/util/a.ts', to: 'packages/core/src/ops/b.ts' });
    // The two files import only each other's types: type-only imports count.
    expect(rule('no-circular')?.to.split(' → ').sort()).toEqual(['packages/core/src/tensor/x.ts', 'packages/core/src/tensor/y.ts']);
    // reference/typed.ts imports only a type from the same file: allowed.
    expect(rule('core-layer-reference-types-only')).toMatchObject({ from: 'packages/core/src/reference/runs_kernel_code.ts', to: 'packages/core/src/kernels/geometry.ts' });
    expect(rule('package-core')).toMatchObject({ from: 'packages/core/src/device/c.ts', to: 'packages/layers/src/index.ts' });
  });
});
