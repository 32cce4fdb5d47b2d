import { SGD, crossEntropy, fromArray, noGrad, randn, sizeOf, tidy } from '@welford/core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AnyModule } from '../src/module/module.ts';
import {
  BasicBlock,
  PostActResNet,
  PreActBlock,
  PreActBottleneck,
  PreActResNet,
  UNet,
  postActResNet,
  preActResNet,
  preActResNet18,
  smallCnn,
  smallCnnStages,
  uNet,
} from '../src/models/index.ts';
import { readFixture, useGpu } from './helpers.ts';

// Parameter counts, state-dict sizes and blocks per stage of the same configurations in
// PyTorch, from scripts/fixtures/layers_models.py.
interface Counts {
  parameters: number;
  stateKeys: number;
  blocks: number[] | null;
}
const counts = readFixture<Record<string, Counts>>('models_counts.json');

function parameterCount(m: AnyModule): number {
  return m.parameters().reduce((n, p) => n + sizeOf(p.shape), 0);
}

/** Builds a model, compares its size with PyTorch's, and frees it. */
function expectCounts(key: string, model: PreActResNet | PostActResNet | UNet | AnyModule): void {
  const want = counts[key];
  expect(parameterCount(model), `${key} parameters`).toBe(want.parameters);
  expect(model.stateEntries().length, `${key} state entries`).toBe(want.stateKeys);
  if (want.blocks) {
    const r = model as PreActResNet;
    expect(r.stages.map((stage) => stage.length), `${key} blocks`).toEqual(want.blocks);
  }
  model.dispose();
}

beforeAll(async () => {
  await useGpu();
});

