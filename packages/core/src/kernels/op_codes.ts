/**
 * The one table of op codes shared by TypeScript and WGSL. A kernel family selects its
 * function with an `OP` override; `scripts/embed-shaders.ts` writes these lists as WGSL
 * constants (`UNARY_NEG`, `REDUCE_VARIANCE`, ...: the family, then the name in upper snake
 * case) wherever a shader has the line `// #include "gen/op_codes.wgsl"`, and programs take
 * their code from `opCode`. Adding an op to a family is adding its name here and its case in
 * the WGSL switch.
 */
export const OP_CODES = {
  unary: ['neg', 'exp', 'log', 'sqrt', 'rsqrt', 'relu', 'sigmoid', 'tanh', 'abs', 'square', 'affine', 'powScalar', 'step', 'sign'],
  binary: ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'gt', 'ge', 'lt', 'le'],
  // `sumPair` sums two values per element at once (the normalization backward's Σ dy·w and Σ dy·w·x̂).
  reduce: ['sum', 'mean', 'max', 'min', 'variance', 'sumPair'],
} as const;

export type OpFamily = keyof typeof OP_CODES;
export type OpName<F extends OpFamily> = (typeof OP_CODES)[F][number];

/** The `OP` override value of `name` in `family`. */
export function opCode<F extends OpFamily>(family: F, name: OpName<F>): number {
  const code = (OP_CODES[family] as readonly string[]).indexOf(name);
  if (code < 0) throw new Error(`opCode: no ${family} op named '${name}'`);
  return code;
}

/** `powScalar` → `POW_SCALAR`. */
function upperSnake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** The WGSL constants of every family, e.g. `const UNARY_NEG: u32 = 0u;`. */
export function opCodesWgsl(): string {
  const lines = ['// Op codes, generated from packages/core/src/kernels/op_codes.ts.'];
  for (const [family, names] of Object.entries(OP_CODES)) {
    names.forEach((name, code) => lines.push(`const ${family.toUpperCase()}_${upperSnake(name)}: u32 = ${code}u;`));
  }
  return lines.join('\n');
}
