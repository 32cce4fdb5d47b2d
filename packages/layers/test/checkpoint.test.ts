import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { add, batchNorm, fromArray, manualSeed, mul, randn, tidy, zeros, type Tensor } from '@welford/core';
import { Module } from '../src/module/module.ts';
import { Sequential } from '../src/module/sequential.ts';
import { Linear } from '../src/layers/linear.ts';
import { loadSafetensors, parseSafetensors, saveSafetensors, serializeSafetensors, toPyTorchName, type SafetensorsEntry } from '../src/checkpoint/index.ts';
import { expectClose, readFixture, readFixtureBytes, tensorOf, useGpu, type FixtureTensor } from './helpers.ts';

/** A module with a camelCase parameter, a buffer, a non-persistent buffer and a counter. */
class Scaler extends Module {
  readonly weightOrig: Tensor;
  readonly runningMean: Tensor;

  constructor(features: number) {
    super();
    this.weightOrig = this.registerParameter('weightOrig', randn([features]));
    this.runningMean = this.registerBuffer('runningMean', randn([features]));
    this.registerBuffer('scratch', zeros([features]), { persistent: false });
    this.registerCounter('numBatchesTracked', 0);
  }

  forward(x: Tensor): Tensor {
    return add(mul(x, this.weightOrig), this.runningMean);
  }

  get steps(): number {
    return this.counter('numBatchesTracked');
  }

  set steps(v: number) {
    this.setCounter('numBatchesTracked', v);
  }
}

class Net extends Module {
  readonly fc: Linear;
  readonly block: Sequential;

  constructor() {
    super();
    this.fc = this.registerModule('fc', new Linear(3, 4));
    this.block = this.registerModule('block', new Sequential(new Linear(4, 5, { bias: false }), new Scaler(5)));
  }

  forward(x: Tensor): Tensor {
    return this.block.call(this.fc.call(x));
  }

  get scaler(): Scaler {
    return this.block.namedChildren()[1][1] as Scaler;
  }
}

const FILE_KEYS = ['fc.weight', 'fc.bias', 'block.0.weight', 'block.1.weight_orig', 'block.1.running_mean', 'block.1.num_batches_tracked'];

function makeNet(seed: number, steps: number): Net {
  manualSeed(seed);
  const net = new Net();
  net.scaler.steps = steps;
  return net;
}

/** Every state value as bits, by name, so that "unchanged" and "identical" are exact. */
async function snapshot(m: Module): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [name, t] of Object.entries(m.stateDict())) {
    const a = await t.toArray();
    out[name] = [...new Uint32Array(a.buffer, a.byteOffset, a.length)];
  }
  return out;
}

async function forwardOf(net: Net): Promise<Float32Array> {
  const x = fromArray([0.5, -1, 2, 0.25, 3, -0.75], [2, 3]);
  const y = tidy(() => net.call(x));
  const values = await y.toArray();
  x.dispose();
  y.dispose();
  return values;
}

/** Rewrites a file's tensors (e.g. drops or renames one) and serializes it again. */
function rewrite(bytes: Uint8Array, edit: (entries: SafetensorsEntry[]) => SafetensorsEntry[]): Uint8Array {
  const { tensors, metadata } = parseSafetensors(bytes);
  const entries = [...tensors].map(([name, t]): SafetensorsEntry => ({ name, dtype: t.dtype === 'I64' ? 'I64' : 'F32', shape: t.shape, data: t.data }));
  return serializeSafetensors(edit(entries), metadata);
}

describe('toPyTorchName', () => {
  it('converts each dotted segment from camelCase to snake_case', () => {
    expect(toPyTorchName('layer1.0.bn1.runningMean')).toBe('layer1.0.bn1.running_mean');
    expect(toPyTorchName('bn.numBatchesTracked')).toBe('bn.num_batches_tracked');
    expect(toPyTorchName('conv.weightOrig')).toBe('conv.weight_orig');
    expect(toPyTorchName('conv.weightU')).toBe('conv.weight_u');
    expect(toPyTorchName('fc.weight')).toBe('fc.weight');
    expect(toPyTorchName('Encoder.downBlocks.2.convQKV')).toBe('encoder.down_blocks.2.conv_q_k_v');
  });
});

