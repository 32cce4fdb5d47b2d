import { CpuBackend, setBackend, randn } from '@welford/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchNorm2d, InstanceNorm2d, loadSafetensors, parseSafetensors, saveSafetensors, serializeSafetensors, Sequential, Conv2d, type StateDict } from '../src/index.ts';

// PyTorch's batch and instance norms accept a state dict saved before they had
// num_batches_tracked and load it as 0; strict loading must not refuse it.
describe('a state dict without num_batches_tracked', () => {
  beforeAll(() => setBackend(new CpuBackend()));

  it('loads strictly into batch norm with the count 0 and the other values given, leaving the given object as it was', async () => {
    const source = new BatchNorm2d(3);
    source.call(randn([4, 3, 5, 5]));
    source.call(randn([4, 3, 5, 5]));
    expect(source.numBatchesTracked).toBe(2);
    const target = new BatchNorm2d(3);
    target.call(randn([2, 3, 5, 5]));
    const state: StateDict = Object.fromEntries(Object.entries(source.stateDict()).filter(([k]) => k !== 'numBatchesTracked'));
    const keys = Object.keys(state);
    const result = await target.loadStateDict(state);
    expect(result).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(target.numBatchesTracked).toBe(0);
    expect(await target.stateDict().numBatchesTracked.item()).toBe(0);
    expect(Array.from(await target.runningMean!.toArray())).toEqual(Array.from(await source.runningMean!.toArray()));
    expect(Object.keys(state)).toEqual(keys);
  });

  it('is left as it is, and listed as missing, by a partial load (strict false)', async () => {
    const target = new BatchNorm2d(3);
    target.call(randn([2, 3, 5, 5]));
    const result = await target.loadStateDict({ weight: new BatchNorm2d(3).weight! }, { strict: false });
    expect(result.missingKeys).toEqual(['bias', 'runningMean', 'runningVar', 'numBatchesTracked']);
    expect(target.numBatchesTracked).toBe(1);
  });

  it('loads into instance norm that tracks running statistics; other missing entries are still refused', async () => {
    const target = new InstanceNorm2d(2, { trackRunningStats: true });
    const full = target.stateDict();
    await target.loadStateDict({ runningMean: full.runningMean, runningVar: full.runningVar });
    expect(target.stateDict().numBatchesTracked).toBeDefined();
    await expect(new BatchNorm2d(3).loadStateDict({ weight: new BatchNorm2d(3).weight! })).rejects.toThrow(/Missing key\(s\) in state dict: "bias", "runningMean", "runningVar"\./);
  });

  it('loads from a safetensors file in PyTorch names that lacks it', async () => {
    const model = new Sequential(new Conv2d(1, 3, 3), new BatchNorm2d(3));
    model.call(randn([2, 1, 6, 6]));
    const { tensors } = parseSafetensors(await saveSafetensors(model));
    expect(tensors.has('1.num_batches_tracked')).toBe(true);
    const without = serializeSafetensors([...tensors].filter(([name]) => name !== '1.num_batches_tracked').map(([name, t]) => ({ name, dtype: 'F32' as const, shape: t.shape, data: t.data })));
    const target = new Sequential(new Conv2d(1, 3, 3), new BatchNorm2d(3));
    target.call(randn([2, 1, 6, 6]));
    const result = await loadSafetensors(target, without);
    expect(result.missingKeys).toEqual([]);
    expect((target.namedChildren()[1][1] as BatchNorm2d).numBatchesTracked).toBe(0);
  });
});
