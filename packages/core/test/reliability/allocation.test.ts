// Allocation is checked: sizes past the device's limits fail at the call that asked, naming
// the op, the shape and the limit; out of memory (which WebGPU reports later) names the
// allocation that failed, the failed buffer is never reused, and freeing tensors lets work go on.
import { describe, expect, it } from 'vitest';
import { AllocationError, add, conv2d, CpuBackend, fromArray, memory, ones, zeros } from '../../src/index.ts';
import { gpuBackend, use } from '../helpers.ts';
import { faultyBackend } from './faulty_device.ts';

describe('allocation limits', () => {
  it("a tensor past the device's largest buffer fails at the call, names op, shape and limit, and allocates nothing", async () => {
    const gpu = await gpuBackend();
    use(gpu);
    const limit = gpu.maxBufferBytes;
    const before = memory();
    const tooMany = Math.floor(limit / 4) + 1;
    expect(() => zeros([tooMany])).toThrow(AllocationError);
    expect(() => zeros([1e6, 1e6])).toThrow(new RegExp(`^fill: the tensor of shape \\[1000000, 1000000\\] needs 4\\.00 TB \\(4000000000000 bytes\\), more than .+ allows in one buffer \\(maxStorageBufferBindingSize/maxBufferSize: .*\\(${limit} bytes\\)\\)\\. Use a smaller batch`));
    // An op's output, as a big activation would be: the op that made it is named.
    const x = ones([1, 1, 8, 8]);
    const w = ones([Math.ceil(tooMany / 64), 1, 1, 1]);
    let error: unknown = null;
    try {
      conv2d(x, w);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AllocationError);
    expect((error as AllocationError).kind).toBe('limit');
    expect((error as AllocationError).site.op).toBe('conv2d');
    expect((error as Error).message).toMatch(/^conv2d: the tensor of shape \[1, \d+, 8, 8\] needs/);
    expect((error as Error).message.split('\n')).toHaveLength(1);
    // Nothing half-made stays behind, and the next, unrelated read works.
    x.dispose();
    w.dispose();
    expect(memory().liveBuffers).toBe(before.liveBuffers);
    const small = fromArray([1, 2, 3]);
    expect([...(await add(small, small).toArray())]).toEqual([2, 4, 6]);
    small.dispose();
  });

  it('the CPU backend names the op and shape of an array it cannot hold', () => {
    use(new CpuBackend());
    expect(() => zeros([1e6, 1e6])).toThrow(/^fill: the tensor of shape \[1000000, 1000000\] needs 4\.00 TB .*more than the CPU backend can hold in one array/);
  });

  it('fromArray refuses values that are not numbers instead of making NaN', async () => {
    use(await gpuBackend());
    expect(() => fromArray(['a', 'b'] as unknown as number[])).toThrow('fromArray: element 0 is the string "a"; values must be numbers');
    expect(() => fromArray([1, [2, 3]] as unknown as number[])).toThrow(/element 1 is an array \(flatten nested arrays and give the shape\)/);
    expect(() => fromArray([1, undefined] as unknown as number[])).toThrow('fromArray: element 1 is undefined; values must be numbers');
  });
});

describe('out of memory', () => {
  it('is raised naming the allocation that failed, never pools the failed buffer, and freeing lets work go on', async () => {
    const fault = await faultyBackend();
    const gpu = fault.backend;
    use(gpu);
    const keep = fromArray([1, 2, 3]);
    // 300k floats: 1.2 MB, which the pool rounds to 1.5 MiB.
    const shape = [300, 1000];
    const bytes = 1.5 * 2 ** 20;
    fault.failSizes.add(bytes);
    const big = zeros(shape);
    expect(fault.failures).toBe(1);
    // WebGPU says so only later: the next read reports it, naming the op and shape that failed.
    const failed = await keep.toArray().then(
      () => null,
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(AllocationError);
    expect((failed as AllocationError).kind).toBe('out-of-memory');
    expect((failed as Error).message).toMatch(/^fill: the tensor of shape \[300, 1000\] needed 1\.20 MB \(1200000 bytes\)|^fill: the tensor of shape \[300, 1000\] needed 1\.57 MB/);
    expect((failed as Error).message).toContain('Free tensors you no longer need (dispose, tidy) or use a smaller batch, then go on');
    // Reported once: the read after it works.
    expect([...(await keep.toArray())]).toEqual([1, 2, 3]);

    // The failed buffer is destroyed when freed, never pooled and handed out again.
    big.dispose();
    expect(memory().pooledBytes).toBe(0);
    fault.failSizes.clear();
    const created = memory().createdBuffers;
    const again = ones(shape);
    expect(memory().createdBuffers).toBe(created + 1);
    const values = await again.toArray();
    expect(values.length).toBe(300_000);
    expect(values.every((v) => v === 1)).toBe(true);
    again.dispose();
    keep.dispose();
  });

  it('a failure keeps every error after it, counted in its message', async () => {
    const fault = await faultyBackend();
    use(fault.backend);
    fault.failSizes.add(1.5 * 2 ** 20);
    const a = zeros([300, 1000]);
    const b = zeros([310, 1000]);
    expect(fault.failures).toBe(2);
    await expect(fault.backend.sync()).rejects.toThrow(/^fill: the tensor of shape \[300, 1000\] needed .*\n\(1 more WebGPU error followed it; the next: fill: the tensor of shape \[310, 1000\] needed/);
    await expect(fault.backend.sync()).resolves.toBeUndefined();
    a.dispose();
    b.dispose();
  });
});
