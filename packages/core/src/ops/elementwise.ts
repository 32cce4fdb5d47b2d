import { Tensor } from '../tensor/tensor.ts';
import { getBackend } from '../tensor/engine.ts';
import { binaryProgram, fillProgram, unaryProgram } from '../kernels/elementwise.ts';
import type { OpName } from '../kernels/op_codes.ts';
import { binaryReference, unaryReference } from '../reference/elementwise.ts';
import { assertRankAtMost, assertValidShape, broadcastShapes, type Shape } from '../util/shape.ts';
import type { Backend } from '../backend/backend.ts';
import type { BackwardContext } from './op_def.ts';
import { runOp } from './dispatch.ts';
import { fuseEpilogue } from './fusion.ts';
import { registerOp } from './registry.ts';
import { sumToShape } from './reduce_grad.ts';

interface ScalarAttrs {
  alpha: number;
  beta: number;
}

type Grad = (ctx: BackwardContext<ScalarAttrs>) => Tensor;

interface UnarySpec {
  name: OpName<'unary'>;
  cpu: (v: number, attrs: ScalarAttrs) => number;
  /** Gradient of the input; null marks the op as not differentiable. */
  grad: Grad | null;
}

const unaries: UnarySpec[] = [
  { name: 'neg', cpu: (v) => -v, grad: ({ grad }) => neg(grad) },
  { name: 'exp', cpu: Math.exp, grad: ({ grad, output }) => mul(grad, output) },
  { name: 'log', cpu: Math.log, grad: ({ grad, inputs }) => div(grad, inputs[0]) },
  { name: 'sqrt', cpu: Math.sqrt, grad: ({ grad, output }) => div(mul(grad, 0.5), output) },
  // d/dx x^(-1/2) = -1/2 x^(-3/2) = -1/2 y^3
  { name: 'rsqrt', cpu: (v) => 1 / Math.sqrt(v), grad: ({ grad, output }) => mul(grad, mul(powScalar(output, 3), -0.5)) },
  // A NaN stays NaN, as in PyTorch.
  { name: 'relu', cpu: (v) => (v < 0 ? 0 : v === 0 ? 0 : v), grad: ({ grad, inputs }) => mul(grad, step(inputs[0])) },
  { name: 'sigmoid', cpu: (v) => 1 / (1 + Math.exp(-v)), grad: ({ grad, output }) => mul(grad, mul(output, affine(output, -1, 1))) },
  { name: 'tanh', cpu: Math.tanh, grad: ({ grad, output }) => mul(grad, affine(square(output), -1, 1)) },
  { name: 'abs', cpu: Math.abs, grad: ({ grad, inputs }) => mul(grad, sign(inputs[0])) },
  { name: 'square', cpu: (v) => v * v, grad: ({ grad, inputs }) => mul(grad, mul(inputs[0], 2)) },
  { name: 'affine', cpu: (v, a) => a.alpha * v + a.beta, grad: ({ grad, attrs }) => mul(grad, attrs.alpha) },
  {
    name: 'powScalar',
        cpu: (v, a) => Math.pow(v, a.alpha),
    grad: ({ grad, inputs, attrs }) => (attrs.alpha === 0 ? mul(grad, 0) : mul(grad, mul(powScalar(inputs[0], attrs.alpha - 1), attrs.alpha))),
  },
  { name: 'step', cpu: (v) => (v > 0 ? 1 : 0), grad: null },
  { name: 'sign', cpu: (v) => Math.sign(v), grad: null },
];

for (const spec of unaries) {
  registerOp<ScalarAttrs>({
    name: spec.name,
    shape: ([x]) => x,
    cpu: ([x], out, attrs) => unaryReference((v) => spec.cpu(v, attrs), x, out),
    gpu: ([x], out, attrs) => [unaryProgram(spec.name, x, out, attrs.alpha, attrs.beta)],
    backward: spec.grad ? (ctx) => [spec.grad!(ctx)] : null,
  });
}

