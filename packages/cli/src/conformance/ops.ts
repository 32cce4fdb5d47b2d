// One adapter per op of shared/CONFORMANCE.md: what the op takes (checked before anything runs)
// and how its PyTorch-named inputs and attributes map onto a welford call.
import {
  avgPool2d,
  batchNorm,
  batchRenorm,
  conv2d,
  crossEntropy,
  groupNorm,
  instanceNorm,
  layerNorm,
  linear,
  maxPool2d,
  relu,
  type Tensor,
} from '@welford/core';

/** Returns what was expected when `value` is not acceptable, null when it is. */
export type AttrCheck = (value: unknown) => string | null;

export interface InputSpec {
  readonly required: boolean;
  /** Has a gradient (`grad.<name>` may be expected). */
  readonly differentiable: boolean;
  /** Updated in place by the op (its value after the call may be expected). */
  readonly updated?: boolean;
}

export interface OpSignature {
  readonly inputs: Readonly<Record<string, InputSpec>>;
  /** PyTorch's attribute names; a name missing here is an error in the case file. */
  readonly attrs: Readonly<Record<string, AttrCheck>>;
  /** Rules between attributes and inputs; each returned string is a problem. */
  readonly check?: (c: { readonly inputs: Readonly<Record<string, HostTensor>>; readonly attrs: Readonly<Record<string, unknown>> }) => string[];
}

/** A tensor's shape and values as the case file gives them. */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

/** What a case gives an adapter: its inputs as tensors, its attributes and its inputs' values. */
export interface OpCall {
  readonly tensors: Readonly<Record<string, Tensor>>;
  readonly attrs: Readonly<Record<string, unknown>>;
  readonly hostInputs: Readonly<Record<string, HostTensor>>;
}

export interface OpAdapter extends OpSignature {
  run(call: OpCall): Tensor;
}

/** A case asks for an option that welford's op does not offer. */
export class UnsupportedError extends Error {
  override name = 'UnsupportedError';
}

// ---- attribute checks --------------------------------------------------------------------------

