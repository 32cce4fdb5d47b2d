// The benchmark models in TensorFlow.js (NHWC), built with tf.layers to match welford's
// smallCnn() and preActResNet (ResNet-8, ResNet-18) layer for layer, and started from welford's weights.
// Layers are paired by order and checked by kind and shape, not by name.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { HostModule, HostTensor } from './welford_side.ts';

/**
 * A TF.js model and its layers that hold weights, in the order welford registers their
 * counterparts (so `copyWeights` can pair them one to one).
 */
export interface TfModel {
  model: tfl.LayersModel;
  weighted: tfl.layers.Layer[];
}

type Sym = tfl.SymbolicTensor;

/** Builds layers and remembers those with weights, in creation order. */
class Builder {
  readonly weighted: tfl.layers.Layer[] = [];

  private weightedLayer<L extends tfl.layers.Layer>(layer: L): L {
    this.weighted.push(layer);
    return layer;
  }

  /**
   * A k×k convolution without bias, PyTorch padding (k-1)/2. Strided, PyTorch pads both sides
   * and TF.js 'same' pads only the bottom/right, so an explicit zero-padding layer comes first.
   */
  conv(x: Sym, filters: number, kernelSize: number, stride: number): Sym {
    const pad = (kernelSize - 1) / 2;
    const explicit = stride > 1 && pad > 0;
    const input = explicit ? (tfl.layers.zeroPadding2d({ padding: pad }).apply(x) as Sym) : x;
    const layer = tfl.layers.conv2d({ filters, kernelSize, strides: stride, padding: explicit || pad === 0 ? 'valid' : 'same', useBias: false });
    return this.weightedLayer(layer).apply(input) as Sym;
  }

  /** PyTorch's BatchNorm2d defaults: new-batch weight 0.1 (TF.js momentum 0.9), eps 1e-5. */
  bn(x: Sym): Sym {
    return this.weightedLayer(tfl.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5 })).apply(x) as Sym;
  }

  relu(x: Sym): Sym {
    return tfl.layers.reLU().apply(x) as Sym;
  }

  /** Global average pooling, then the linear classifier. */
  head(x: Sym, classes: number): Sym {
    const pooled = tfl.layers.globalAveragePooling2d({}).apply(x) as Sym;
    return this.weightedLayer(tfl.layers.dense({ units: classes })).apply(pooled) as Sym;
  }
}

/** Model S: (conv{i} 3×3, bn{i}, relu{i}) × 3 at widths 16, 32, 32 and strides 1, 2, 1; global average pool; linear. */
export function tfModelS(imageSize: number, inChannels: number, classes: number): TfModel {
  const b = new Builder();
  const input = tfl.input({ shape: [imageSize, imageSize, inChannels] });
  let x: Sym = input;
  [16, 32, 32].forEach((width, i) => {
    x = b.relu(b.bn(b.conv(x, width, 3, i === 1 ? 2 : 1)));
  });
  return { model: tfl.model({ inputs: input, outputs: b.head(x, classes) }), weighted: b.weighted };
}

/**
 * A pre-activation block (He et al. 2016): conv2(relu(bn2(conv1(pre)))) + shortcut with
 * pre = relu(bn1(x)); the shortcut is x, or a strided 1×1 convolution of pre. Layers are
 * created in welford's order (bn1, relu1, conv1, bn2, relu2, conv2, shortcut; the ReLUs hold
 * no weights, so `copyWeights` pairs the others).
 */
function preActBlock(b: Builder, x: Sym, inPlanes: number, planes: number, stride: number): Sym {
  const pre = b.relu(b.bn(x));
  let h = b.conv(pre, planes, 3, stride);
  h = b.conv(b.relu(b.bn(h)), planes, 3, 1);
  const shortcut = stride !== 1 || inPlanes !== planes ? b.conv(pre, planes, 1, stride) : x;
  return tfl.layers.add().apply([h, shortcut]) as Sym;
}