describe('ResNets', () => {
  it('depths 14, 20, 56 have the blocks and parameters of PyTorch', () => {
    expectCounts('preact-basic-14', preActResNet({ depth: 14 }));
    expectCounts('preact-basic-20', preActResNet({ depth: 20 }));
    expectCounts('preact-basic-56', preActResNet({ depth: 56 }));
    expectCounts('preact-basic-20-cifar-group', preActResNet({ depth: 20, inChannels: 3, norm: 'group', groups: 8 }));
    expectCounts('preact-basic-20-none', preActResNet({ depth: 20, norm: 'none' }));
    expectCounts('preact-bottleneck-29', preActResNet({ depth: 29, block: 'bottleneck' }));
    expectCounts('postact-basic-20', postActResNet({ depth: 20 }));
    expectCounts('postact-bottleneck-11', postActResNet({ depth: 11, block: 'bottleneck' }));
  });

  it('has PyTorch-style names: blocks, their norms as bn*, projection shortcuts where the shape changes', () => {
    const pre = preActResNet({ depth: 14, width: 4 });
    const names = Object.keys(pre.stateDict());
    expect(names).toContain('layer1.1.bn2.runningMean');
    expect(names).toContain('layer2.0.shortcut.weight');
    expect(names).toContain('bn.numBatchesTracked');
    expect(names.some((n) => n.startsWith('layer1.0.shortcut') || n.startsWith('layer2.1.shortcut'))).toBe(false);
    expect(pre.layer2.at(0)).toBeInstanceOf(PreActBlock);
    pre.dispose();
    const post = postActResNet({ depth: 8, width: 4 });
    expect(Object.keys(post.stateDict())).toEqual(expect.arrayContaining(['bn1.weight', 'layer3.0.shortcut.0.weight', 'layer3.0.shortcut.1.runningVar', 'fc.bias']));
    expect(post.layer1.at(0)).toBeInstanceOf(BasicBlock);
    post.dispose();
    const bottleneck = preActResNet({ depth: 11, width: 2, block: 'bottleneck' });
    expect(bottleneck.layer1.at(0)).toBeInstanceOf(PreActBottleneck);
    expect(bottleneck.fc.inFeatures).toBe(32); // 4 · width · expansion 4
    bottleneck.dispose();
  });

  it('classify 28×28 and 32×32 inputs (any size)', async () => {
    for (const [make, shape] of [
      [() => preActResNet({ depth: 8, width: 4 }), [2, 1, 28, 28]],
      [() => postActResNet({ depth: 8, width: 4, inChannels: 3, classes: 5 }), [2, 3, 32, 32]],
      [() => preActResNet({ depth: 11, width: 2, block: 'bottleneck', norm: 'group', groups: 2 }), [1, 1, 9, 7]],
    ] as const) {
      const model = make();
      const out = tidy(() => noGrad(() => model.call(randn([...shape]))));
      expect(out.shape).toEqual([shape[0], model.fc.outFeatures]);
      expect(Array.from(await out.toArray()).every(Number.isFinite)).toBe(true);
      out.dispose();
      model.dispose();
    }
  });

  it('reject a depth that is not 6n+2 (basic) or 9n+2 (bottleneck), and bad options', () => {
    expect(() => preActResNet({ depth: 10 })).toThrow('PreActResNet: depth must be 6n+2 with n ≥ 1 for basic blocks (8, 14, 20, 56, 110, ...), got 10');
    expect(() => preActResNet({ depth: 2 })).toThrow(/depth must be 6n\+2 with n ≥ 1/);
    expect(() => preActResNet({ depth: 8.5 })).toThrow(/got 8\.5/);
    expect(() => preActResNet({ depth: 14, block: 'bottleneck' })).toThrow('PreActResNet: depth must be 9n+2 with n ≥ 1 for bottleneck blocks (11, 20, 29, 56, 110, ...), got 14');
    expect(() => postActResNet({ depth: 12 })).toThrow(/^PostActResNet: depth must be 6n\+2/);
    expect(() => preActResNet({ depth: 8, block: 'wide' as 'basic' })).toThrow(`PreActResNet: block must be 'basic' or 'bottleneck', got "wide"`);
    expect(() => preActResNet({ depth: 8, width: 0 })).toThrow('PreActResNet: width must be a positive integer, got 0');
  });

  it('ResNet-18: four stages of two blocks (64, 128, 256, 512 planes), 11.2M parameters as in PyTorch', () => {
    expectCounts('preact-resnet18', preActResNet18());
    expectCounts('preact-resnet18', preActResNet({ depth: 18, blocks: [2, 2, 2, 2], width: 64, inChannels: 3 }));
    const model = preActResNet18({ width: 4 });
    expect(model.stages.length).toBe(4);
    expect(model.layer4).toBe(model.stages[3]);
    expect(model.layer4?.at(0)).toBeInstanceOf(PreActBlock);
    expect(model.stages.map((s) => (s.at(0) as PreActBlock).stride)).toEqual([1, 2, 2, 2]);
    expect(model.stages.map((s) => (s.at(1) as PreActBlock).planes)).toEqual([4, 8, 16, 32]);
    expect(model.fc.inFeatures).toBe(32);
    expect(model.extraRepr()).toBe('depth=18, block=basic, blocks=[2, 2, 2, 2]');
    const names = Object.keys(model.stateDict());
    expect(names).toEqual(expect.arrayContaining(['conv1.weight', 'layer4.0.shortcut.weight', 'layer4.1.bn2.runningVar', 'bn.weight', 'fc.bias']));
    expect(names.some((n) => n.startsWith('layer1.0.shortcut') || n.startsWith('layer5'))).toBe(false);
    model.dispose();
    const cifar = preActResNet({ depth: 14, width: 4 });
    expect(cifar.layer4).toBeNull();
    expect(cifar.stages.length).toBe(3);
    expect(cifar.extraRepr()).toBe('depth=14, block=basic');
    cifar.dispose();
  });

  it('ResNet-18 classifies [2, 3, 32, 32] and takes a training step', async () => {
    const model = preActResNet18({ width: 4, classes: 5 });
    const out = tidy(() => noGrad(() => model.call(randn([2, 3, 32, 32]))));
    expect(out.shape).toEqual([2, 5]);
    out.dispose();
    const x = randn([2, 3, 32, 32]);
    const y = fromArray(new Float32Array([1, 3]), [2]);
    const opt = new SGD(model.parameters(), { lr: 0.1 });
    const before = await (model.layer4!.at(1) as PreActBlock).conv2.weight.toArray();
    const loss = tidy(() => {
      const l = crossEntropy(model.call(x), y);
      l.backward();
      return l;
    });
    expect(Number.isFinite(await loss.item())).toBe(true);
    const grads = model.parameters().map((p) => p.grad);
    expect(grads.every((g) => g !== null)).toBe(true);
    opt.step();
    const after = await (model.layer4!.at(1) as PreActBlock).conv2.weight.toArray();
    expect(after).not.toEqual(before);
    for (const t of [loss, x, y]) t.dispose();
    opt.dispose();
    model.dispose();
  });

  it('post-activation ResNets take blocks too', async () => {
    const model = postActResNet({ depth: 10, blocks: [1, 1, 1, 1], width: 2, inChannels: 3 });
    expect(model.stages.map((s) => s.length)).toEqual([1, 1, 1, 1]);
    expect(Object.keys(model.stateDict())).toEqual(expect.arrayContaining(['layer4.0.shortcut.0.weight', 'layer4.0.shortcut.1.runningMean']));
    const out = tidy(() => noGrad(() => model.call(randn([1, 3, 16, 16]))));
    expect(out.shape).toEqual([1, 10]);
    expect(Array.from(await out.toArray()).every(Number.isFinite)).toBe(true);
    out.dispose();
    model.dispose();
  });

  it('reject blocks that are not 3 or 4 positive integers, or that disagree with the depth', () => {
    expect(() => preActResNet({ depth: 10, blocks: [2, 2] })).toThrow('PreActResNet: blocks must be 3 or 4 positive integers (blocks per stage, e.g. [2, 2, 2, 2]), got [2,2]');
    expect(() => preActResNet({ depth: 18, blocks: [2, 2, 0, 4] })).toThrow(/^PreActResNet: blocks must be 3 or 4 positive integers .*got \[2,2,0,4\]$/);
    expect(() => preActResNet({ depth: 18, blocks: [2, 1.5, 2, 2] })).toThrow(/blocks must be 3 or 4 positive integers/);
    expect(() => preActResNet({ depth: 20, blocks: [2, 2, 2, 2] })).toThrow('PreActResNet: depth must be 18 for blocks [2,2,2,2] of basic blocks (2 weighted layers per block, plus conv1 and fc), got 20');
    expect(() => postActResNet({ depth: 18, blocks: [2, 2, 2, 2], block: 'bottleneck' })).toThrow('PostActResNet: depth must be 26 for blocks [2,2,2,2] of bottleneck blocks (3 weighted layers per block, plus conv1 and fc), got 18');
  });

  it('name the failing layer when the input has the wrong channels', () => {
    const model = preActResNet({ depth: 8, width: 4 });
    expect(() => tidy(() => model.call(randn([2, 3, 8, 8])))).toThrow(/^conv1 \(Conv2d\): Conv2d: expected input with 1 channels \[N, 1, H, W\], got 3 channels/);
    model.dispose();
    const block = new PreActBlock(4, 8, { stride: 2 });
    expect(() => tidy(() => block.call(randn([2, 3, 8, 8])))).toThrow(/^bn1 \(BatchNorm2d\): .*4.*got/);
    block.dispose();
  });
});

