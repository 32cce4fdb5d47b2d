// conv2d (and its transpose) forward and backward on odd shapes with stride, padding, dilation
// and groups, WebGPU against the CPU reference, on each kind of kernel the device has.
import { conv2d, convTranspose2d, type Conv2dOptions, type ConvTranspose2dOptions, type Tensor } from '@welford/core';
// Which kernel kind runs a product is chosen per shape; forcing it reaches every shader.
import { convKernelChoice, convKernelsOn, type ConvKernel } from '../../../packages/core/src/kernels/conv2d.ts';
import { compareForwardBackward, operand, type Check, type CheckContext, type Operand, type Skip } from '../check.ts';

interface ConvCase {
  x: number[];
  weight: number[];
  options: Conv2dOptions & ConvTranspose2dOptions;
  bias?: boolean;
  transpose?: boolean;
}

const cases: ConvCase[] = [
  { x: [3, 5, 9, 7], weight: [4, 5, 3, 3], options: { padding: 1 }, bias: true },
  { x: [3, 5, 9, 7], weight: [6, 5, 3, 3], options: { stride: 2, padding: 1 }, bias: true },
  { x: [2, 4, 11, 9], weight: [6, 2, 3, 2], options: { stride: [2, 1], padding: [1, 0], dilation: [1, 2], groups: 2 }, bias: true },
  { x: [3, 6, 7, 9], weight: [6, 1, 3, 3], options: { stride: 3, padding: 2, dilation: 2, groups: 6 } },
  { x: [5, 3, 7, 7], weight: [7, 3, 1, 1], options: {} },
  { x: [2, 3, 5, 7], weight: [3, 2, 3, 3], options: { stride: 2, padding: 1, outputPadding: 1 }, bias: true, transpose: true },
];

const describe = (c: ConvCase): string => {
  const o = Object.entries(c.options).map(([k, v]) => `${k} ${JSON.stringify(v)}`);
  return `${c.transpose ? 'convTranspose2d' : 'conv2d'} x [${c.x}] w [${c.weight}]${o.length ? ', ' + o.join(', ') : ''}${c.bias ? ', bias' : ''}`;
};

function operandsOf(c: ConvCase, seed: number): Operand[] {
  const out = [operand(c.x, seed), operand(c.weight, seed + 1, 0.5)];
  const channels = c.transpose ? c.weight[1] * (c.options.groups ?? 1) : c.weight[0];
  if (c.bias) out.push(operand([channels], seed + 2));
  return out;
}

async function withKernel<T>(ctx: CheckContext, kernel: ConvKernel, fn: () => Promise<T>): Promise<T | Skip> {
  if (!convKernelsOn(ctx.gpu.traits).includes(kernel)) return { skip: 'the device has no subgroups' };
  convKernelChoice.force = kernel;
  try {
    return await fn();
  } finally {
    convKernelChoice.force = null;
  }
}

const KERNELS: ConvKernel[] = ['gemm', 'direct', 'subgroup'];

export const convChecks: Check[] = KERNELS.flatMap((kernel) =>
  cases.map((c, i) => ({
    name: `${describe(c)} (${kernel} kernels): forward and backward`,
    run: (ctx: CheckContext) =>
      withKernel(ctx, kernel, () => {
        const fn = (x: Tensor, w: Tensor, b?: Tensor) => (c.transpose ? convTranspose2d(x, w, { ...c.options, bias: b }) : conv2d(x, w, { ...c.options, bias: b }));
        return compareForwardBackward(ctx, fn, operandsOf(c, 10 * i));
      }),
  })),
);
