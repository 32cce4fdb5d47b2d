// A consumer's TypeScript, type-checked with `tsc --noEmit --strict` against the installed
// declarations: the public types of every package, used as a user would.
export const CONSUMER_TYPES = `import { init, fromArray, matmul, SGD, AllocationError, type Tensor, type Backend, type Shape } from '@welford/core';
import { smallCnn, fit, Module, BatchNorm2d, saveSafetensors, type FitHistory, type StateDict } from '@welford/layers';
import { DataLoader, SyntheticShapes } from '@welford/data';
import { loadMnistDigits } from '@welford/data/node';
import { attachProbes } from '@welford/stats';
import { runCaseFile, type CaseFile } from '@welford/cli';

export async function train(): Promise<FitHistory> {
  const backend: Backend = await init();
  const shape: Shape = [2, 2];
  const c: Tensor = matmul(fromArray([1, 2, 3, 4], shape), fromArray([1, 0, 0, 1], shape));
  const values: Float32Array = await c.toArray();
  const model = smallCnn({ width: 8, classes: 4, norm: 'group', groups: 4 });
  const bn: Module = new BatchNorm2d(8);
  const bytes: Uint8Array = await saveSafetensors(model);
  const state: StateDict | undefined = undefined;
  const device: GPUDevice | undefined = undefined;
  void [backend, values, bn, bytes, state, device, AllocationError, DataLoader, SyntheticShapes, loadMnistDigits, attachProbes, runCaseFile];
  const files: CaseFile[] = [];
  void files;
  return fit(model, { train: [{ x: fromArray(new Float32Array(2 * 16 * 16), [2, 1, 16, 16]), y: fromArray([0, 1]) }], epochs: 1, optimizer: new SGD(model.parameters(), { lr: 0.1 }) });
}
`;

const STRICT = { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', skipLibCheck: false };

/**
 * The consumer's tsconfigs, strict, with Node's ESM resolution (exports and their "types"
 * conditions): the browser app without Node's types (core and layers must not need them), and a
 * Node program with them.
 */
export const CONSUMER_TSCONFIGS: Record<string, object> = {
  'tsconfig.browser.json': { compilerOptions: { ...STRICT, lib: ['es2022', 'dom'], types: [] }, files: ['src/main.ts'] },
  'tsconfig.node.json': { compilerOptions: { ...STRICT, lib: ['es2022', 'dom'], types: ['node'] }, files: ['types-check.ts'] },
};