/**
 * A pre-activation ResNet as welford's preActResNet({ blocks, width, ... }): conv1 3×3, then
 * blocks[i] pre-activation blocks of width·2^i planes per stage (the first of every stage after
 * the first with stride 2), the final BN and ReLU, global average pooling, dense. ResNet-8 is
 * blocks [1, 1, 1]; ResNet-18 [2, 2, 2, 2].
 */
export function tfPreActResNet(imageSize: number, inChannels: number, width: number, classes: number, blocks: readonly number[]): TfModel {
  const b = new Builder();
  const input = tfl.input({ shape: [imageSize, imageSize, inChannels] });
  let x = b.conv(input, width, 3, 1);
  let inPlanes = width;
  blocks.forEach((n, stage) => {
    const planes = 2 ** stage * width;
    for (let k = 0; k < n; k++) {
      x = preActBlock(b, x, inPlanes, planes, stage > 0 && k === 0 ? 2 : 1);
      inPlanes = planes;
    }
  });
  x = b.relu(b.bn(x));
  return { model: tfl.model({ inputs: input, outputs: b.head(x, classes) }), weighted: b.weighted };
}

/** OIHW (welford, PyTorch) → HWIO (TF.js). */
function oihwToHwio({ shape: [o, i, h, w], data }: HostTensor): tf.Tensor {
  const out = new Float32Array(data.length);
  for (let a = 0; a < o; a++)
    for (let b = 0; b < i; b++)
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[((y * w + x) * i + b) * o + a] = data[((a * i + b) * h + y) * w + x];
  return tf.tensor(out, [h, w, i, o]);
}

/** [out, in] (welford Linear) → [in, out] (TF.js Dense kernel). */
function transpose({ shape: [rows, cols], data }: HostTensor): tf.Tensor {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return tf.tensor(out, [cols, rows]);
}

/** What a welford module is, judged by its state (class names do not survive minification). */
function kindOf(m: HostModule): 'Conv2D' | 'BatchNormalization' | 'Dense' {
  const weight = m.tensors.get('weight');
  if (m.tensors.has('runningMean')) return 'BatchNormalization';
  if (weight?.shape.length === 4) return 'Conv2D';
  if (weight?.shape.length === 2) return 'Dense';
  throw new Error(`copyWeights: welford's '${m.path}' (state ${[...m.tensors.keys()].join(', ')}) has no TF.js counterpart here`);
}

/**
 * Sets every weight of the TF.js model from welford's state (convolution kernels OIHW → HWIO,
 * BN gamma/beta/moving statistics, the dense kernel transposed and its bias), pairing the
 * modules in order; throws when the two models do not line up kind for kind and shape for shape.
 */
export function copyWeights(tfModel: TfModel, state: readonly HostModule[]): void {
  const { weighted } = tfModel;
  if (weighted.length !== state.length) {
    throw new Error(`copyWeights: welford has ${state.length} modules with state (${state.map((m) => m.path).join(', ')}), the TF.js model ${weighted.length} layers with weights`);
  }
  state.forEach((m, i) => {
    const layer = weighted[i];
    const kind = kindOf(m);
    if (layer.getClassName() !== kind) throw new Error(`copyWeights: welford's '${m.path}' is a ${kind}, TF.js layer ${i} (${layer.name}) a ${layer.getClassName()}`);
    const get = (name: string): HostTensor => {
      const t = m.tensors.get(name);
      if (!t) throw new Error(`copyWeights: welford's '${m.path}' has no ${name}`);
      return t;
    };
    const vector = (name: string) => tf.tensor(get(name).data, [get(name).data.length]);
    const weights =
      kind === 'Conv2D'
        ? [oihwToHwio(get('weight'))]
        : kind === 'Dense'
          ? [transpose(get('weight')), vector('bias')]
          : [vector('weight'), vector('bias'), vector('runningMean'), vector('runningVar')];
    try {
      layer.setWeights(weights);
    } catch (e) {
      throw new Error(`copyWeights: welford's '${m.path}' does not fit TF.js layer ${layer.name}: ${(e as Error).message}`);
    } finally {
      tf.dispose(weights);
    }
  });
}