describe('U-Net', () => {
  it('keeps odd heights and widths (the decoder pads to the skip connection)', async () => {
    for (const [options, shape, channels] of [
      [{ depth: 2, baseWidth: 2 }, [2, 1, 13, 11], 1],
      [{ depth: 3, baseWidth: 2, inChannels: 2, outChannels: 3, norm: 'group', groups: 2 }, [1, 2, 9, 17], 3],
      [{ depth: 3, baseWidth: 2, norm: 'none' }, [1, 1, 8, 8], 1],
    ] as const) {
      const model = uNet(options);
      const out = tidy(() => noGrad(() => model.call(randn([...shape]))));
      expect(out.shape).toEqual([shape[0], channels, shape[2], shape[3]]);
      expect(Array.from(await out.toArray()).every(Number.isFinite)).toBe(true);
      out.dispose();
      model.dispose();
    }
  });

  it('has the parameters and names of the PyTorch U-Net', () => {
    expectCounts('unet-default', uNet());
    expectCounts('unet-depth4-none', uNet({ depth: 4, baseWidth: 8, inChannels: 3, outChannels: 2, norm: 'none' }));
    const model = uNet({ depth: 2, baseWidth: 4 });
    expect(Object.keys(model.stateDict())).toEqual(
      expect.arrayContaining(['down.0.conv1.weight', 'down.1.norm2.runningMean', 'mid.conv2.weight', 'up.0.upconv.weight', 'up.1.upconv.bias', 'up.1.conv.norm1.weight', 'head.bias']),
    );
    expect(model.up.at(0).upconv.outChannels).toBe(8);
    model.dispose();
  });

  it('rejects inputs smaller than 2^depth and inputs that are not 4-D', () => {
    const model = uNet({ depth: 3, baseWidth: 2 });
    expect(() => tidy(() => model.call(randn([1, 1, 7, 16])))).toThrow('UNet: input height and width must be at least 2^depth = 8 (depth 3), got input of shape [1, 1, 7, 16]');
    expect(() => tidy(() => model.call(randn([1, 16, 16])))).toThrow('UNet: expected a 4-D input [N, C, H, W], got 3-D input of shape [1, 16, 16]');
    expect(() => tidy(() => model.call(randn([1, 2, 8, 8])))).toThrow(/^down\.0\.conv1 \(Conv2d\): Conv2d: expected input with 1 channels/);
    model.dispose();
    expect(() => uNet({ depth: 0 })).toThrow('UNet: depth must be a positive integer, got 0');
  });
});

