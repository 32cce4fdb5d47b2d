import { describe, expect, it } from 'vitest';
import { shaderSource } from '../src/backend/webgpu/reflect.ts';
import { OP_CODES, opCode, opCodesWgsl } from '../src/kernels/op_codes.ts';

// The op codes have one source, kernels/op_codes.ts: the WGSL gets them as constants from the
// embedding step, and each kernel family handles every code of its table.

const snake = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

describe('op codes', () => {
  it('the constants written into the WGSL are the table positions', () => {
    const text = opCodesWgsl();
    for (const [family, names] of Object.entries(OP_CODES)) {
      names.forEach((name, i) => {
        expect(text).toContain(`const ${family.toUpperCase()}_${snake(name)}: u32 = ${i}u;`);
        expect(opCode(family as keyof typeof OP_CODES, name as never)).toBe(i);
      });
    }
    expect(() => opCode('unary', 'nope' as never)).toThrow("opCode: no unary op named 'nope'");
  });

  it('every kernel that includes the codes carries them, and unary and binary have a case for each of theirs', () => {
    for (const family of ['unary', 'binary'] as const) {
      const source = shaderSource(family);
      for (const name of OP_CODES[family]) expect(source, `${family} ${name}`).toContain(`case ${family.toUpperCase()}_${snake(name)}:`);
      // No case is written with a bare number any more.
      expect(source).not.toMatch(/case \d+u:/);
    }
    for (const kernel of ['reduce', 'norm_stats', 'norm_grad_sums', 'reduce_subgroups']) {
      expect(shaderSource(kernel), kernel).toContain(`const REDUCE_SUM_PAIR: u32 = ${OP_CODES.reduce.indexOf('sumPair')}u;`);
      expect(shaderSource(kernel)).not.toMatch(/case \d+u/);
    }
  });
});
