import { beforeAll, describe, expect, it } from 'vitest';
import { add, fromArray, manualSeed, mul, relu, sum, tidy, type Tensor } from '@welford/core';
import { Linear, Module, ModuleList, Sequential } from '../src/index.ts';
import { expectClose, useGpu } from './helpers.ts';

beforeAll(async () => {
  await useGpu();
});

/** A module with a parameter, a persistent buffer, a non-persistent buffer and a counter. */
class Scale extends Module {
  readonly gain: Tensor;
  constructor(n: number) {
    super();
    this.gain = this.registerParameter('gain', fromArray(new Float32Array(n).fill(2), [n]));
    this.registerBuffer('runningMean', fromArray(new Float32Array(n), [n]));
    this.registerBuffer('scratch', fromArray(new Float32Array(n), [n]), { persistent: false });
    this.registerCounter('numBatchesTracked');
  }
  forward(x: Tensor): Tensor {
    if (this.training) this.setCounter('numBatchesTracked', this.counter('numBatchesTracked') + 1);
    return mul(x, this.gain);
  }
  get steps(): number {
    return this.counter('numBatchesTracked');
  }
}

class Net extends Module {
  readonly fc: Linear;
  readonly body: Sequential;
  constructor() {
    super();
    this.fc = this.registerModule('fc', new Linear(3, 4));
    this.body = this.registerModule('body', new Sequential(new Scale(4), new Linear(4, 2)));
  }
  forward(x: Tensor): Tensor {
    return this.body.call(relu(this.fc.call(x)));
  }
}

const values = async (m: Module): Promise<Record<string, number[]>> => {
  const out: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(m.stateDict())) out[k] = [...(await t.toArray())];
  return out;
};