const NO_SCALARS: ScalarAttrs = { alpha: 0, beta: 0 };
const unary = (name: string) => (x: Tensor): Tensor => runOp(name, [x], NO_SCALARS);

/** -x */
export const neg = unary('neg');
/** e^x */
export const exp = unary('exp');
/** Natural logarithm. */
export const log = unary('log');
export const sqrt = unary('sqrt');
/** 1 / sqrt(x) */
export const rsqrt = unary('rsqrt');
/**
 * max(x, 0); the gradient at 0 is 0, as in PyTorch. Applied to the output of a normalization
 * that nothing else has read yet, it runs as the normalization's own kernel pass with the ReLU
 * fused (see `fuseEpilogue`), forward and backward.
 */
export function relu(x: Tensor): Tensor {
  return fuseEpilogue('relu', x) ?? runOp('relu', [x], NO_SCALARS);
}
export const sigmoid = unary('sigmoid');
export const tanh = unary('tanh');
export const abs = unary('abs');
/** x² */
export const square = unary('square');
/** 1 where x > 0, else 0 (not differentiable). */
export const step = unary('step');
/** -1, 0 or 1 (not differentiable). */
export const sign = unary('sign');

/** alpha · x + beta, one dispatch. */
export function affine(x: Tensor, alpha: number, beta: number): Tensor {
  return runOp<ScalarAttrs>('affine', [x], { alpha, beta });
}

/** x^p for a number p (PyTorch's meaning for negative x and integral p). */
export function powScalar(x: Tensor, p: number): Tensor {
  return runOp<ScalarAttrs>('powScalar', [x], { alpha: p, beta: 0 });
}

interface BinarySpec {
  name: OpName<'binary'>;
  cpu: (u: number, v: number) => number;
  /** Gradients of a and b before reduction to their shapes; null: not differentiable. */
  grad: ((g: Tensor, a: Tensor, b: Tensor, out: Tensor) => [Tensor | null, Tensor | null]) | null;
}

const binaries: BinarySpec[] = [
  { name: 'add', cpu: (u, v) => u + v, grad: (g) => [g, g] },
  { name: 'sub', cpu: (u, v) => u - v, grad: (g) => [g, neg(g)] },
  { name: 'mul', cpu: (u, v) => u * v, grad: (g, a, b) => [mul(g, b), mul(g, a)] },
  { name: 'div', cpu: (u, v) => u / v, grad: (g, a, b, out) => [div(g, b), neg(div(mul(g, out), b))] },
  {
    name: 'pow',
        cpu: Math.pow,
    // d/da = b·a^(b-1); d/db = a^b·ln a, taken as 0 where a = 0 and b >= 0 (PyTorch's convention).
    grad: (g, a, b, out) => [
      mul(g, mul(b, pow(a, sub(b, 1)))),
      mul(g, mul(out, mul(log(add(abs(a), eq(a, 0))), sub(1, mul(eq(a, 0), ge(b, 0)))))),
    ],
  },
  // Ties split the gradient equally between the inputs, as PyTorch's maximum/minimum do.
  { name: 'maximum', cpu: Math.max, grad: (g, a, b) => tieSplit(g, gt(a, b), eq(a, b)) },
  { name: 'minimum', cpu: Math.min, grad: (g, a, b) => tieSplit(g, lt(a, b), eq(a, b)) },
  { name: 'eq', cpu: (u, v) => (u === v ? 1 : 0), grad: null },
  { name: 'gt', cpu: (u, v) => (u > v ? 1 : 0), grad: null },
  { name: 'ge', cpu: (u, v) => (u >= v ? 1 : 0), grad: null },
  { name: 'lt', cpu: (u, v) => (u < v ? 1 : 0), grad: null },
  { name: 'le', cpu: (u, v) => (u <= v ? 1 : 0), grad: null },
];