describe('saveSafetensors / loadSafetensors', () => {
  beforeAll(async () => {
    await useGpu();
  });

  let net: Net;
  let saved: Uint8Array;
  beforeAll(async () => {
    net = makeNet(1, 5);
    saved = await saveSafetensors(net, { metadata: { epoch: '3' } });
  });
  afterAll(() => net.dispose());

  it('writes PyTorch names, F32 tensors and num_batches_tracked as I64 of shape []', async () => {
    const { tensors, metadata } = parseSafetensors(saved);
    expect(metadata).toEqual({ format: 'pt', epoch: '3' });
    expect([...tensors.keys()]).toEqual(FILE_KEYS);
    const count = tensors.get('block.1.num_batches_tracked')!;
    expect(count).toEqual({ dtype: 'I64', shape: [], data: Float32Array.of(5) });
    expect(tensors.get('fc.weight')!.dtype).toBe('F32');
    expect(tensors.get('fc.weight')!.shape).toEqual([4, 3]);
    expect(tensors.get('block.1.running_mean')!.data).toEqual(await net.scaler.runningMean.toArray());
  });

  it('loads into a fresh module: identical state, counter and forward output', async () => {
    const fresh = makeNet(2, 0);
    try {
      expect(await snapshot(fresh)).not.toEqual(await snapshot(net));
      const result = await loadSafetensors(fresh, saved);
      expect(result).toEqual({ missingKeys: [], unexpectedKeys: [] });
      expect(await snapshot(fresh)).toEqual(await snapshot(net));
      expect(fresh.scaler.steps).toBe(5);
      const [got, want] = [await forwardOf(fresh), await forwardOf(net)];
      expect([...new Uint32Array(got.buffer)]).toEqual([...new Uint32Array(want.buffer)]);
    } finally {
      fresh.dispose();
    }
  });

  it('lists missing, unexpected and mis-shaped entries in PyTorch names and changes nothing', async () => {
    const bad = rewrite(saved, (entries) => [
      ...entries
        .filter((e) => e.name !== 'fc.bias' && e.name !== 'block.1.num_batches_tracked')
        .map((e) => (e.name === 'block.0.weight' ? { ...e, shape: [5, 2, 2], data: new Float32Array(20) } : e)),
      { name: 'block.1.running_var', dtype: 'F32', shape: [5], data: new Float32Array(5) },
    ]);
    const target = makeNet(3, 2);
    try {
      const before = await snapshot(target);
      const load = loadSafetensors(target, bad);
      await expect(load).rejects.toThrow(/Error\(s\) in loading state dict for Net:/);
      await expect(loadSafetensors(target, bad)).rejects.toThrow(/Missing key\(s\) in state dict: "fc.bias", "block.1.num_batches_tracked"\./);
      await expect(loadSafetensors(target, bad)).rejects.toThrow(/Unexpected key\(s\) in state dict: "block.1.running_var"\./);
      await expect(loadSafetensors(target, bad)).rejects.toThrow(/size mismatch for block.0.weight: copying a parameter with shape \[5, 2, 2\] from the checkpoint, the shape in the current model is \[5, 4\]\./);
      expect(await snapshot(target)).toEqual(before);
      expect(target.scaler.steps).toBe(2);
    } finally {
      target.dispose();
    }
  });

  it('with strict: false loads what matches and reports the other keys', async () => {
    const partial = rewrite(saved, (entries) => [
      ...entries.filter((e) => e.name !== 'fc.bias'),
      { name: 'head.weight', dtype: 'F32', shape: [1], data: Float32Array.of(1) },
    ]);
    const target = makeNet(4, 0);
    try {
      const bias = await target.fc.bias!.toArray();
      const result = await loadSafetensors(target, partial, { strict: false });
      expect(result).toEqual({ missingKeys: ['fc.bias'], unexpectedKeys: ['head.weight'] });
      const got = await snapshot(target);
      const want = await snapshot(net);
      for (const name of Object.keys(want)) if (name !== 'fc.bias') expect(got[name], name).toEqual(want[name]);
      expect(await target.fc.bias!.toArray()).toEqual(bias);
      expect(target.scaler.steps).toBe(5);
      await expect(loadSafetensors(target, partial)).rejects.toThrow(/Missing key\(s\) in state dict: "fc.bias"\.\n\tUnexpected key\(s\) in state dict: "head.weight"\./);
      const misShaped = rewrite(partial, (entries) => entries.map((e) => (e.name === 'fc.weight' ? { ...e, shape: [3, 4] } : e)));
      await expect(loadSafetensors(target, misShaped, { strict: false })).rejects.toThrow(/size mismatch for fc.weight: .*shape \[3, 4\] from the checkpoint, the shape in the current model is \[4, 3\]/);
    } finally {
      target.dispose();
    }
  });

  it('rejects a counter that is not a count, and accepts one stored as F32', async () => {
    const target = makeNet(5, 1);
    try {
      const before = await snapshot(target);
      const negative = rewrite(saved, (entries) => entries.map((e) => (e.name === 'block.1.num_batches_tracked' ? { ...e, data: Float32Array.of(-1) } : e)));
      await expect(loadSafetensors(target, negative)).rejects.toThrow(/block.1.num_batches_tracked: expected a count \(a non-negative integer\), got -1/);
      const fractional = rewrite(saved, (entries) => entries.map((e) => (e.name === 'block.1.num_batches_tracked' ? { ...e, dtype: 'F32', data: Float32Array.of(2.5) } : e)));
      await expect(loadSafetensors(target, fractional)).rejects.toThrow(/got 2.5/);
      expect(await snapshot(target)).toEqual(before);
      const asFloat = rewrite(saved, (entries) => entries.map((e) => (e.name === 'block.1.num_batches_tracked' ? { ...e, dtype: 'F32', data: Float32Array.of(9) } : e)));
      await loadSafetensors(target, asFloat);
      expect(target.scaler.steps).toBe(9);
    } finally {
      target.dispose();
    }
  });

  it('leaves every value unchanged when the file is corrupt or truncated', async () => {
    const target = makeNet(6, 4);
    try {
      const before = await snapshot(target);
      const headerEnd = 8 + Number(new DataView(saved.buffer, saved.byteOffset).getBigUint64(0, true));
      for (const cut of [4, 20, headerEnd, headerEnd + 30, saved.length - 1]) {
        await expect(loadSafetensors(target, saved.subarray(0, cut)), `cut at ${cut}`).rejects.toThrow(/safetensors: .*(too short|truncated)/);
      }
      const corrupt = saved.slice();
      corrupt[12] = 0xff;
      await expect(loadSafetensors(target, corrupt)).rejects.toThrow(/safetensors: header is not valid UTF-8/);
      expect(await snapshot(target)).toEqual(before);
      expect(target.scaler.steps).toBe(4);
    } finally {
      target.dispose();
    }
  });

  it('refuses state names that collide once converted to PyTorch names', async () => {
    class Clash extends Module {
      constructor() {
        super();
        this.registerParameter('runningMean', zeros([1]));
        this.registerParameter('running_mean', zeros([1]));
      }
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const clash = new Clash();
    try {
      await expect(saveSafetensors(clash)).rejects.toThrow(/Clash: state entries "runningMean" and "running_mean" both have the PyTorch name "running_mean"/);
      await expect(loadSafetensors(clash, saved)).rejects.toThrow(/both have the PyTorch name "running_mean"/);
    } finally {
      clash.dispose();
    }
  });
});

/** PyTorch's BatchNorm1d with welford names, to load a state dict written by PyTorch. */
class TorchBatchNorm1d extends Module {
  readonly weight = this.registerParameter('weight', zeros([4]));
  readonly bias = this.registerParameter('bias', zeros([4]));
  readonly runningMean = this.registerBuffer('runningMean', zeros([4]));
  readonly runningVar = this.registerBuffer('runningVar', zeros([4]));

  constructor() {
    super();
    this.registerCounter('numBatchesTracked', 0);
  }

  forward(x: Tensor): Tensor {
    return batchNorm(x, { runningMean: this.runningMean, runningVar: this.runningVar, weight: this.weight, bias: this.bias, training: false });
  }

  get steps(): number {
    return this.counter('numBatchesTracked');
  }
}

interface ModuleFixture {
  state: Record<string, FixtureTensor>;
  input: FixtureTensor;
  output: FixtureTensor;
}

describe('loadSafetensors on a state dict written by PyTorch', () => {
  beforeAll(async () => {
    await useGpu();
  });

  it('maps running_var and num_batches_tracked onto welford names and computes the same output', async () => {
    const want = readFixture<ModuleFixture>('format_module.json');
    const model = new Sequential(new Linear(3, 4), new TorchBatchNorm1d());
    try {
      await loadSafetensors(model, readFixtureBytes('format_module.safetensors'));
      const state = model.stateDict();
      const names = Object.keys(state);
      expect(names.map(toPyTorchName).sort()).toEqual(Object.keys(want.state).sort());
      for (const name of names) {
        // The fixture's nine significant digits are the float32 values exactly.
        expect(await state[name].toArray(), name).toEqual(Float32Array.from(want.state[toPyTorchName(name)].data));
      }
      const bn = model.namedChildren()[1][1] as TorchBatchNorm1d;
      expect(bn.steps).toBe(want.state['1.num_batches_tracked'].data[0]);
      model.eval();
      const x = tensorOf(want.input);
      const y = tidy(() => model.call(x));
      expectClose(await y.toArray(), want.output.data, 1e-5, 1e-5, 'output');
      x.dispose();
      y.dispose();
    } finally {
      model.dispose();
    }
  });
});