const isInt = (v: unknown): v is number => Number.isInteger(v);
const boolean: AttrCheck = (v) => (typeof v === 'boolean' ? null : 'true or false');
const number: AttrCheck = (v) => (typeof v === 'number' && Number.isFinite(v) ? null : 'a number');
const atLeast = (min: number): AttrCheck => (v) => (typeof v === 'number' && v >= min && Number.isFinite(v) ? null : `a number >= ${min}`);
const nonNegative: AttrCheck = (v) => (typeof v === 'number' && v >= 0 && Number.isFinite(v) ? null : 'a non-negative number');
const integer: AttrCheck = (v) => (isInt(v) ? null : 'an integer');
const positiveInt: AttrCheck = (v) => (isInt(v) && v > 0 ? null : 'a positive integer');
const nullable = (check: AttrCheck): AttrCheck => (v) => (v === null ? null : check(v) && `${check(v)} or null`);
/** An int or a list of one or two ints (PyTorch's _pair), each at least `min`. */
const size2 = (min: number): AttrCheck => (v) => {
  const ok = (x: unknown) => isInt(x) && x >= min;
  if (ok(v) || (Array.isArray(v) && (v.length === 1 || v.length === 2) && v.every(ok))) return null;
  return `an integer >= ${min} or a list of two`;
};
const intList: AttrCheck = (v) => {
  if (isInt(v) && v > 0) return null;
  return Array.isArray(v) && v.length > 0 && v.every((x) => isInt(x) && x > 0) ? null : 'a positive integer or a non-empty list of them';
};
const oneOf = (...values: unknown[]): AttrCheck => (v) => (values.includes(v) ? null : `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
const either = (a: AttrCheck, b: AttrCheck): AttrCheck => (v) => (a(v) === null || b(v) === null ? null : `${a(v)}, or ${b(v)}`);

// ---- attribute values --------------------------------------------------------------------------

/** A 2-D size as welford's ops take it: one number for both dimensions, or [height, width]. */
type Pair = number | [number, number];

/** PyTorch's int or [a, b] as a Pair; a list of one int is that int. */
function pair(v: unknown): Pair {
  if (Array.isArray(v)) return v.length === 1 ? (v[0] as number) : [v[0] as number, v[1] as number];
  return v as number;
}

function pairOf(v: unknown): [number, number] {
  const p = pair(v);
  return typeof p === 'number' ? [p, p] : p;
}

function attr<T>(attrs: Readonly<Record<string, unknown>>, name: string, fallback: T): T {
  return name in attrs ? (attrs[name] as T) : fallback;
}

/** Fails the case when an attribute asks for what welford does not offer. */
function requireDefault(op: string, attrs: Readonly<Record<string, unknown>>, name: string, isDefault: (v: unknown) => boolean, why: string): void {
  if (name in attrs && !isDefault(attrs[name])) {
    throw new UnsupportedError(`${op}: ${name}=${JSON.stringify(attrs[name])} is not supported: ${why}`);
  }
}

// ---- adapters ----------------------------------------------------------------------------------

const INPUT: InputSpec = { required: true, differentiable: true };
const OPTIONAL: InputSpec = { required: false, differentiable: true };
const RUNNING: InputSpec = { required: false, differentiable: false, updated: true };
const RUNNING_REQUIRED: InputSpec = { required: true, differentiable: false, updated: true };

interface AffineOptions {
  weight?: Tensor;
  bias?: Tensor;
  eps?: number;
}

/** weight, bias and eps, present only where the case gives them (the op's defaults otherwise). */
function affine({ tensors, attrs }: OpCall): AffineOptions {
  return {
    ...(tensors.weight ? { weight: tensors.weight } : {}),
    ...(tensors.bias ? { bias: tensors.bias } : {}),
    ...('eps' in attrs ? { eps: attrs.eps as number } : {}),
  };
}

interface RunningOptions {
  runningMean?: Tensor;
  runningVar?: Tensor;
  training: boolean;
  momentum: number | null;
}

function running({ tensors, attrs }: OpCall): RunningOptions {
  return {
    ...(tensors.running_mean ? { runningMean: tensors.running_mean } : {}),
    ...(tensors.running_var ? { runningVar: tensors.running_var } : {}),
    training: attr(attrs, 'training', false),
    momentum: attr<number | null>(attrs, 'momentum', 0.1),
  };
}

/** max_pool2d and avg_pool2d read stride None or [] as kernel_size, as PyTorch does. */
function poolStride(attrs: Readonly<Record<string, unknown>>): Pair {
  const stride = attrs.stride;
  return stride === undefined || stride === null || (Array.isArray(stride) && stride.length === 0) ? pair(attrs.kernel_size) : pair(stride);
}

const emptyOrSize2: AttrCheck = (v) => (Array.isArray(v) && v.length === 0 ? null : nullable(size2(1))(v));

/** conv2d's padding: ints, or PyTorch's 'valid' and 'same' (stride 1; symmetric padding only). */
function convPadding({ tensors, attrs }: OpCall): Pair {
  const padding = attrs.padding ?? 0;
  if (padding === 'valid') return 0;
  if (padding !== 'same') return pair(padding);
  if (pairOf(attrs.stride ?? 1).some((s) => s !== 1)) throw new UnsupportedError(`conv2d: padding='same' needs stride 1 (as in PyTorch), got stride ${JSON.stringify(attrs.stride)}`);
  const dilation = pairOf(attrs.dilation ?? 1);
  const kernel = tensors.weight.shape.slice(2);
  const total = kernel.map((k, i) => dilation[i] * (k - 1));
  if (total.some((t) => t % 2 !== 0)) {
    throw new UnsupportedError(`conv2d: padding='same' with kernel ${JSON.stringify(kernel)} and dilation ${JSON.stringify(dilation)} pads unevenly, which conv2d's symmetric padding cannot express`);
  }
  return [total[0] / 2, total[1] / 2];
}