describe('Module', () => {
  it('names parameters and buffers with dotted paths in registration order', () => {
    manualSeed(1);
    const net = new Net();
    expect(Object.keys(net.stateDict())).toEqual([
      'fc.weight',
      'fc.bias',
      'body.0.gain',
      'body.0.runningMean',
      'body.0.numBatchesTracked',
      'body.1.weight',
      'body.1.bias',
    ]);
    expect(net.namedParameters().map(([n]) => n)).toEqual(['fc.weight', 'fc.bias', 'body.0.gain', 'body.1.weight', 'body.1.bias']);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(['body.0.runningMean', 'body.0.scratch', 'body.0.numBatchesTracked']);
    expect(net.namedModules().map(([n]) => n)).toEqual(['', 'fc', 'body', 'body.0', 'body.1']);
    expect(net.parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(net.stateEntries().find((e) => e.name === 'body.0.numBatchesTracked')?.dtype).toBe('int64');
    net.dispose();
  });

  it('lists a shared parameter once', () => {
    const shared = new Linear(2, 2);
    const seq = new Sequential(shared, shared);
    expect(seq.parameters().length).toBe(2);
    expect(Object.keys(seq.stateDict())).toEqual(['0.weight', '0.bias']);
    seq.dispose();
  });

  it('propagates train() and eval() to every descendant', () => {
    const net = new Net();
    net.eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.modules().every((m) => m.training)).toBe(true);
    net.dispose();
  });

  it('rejects bad and duplicate member names', () => {
    class Bad extends Module {
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const m = new Bad();
    expect(() => m.registerParameter('a.b', fromArray([1]))).toThrow(/without "\."/);
    m.registerParameter('w', fromArray([1]));
    expect(() => m.registerBuffer('w', fromArray([1]))).toThrow(/already registered/);
    m.dispose();
  });

  it('loadStateDict copies values in place; the tensors stay the same objects', async () => {
    manualSeed(2);
    const a = new Net();
    manualSeed(3);
    const b = new Net();
    const weight = b.fc.weight;
    const result = await b.loadStateDict(a.stateDict());
    expect(result).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(b.fc.weight).toBe(weight);
    expect(await values(b)).toEqual(await values(a));
    a.dispose();
    b.dispose();
  });

  it('loadStateDict restores counters on the host, from tensors and from host values', async () => {
    const a = new Net();
    tidy(() => {
      a.call(fromArray([1, 2, 3], [1, 3]));
      a.call(fromArray([1, 2, 3], [1, 3]));
    });
    const scaleA = a.body.at(0) as Scale;
    expect(scaleA.steps).toBe(2);
    const b = new Net();
    await b.loadStateDict(a.stateDict());
    expect((b.body.at(0) as Scale).steps).toBe(2);
    await b.loadStateDict({ ...a.stateDict(), 'body.0.numBatchesTracked': { shape: [], data: Float32Array.of(7) } });
    expect((b.body.at(0) as Scale).steps).toBe(7);
    expect([...(await b.stateDict()['body.0.numBatchesTracked'].toArray())]).toEqual([7]);
    a.dispose();
    b.dispose();
  });

  it('a failing strict load lists missing, unexpected and mis-shaped keys and changes nothing', async () => {
    const net = new Net();
    const before = await values(net);
    const state = { ...net.stateDict() } as Record<string, Tensor | { shape: number[]; data: Float32Array }>;
    delete state['fc.bias'];
    state['fc.extra'] = fromArray([1]);
    state['body.1.weight'] = { shape: [2, 4], data: new Float32Array(8).fill(9) };
    state['body.0.gain'] = fromArray([1, 2, 3], [3]);
    const err = await net.loadStateDict(state).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toMatch(/Missing key\(s\) in state dict: "fc\.bias"/);
    expect(message).toMatch(/Unexpected key\(s\) in state dict: "fc\.extra"/);
    expect(message).toMatch(/size mismatch for body\.0\.gain: copying a parameter with shape \[3\] from the state dict, the shape in the current model is \[4\]/);
    expect(await values(net)).toEqual(before);
    net.dispose();
  });

  it('a non-strict load loads what matches and reports the rest', async () => {
    manualSeed(5);
    const a = new Linear(3, 2);
    manualSeed(6);
    const b = new Linear(3, 2);
    const result = await b.loadStateDict({ weight: a.weight, other: a.bias! }, { strict: false });
    expect(result).toEqual({ missingKeys: ['bias'], unexpectedKeys: ['other'] });
    expectClose(await b.weight.toArray(), await a.weight.toArray(), 0, 0);
    a.dispose();
    b.dispose();
  });

  it('rejects a fractional count and host data of the wrong length without writing', async () => {
    const net = new Net();
    const before = await values(net);
    const bad = { ...net.stateDict(), 'body.0.numBatchesTracked': { shape: [], data: Float32Array.of(1.5) }, 'fc.bias': fromArray([5, 5, 5, 5]) };
    await expect(net.loadStateDict(bad)).rejects.toThrow(/numBatchesTracked: expected a count/);
    await expect(net.loadStateDict({ ...net.stateDict(), 'fc.bias': { shape: [4], data: new Float32Array(3) } })).rejects.toThrow(/fc\.bias: expected 4 float32 values/);
    expect(await values(net)).toEqual(before);
    net.dispose();
  });

  it('runs forward pre-hooks and hooks; a hook may replace the output; handles remove them', async () => {
    const lin = new Linear(2, 2);
    const seen: string[] = [];
    const pre = lin.registerForwardPreHook((m, [x]) => {
      seen.push(`pre ${m.typeName} ${x.shape.join('x')}`);
    });
    const post = lin.registerForwardHook((_m, _inputs, out) => {
      seen.push('post');
      return add(out, 100);
    });
    const y = lin.call(fromArray([1, 2], [1, 2]));
    expect(seen).toEqual(['pre Linear 1x2', 'post']);
    expect(Math.min(...(await y.toArray()))).toBeGreaterThan(90);
    pre.remove();
    post.remove();
    const z = lin.call(fromArray([1, 2], [1, 2]));
    expect(seen.length).toBe(2);
    expect(Math.max(...(await z.toArray()))).toBeLessThan(90);
    lin.dispose();
  });

  it('names the failing layer by its path in the model', () => {
    const net = new Net();
    expect(() => net.call(fromArray(new Float32Array(8), [2, 4]))).toThrow(/^fc \(Linear\): Linear: expected input of shape \[\.\.\., 3\].*got \[2, 4\]/);
    const seq = new Sequential(new Linear(3, 3), new Sequential(new Linear(3, 3), new Linear(5, 1)));
    expect(() => seq.call(fromArray(new Float32Array(3), [1, 3]))).toThrow(/^1\.1 \(Linear\): Linear: expected input of shape \[\.\.\., 5\]/);
    net.dispose();
    seq.dispose();
  });

  it('gradients reach every parameter and zeroGrad clears them', async () => {
    const net = new Net();
    tidy(() => {
      const y = net.call(fromArray([0.5, -1, 2, 1, 1, 1], [2, 3]));
      sum(mul(y, y)).backward();
    });
    expect(net.parameters().every((p) => p.grad !== null && !p.grad.isDisposed)).toBe(true);
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
    net.dispose();
  });

  it('ModuleList registers its modules and has no forward', () => {
    const list = new ModuleList([new Linear(1, 1), new Linear(1, 2)]);
    expect(list.length).toBe(2);
    expect(Object.keys(list.stateDict())).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
    expect(() => list.forward()).toThrow(/no forward/);
    list.dispose();
  });

  it('prints a nested description', () => {
    const net = new Net();
    expect(net.toString()).toBe(
      'Net(\n  (fc): Linear(inFeatures=3, outFeatures=4, bias=true)\n  (body): Sequential(\n    (0): Scale()\n    (1): Linear(inFeatures=4, outFeatures=2, bias=true)\n  )\n)',
    );
    net.dispose();
  });

  it('dispose frees every parameter and buffer', () => {
    const net = new Net();
    const tensors = [...net.parameters(), ...net.buffers()];
    net.dispose();
    expect(tensors.every((t) => t.isDisposed)).toBe(true);
  });
});