describe('small CNN', () => {
  it('defaults to model S: three 3×3 conv-norm-ReLU stages (strides 1, 2, 1) and a linear head', async () => {
    const model = smallCnn();
    expectCounts('small-cnn-default', model);
    const again = smallCnn();
    const names = Object.keys(again.stateDict());
    expect(names).toEqual(expect.arrayContaining(['conv1.weight', 'bn1.runningMean', 'conv2.weight', 'bn3.bias', 'fc.weight']));
    expect(names).not.toContain('conv1.bias'); // the norm's shift replaces the conv bias
    expect(again.convs.length).toBe(3);
    const out = tidy(() => noGrad(() => again.call(randn([3, 1, 10, 9]))));
    expect(out.shape).toEqual([3, 10]);
    out.dispose();
    again.dispose();
  });

  it('gives the convolutions a bias when there is no norm, and rejects mismatched widths and strides', () => {
    const model = smallCnn({ norm: 'none', widths: [4, 4], strides: [2, 2] });
    expect(Object.keys(model.stateDict())).toEqual(expect.arrayContaining(['conv1.bias', 'conv2.bias']));
    model.dispose();
    expect(() => smallCnn({ widths: [8, 8], strides: [1] })).toThrow('SmallCnn: widths and strides must be non-empty arrays of the same length, got widths [8,8] and strides [1]');
    expect(() => smallCnn({ widths: [8, 0], strides: [1, 1] })).toThrow('SmallCnn: widths[1] must be a positive integer, got 0');
  });

  it('builds depth stages that double the channels each time a stride of 2 halves the image', () => {
    expect(smallCnnStages(3, 16)).toEqual({ widths: [16, 32, 32], strides: [1, 2, 1] });
    expect(smallCnnStages(5, 8)).toEqual({ widths: [8, 16, 16, 32, 32], strides: [1, 2, 1, 2, 1] });
    const model = smallCnn({ depth: 4, width: 6, norm: 'group', groups: 2 });
    expect(model.widths).toEqual([6, 12, 12, 24]);
    expect(model.strides).toEqual([1, 2, 1, 2]);
    expect(model.fc.weight.shape).toEqual([10, 24]);
    const out = tidy(() => noGrad(() => model.call(randn([2, 1, 13, 11]))));
    expect(out.shape).toEqual([2, 10]);
    out.dispose();
    model.dispose();
    expect(() => smallCnn({ depth: 0 })).toThrow('SmallCnn: depth must be a positive integer, got 0');
    expect(() => smallCnn({ widths: [4, 4], depth: 2 })).toThrow('SmallCnn: give either widths (and strides) or depth and width, not both');
  });
});