export const conformanceOps: Readonly<Record<string, OpAdapter>> = {
  batch_norm: {
    inputs: { input: INPUT, weight: OPTIONAL, bias: OPTIONAL, running_mean: RUNNING, running_var: RUNNING },
    // momentum null is torch.nn.BatchNorm's cumulative average; num_batches_tracked is then the count after this call.
    attrs: { training: boolean, momentum: nullable(number), eps: nonNegative, num_batches_tracked: positiveInt },
    check: ({ attrs: a }) => (a.momentum === null && a.training === true && !('num_batches_tracked' in a) ? ['attrs: momentum null (a cumulative average) needs num_batches_tracked (the count after this call)'] : []),
    run: (call) => {
      const tracked = call.attrs.num_batches_tracked;
      return batchNorm(call.tensors.input, {
        ...running(call),
        ...affine(call),
        ...(tracked !== undefined ? { numBatchesTracked: tracked as number } : {}),
      });
    },
  },
  batch_renorm: {
    inputs: { input: INPUT, weight: INPUT, bias: INPUT, running_mean: RUNNING_REQUIRED, running_var: RUNNING_REQUIRED },
    attrs: { training: boolean, momentum: number, eps: nonNegative, rmax: atLeast(1), dmax: nonNegative },
    // batchRenorm takes the clipping bounds even in evaluation, where they have no effect.
    check: ({ attrs: a }) => ['rmax', 'dmax'].filter((k) => !(k in a)).map((k) => `attrs.${k} is missing`),
    run: (call) => {
      const { input, weight, bias, running_mean, running_var } = call.tensors;
      return batchRenorm(input, {
        runningMean: running_mean,
        runningVar: running_var,
        weight,
        bias,
        training: attr(call.attrs, 'training', false),
        momentum: attr(call.attrs, 'momentum', 0.1),
        eps: attr(call.attrs, 'eps', 1e-5),
        rmax: call.attrs.rmax as number,
        dmax: call.attrs.dmax as number,
      });
    },
  },
  group_norm: {
    inputs: { input: INPUT, weight: OPTIONAL, bias: OPTIONAL },
    attrs: { num_groups: positiveInt, eps: nonNegative },
    check: ({ attrs: a }) => ('num_groups' in a ? [] : ['attrs.num_groups is missing']),
    run: (call) => groupNorm(call.tensors.input, call.attrs.num_groups as number, affine(call)),
  },
  layer_norm: {
    inputs: { input: INPUT, weight: OPTIONAL, bias: OPTIONAL },
    attrs: { normalized_shape: intList, eps: nonNegative },
    check: ({ attrs: a }) => ('normalized_shape' in a ? [] : ['attrs.normalized_shape is missing']),
    run: (call) => {
      const shape = call.attrs.normalized_shape;
      return layerNorm(call.tensors.input, Array.isArray(shape) ? shape : [shape as number], affine(call));
    },
  },
  instance_norm: {
    inputs: { input: INPUT, weight: OPTIONAL, bias: OPTIONAL },
    // Without running statistics momentum has no effect; statistics always come from the input.
    attrs: { eps: nonNegative, momentum: number, use_input_stats: boolean },
    run: (call) => {
      requireDefault('instance_norm', call.attrs, 'use_input_stats', (v) => v === true, 'without running statistics the statistics come from the input');
      return instanceNorm(call.tensors.input, affine(call));
    },
  },
  conv2d: {
    inputs: { input: INPUT, weight: INPUT, bias: OPTIONAL },
    attrs: { stride: size2(1), padding: either(size2(0), oneOf('same', 'valid')), dilation: size2(1), groups: positiveInt },
    run: (call) => {
      const { tensors, attrs } = call;
      return conv2d(tensors.input, tensors.weight, {
        ...(tensors.bias ? { bias: tensors.bias } : {}),
        stride: pair(attrs.stride ?? 1),
        padding: convPadding(call),
        dilation: pair(attrs.dilation ?? 1),
        groups: attr(attrs, 'groups', 1),
      });
    },
  },
  linear: {
    inputs: { input: INPUT, weight: INPUT, bias: OPTIONAL },
    attrs: {},
    run: ({ tensors }) => linear(tensors.input, tensors.weight, tensors.bias),
  },
  relu: {
    inputs: { input: INPUT },
    // In place or not, the values and the gradient are the same.
    attrs: { inplace: boolean },
    run: ({ tensors }) => relu(tensors.input),
  },
  max_pool2d: {
    inputs: { input: INPUT },
    attrs: { kernel_size: size2(1), stride: emptyOrSize2, padding: size2(0), dilation: size2(1), ceil_mode: boolean, return_indices: boolean },
    check: ({ attrs: a }) => ('kernel_size' in a ? [] : ['attrs.kernel_size is missing']),
    run: ({ tensors, attrs }) => {
      requireDefault('max_pool2d', attrs, 'dilation', (v) => pairOf(v).every((d) => d === 1), 'maxPool2d has no dilation');
      requireDefault('max_pool2d', attrs, 'ceil_mode', (v) => v === false, 'maxPool2d rounds the output size down');
      requireDefault('max_pool2d', attrs, 'return_indices', (v) => v === false, 'the runner compares values only');
      return maxPool2d(tensors.input, { kernelSize: pair(attrs.kernel_size), stride: poolStride(attrs), padding: pair(attrs.padding ?? 0) });
    },
  },
  avg_pool2d: {
    inputs: { input: INPUT },
    attrs: {
      kernel_size: size2(1),
      stride: emptyOrSize2,
      padding: size2(0),
      ceil_mode: boolean,
      count_include_pad: boolean,
      divisor_override: nullable(positiveInt),
    },
    check: ({ attrs: a }) => ('kernel_size' in a ? [] : ['attrs.kernel_size is missing']),
    run: ({ tensors, attrs }) => {
      requireDefault('avg_pool2d', attrs, 'ceil_mode', (v) => v === false, 'avgPool2d rounds the output size down');
      requireDefault('avg_pool2d', attrs, 'divisor_override', (v) => v === null, 'avgPool2d divides by the window size');
      return avgPool2d(tensors.input, {
        kernelSize: pair(attrs.kernel_size),
        stride: poolStride(attrs),
        padding: pair(attrs.padding ?? 0),
        countIncludePad: attr(attrs, 'count_include_pad', true),
      });
    },
  },
  cross_entropy: {
    inputs: { input: INPUT, target: { required: true, differentiable: false } },
    attrs: { reduction: oneOf('mean', 'sum', 'none'), ignore_index: integer, label_smoothing: number },
    // The GPU kernel clamps class indices, so a target out of range is caught here, not read as another class.
    check: ({ inputs: { input, target } }) => {
      if (!input || !target || input.shape.length !== 2) return [];
      const classes = input.shape[1];
      const bad = target.data.findIndex((k) => k >= classes);
      return bad < 0 ? [] : [`inputs.target[${bad}] = ${target.data[bad]} is not a class index of input [${input.shape.join(', ')}] (0 to ${classes - 1})`];
    },
    run: ({ tensors, attrs, hostInputs }) => {
      requireDefault('cross_entropy', attrs, 'reduction', (v) => v === 'mean', "crossEntropy takes the mean (reduction 'mean')");
      requireDefault('cross_entropy', attrs, 'label_smoothing', (v) => v === 0, 'crossEntropy has no label smoothing');
      const ignored = attr(attrs, 'ignore_index', -100);
      const i = hostInputs.target.data.indexOf(ignored);
      if (i >= 0) throw new UnsupportedError(`cross_entropy: target[${i}] is ignore_index (${ignored}); crossEntropy ignores no targets`);
      return crossEntropy(tensors.input, tensors.target);
    },
  },
};