function tieSplit(g: Tensor, wins: Tensor, ties: Tensor): [Tensor, Tensor] {
  const share = add(wins, mul(ties, 0.5));
  return [mul(g, share), mul(g, affine(share, -1, 1))];
}

for (const spec of binaries) {
  registerOp<Record<string, never>>({
    name: spec.name,
    shape: ([a, b]) => {
      const out = broadcastShapes(spec.name, a, b);
      assertRankAtMost(spec.name, out);
      return out;
    },
    cpu: ([a, b], out) => binaryReference(spec.cpu, a, b, out),
    gpu: ([a, b], out) => [binaryProgram(spec.name, a, b, out)],
    backward: spec.grad
      ? ({ grad, inputs: [a, b], output }) => {
          const [ga, gb] = spec.grad!(grad, a, b, output);
          return [ga && sumToShape(ga, a.shape), gb && sumToShape(gb, b.shape)];
        }
      : null,
  });
}

type Operand = Tensor | number;

/** Applies a binary op; a number operand becomes a one-element tensor on the other's device. */
function binary(name: string, a: Operand, b: Operand): Tensor {
  if (typeof a === 'number' && typeof b === 'number') throw new Error(`${name}: at least one operand must be a tensor`);
  const backend = (typeof a === 'number' ? (b as Tensor) : a).backend;
  return runOp(name, [toTensor(a, backend), toTensor(b, backend)], {});
}

function toTensor(v: Operand, backend: Backend): Tensor {
  return typeof v === 'number' ? full([], v, backend) : v;
}

/** a + b with broadcasting. A number operand costs no extra dispatch. */
export function add(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number' && a instanceof Tensor) return affine(a, 1, b);
  if (typeof a === 'number' && b instanceof Tensor) return affine(b, 1, a);
  return binary('add', a, b);
}

/** a - b with broadcasting. */
export function sub(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number' && a instanceof Tensor) return affine(a, 1, -b);
  if (typeof a === 'number' && b instanceof Tensor) return affine(b, -1, a);
  return binary('sub', a, b);
}

/** a · b with broadcasting. */
export function mul(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number' && a instanceof Tensor) return affine(a, b, 0);
  if (typeof a === 'number' && b instanceof Tensor) return affine(b, a, 0);
  return binary('mul', a, b);
}

/** a / b with broadcasting. */
export function div(a: Operand, b: Operand): Tensor {
  return binary('div', a, b);
}

/** a^b with broadcasting (PyTorch's meaning for negative bases). */
export function pow(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number' && a instanceof Tensor) return powScalar(a, b);
  return binary('pow', a, b);
}

/** Elementwise maximum (torch.maximum). */
export const maximum = (a: Operand, b: Operand): Tensor => binary('maximum', a, b);
/** Elementwise minimum (torch.minimum). */
export const minimum = (a: Operand, b: Operand): Tensor => binary('minimum', a, b);
/** 1 where a == b, else 0. */
export const eq = (a: Operand, b: Operand): Tensor => binary('eq', a, b);
export const gt = (a: Operand, b: Operand): Tensor => binary('gt', a, b);
export const ge = (a: Operand, b: Operand): Tensor => binary('ge', a, b);
export const lt = (a: Operand, b: Operand): Tensor => binary('lt', a, b);
export const le = (a: Operand, b: Operand): Tensor => binary('le', a, b);

interface FillAttrs {
  shape: Shape;
  value: number;
}

registerOp<FillAttrs>({
  name: 'fill',
  shape: (_, { shape }) => {
    assertValidShape('fill', shape);
    return shape;
  },
  cpu: (_, out, { value }) => out.data.fill(value),
  gpu: (_, out, { value }) => [fillProgram(out, value)],
  backward: null,
});

/** A tensor of `shape` filled with `value`. */
export function full(shape: Shape, value: number, backend: Backend = getBackend()): Tensor {
  return runOp<FillAttrs>('fill', [], { shape, value }, backend);
}
