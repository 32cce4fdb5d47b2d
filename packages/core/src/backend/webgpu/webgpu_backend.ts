import { gpuTraits, type GpuTraits } from './traits.ts';
import type { Backend, DeferredWrite, MemoryReport, StorageGroup } from '../backend.ts';
import type { GpuContext, InPlaceKernel, OpKernel } from '../op_kernel.ts';
import type { KernelArg, Storage } from '../storage.ts';
import type { GpuStorage } from './gpu_storage.ts';
import type { AcquiredDevice } from '../../device/acquire.ts';
import type { Program } from './program.ts';
import { packUniforms, reflectKernel, type KernelReflection } from './reflect.ts';
import { BufferPool } from './buffer_pool.ts';
import { DeviceHealth } from './device_health.ts';
import { CHECK_BYTES, ValueChecks, type DescribeBad } from './value_checks.ts';
import { AllocationError, describeSite, formatBytes, type AllocationSite, type DeviceLostError } from '../errors.ts';
import { GpuTimer, MAX_TIMED_DISPATCHES, type DispatchTime, type TimingGranularity } from './gpu_timer.ts';
import { SubmissionQueue } from './submission_queue.ts';
import { sizeOf } from '../../util/shape.ts';

export type { GpuStorage } from './gpu_storage.ts';

/** What the storages of one group share: their buffer goes back once none of them is live. */
interface GroupShare {
  remaining: number;
  /** The group's bytes, counted once in `memory().liveBytes`. */
  readonly bytes: number;
}

interface PipelineEntry {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  readonly reflection: KernelReflection;
  readonly id: number;
}

/** Uniform buffers and bind groups are cached by content; past this many the caches restart. */
const MAX_CACHED = 8192;
/**
 * A pending command encoder is submitted after this many dispatches, so that the GPU starts on
 * a step while the host is still recording the rest of it (on an H100, model S's step went
 * from recording 2.6 ms then running 1.5 ms to overlapping the two); a submit costs far less
 * than recording 64 dispatches.
 */
const MAX_PENDING_DISPATCHES = 64;
/** How long a failed wait on the device waits for the device's loss to be reported (see `lossBehind`). */
const LOSS_GRACE_MS = 1000;
/**
 * The same for a mapping aborted (an AbortError): only a destroyed or lost device aborts the
 * mappings of the backend's own staging buffers, so its loss is all but certain, and Firefox
 * reports it after its GPU process has finished the work queued before (measured: over a second
 * when each queued training step takes one on SwiftShader). Bounded all the same, never a hang.
 */
const LOSS_AFTER_ABORT_GRACE_MS = 30_000;

/**
 * WebGPU backend: explicit layouts reflected from WGSL, cached pipelines, uniform buffers and
 * bind groups; dispatches are recorded into one open compute pass and submitted only when a
 * value is read, a buffer in use is written, or `flush()` is called. Work recorded after a
 * `deferWrite` is held (not submitted) until the deferred data is written.
 */
export class WebGpuBackend implements Backend {
  readonly kind = 'webgpu' as const;
  readonly description: string;
  readonly device: GPUDevice;
  private readonly pool: BufferPool;
  /** Mappable buffers that readbacks copy into, reused so that reading a value each step allocates nothing. */
  private readonly staging: BufferPool;
  private nextId = 1;
  private live = new Map<number, number>();
  /** The group of each live storage that is the whole or a part of one (`live` holds 0 bytes for them). */
  private groups = new Map<number, GroupShare>();
  private liveGroups = new Set<GroupShare>();
  private pipelines = new Map<string, PipelineEntry>();
  private uniformBuffers = new Map<string, GPUBuffer>();
  private bindGroups = new Map<string, GPUBindGroup>();
  private bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 1;
  private readonly submissions: SubmissionQueue;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pendingBuffers = new Set<GPUBuffer>();
  private pendingDispatches = 0;
  private readonly health: DeviceHealth;
  private readonly checks = new ValueChecks();
  /** The counters of `checks` on the device, made at the first check. */
  private checkFlags: GpuStorage | null = null;
  /** The largest buffer a tensor may have: every storage is bound as a storage buffer. */
  readonly maxBufferBytes: number;
  /** Resolves with the error every call throws once the device is lost (see `DeviceLostError`). */
  readonly lost: Promise<DeviceLostError>;
  private timer: GpuTimer | null = null;
  /**
   * What the backend has done since creation, for benchmarks and for tests that a repeated
   * step creates nothing: dispatches, submits, and the pipelines, bind groups and uniform
   * buffers it had to create (each cached after).
   */
  readonly counters = { dispatches: 0, submits: 0, pipelines: 0, bindGroups: 0, uniformBuffers: 0 };
  /** Whether the device has the 'subgroups' feature (acquireDevice asks for it wherever the adapter offers it). */
  readonly hasSubgroups: boolean;
  private subgroupsOn: boolean;
  private currentTraits: GpuTraits;

  constructor(readonly acquired: AcquiredDevice) {
    this.device = acquired.device;
    this.hasSubgroups = this.device.features.has('subgroups');
    this.subgroupsOn = this.hasSubgroups;
    this.currentTraits = gpuTraits(acquired.software, this.subgroupsOn);
    this.description = `webgpu: ${acquired.adapterName}${acquired.software ? ' [software]' : ''}`;
    const limits = this.device.limits;
    this.maxBufferBytes = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
    this.health = new DeviceHealth(this.device, acquired.adapterName, (error) => {
      this.dropRecorded();
      this.submissions.failAll(error);
    });
    this.lost = this.health.whenLost;
    const storageUsage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const stagingUsage = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
    const relieve = (): void => this.trim();
    this.pool = new BufferPool((size, site) => this.createBuffer(size, storageUsage, site, this.pool), this.maxBufferBytes, relieve);
    this.staging = new BufferPool((size, site) => this.createBuffer(size, stagingUsage, site, this.staging), this.maxBufferBytes, relieve);
    this.submissions = new SubmissionQueue(this.device.queue, () => this.counters.submits++);
  }

  /** The loss, once the device is lost (every call then throws it). */
  get lostError(): DeviceLostError | null {
    return this.health.lost;
  }

  /**
   * Whether kernels with a subgroup variant (the reductions) use it: on by default where the
   * device has the 'subgroups' feature. Set it to false to run the plain kernels instead,
   * which give the same results to float32 rounding; it cannot be turned on without the feature.
   */
  get useSubgroups(): boolean {
    return this.subgroupsOn;
  }

  set useSubgroups(on: boolean) {
    if (on && !this.hasSubgroups) {
      throw new Error(`useSubgroups: the device (${this.description}) lacks the 'subgroups' feature, so subgroup kernels cannot run on it`);
    }
    this.subgroupsOn = on;
    this.currentTraits = gpuTraits(this.acquired.software, on, this.currentTraits.reductionWorkgroup, this.currentTraits.longSerialReductions);
  }

  /**
   * The largest workgroup reductions use (see `GpuTraits.reductionWorkgroup`): 64 on software
   * adapters, 256 on GPUs. Settable, to a power of two from 32 to 256, to compare kernels or test
   * the sizes another adapter would use; results agree to float32 rounding.
   */
  get reductionWorkgroup(): number {
    return this.currentTraits.reductionWorkgroup;
  }

  set reductionWorkgroup(size: number) {
    if (![32, 64, 128, 256].includes(size)) throw new Error(`reductionWorkgroup: expected 32, 64, 128 or 256, got ${size}`);
    this.currentTraits = gpuTraits(this.acquired.software, this.subgroupsOn, size, this.currentTraits.longSerialReductions);
  }

  /**
   * Whether long reductions into many outputs run one thread per output (see
   * `GpuTraits.longSerialReductions`): on for software adapters, off for GPUs. Settable, to
   * compare or to test the other choice; results agree to float32 rounding.
   */
  get longSerialReductions(): boolean {
    return this.currentTraits.longSerialReductions;
  }

  set longSerialReductions(on: boolean) {
    this.currentTraits = gpuTraits(this.acquired.software, this.subgroupsOn, this.currentTraits.reductionWorkgroup, on);
  }

  /** What kernel builders specialise on for this device (see `GpuTraits`). */
  get traits(): GpuTraits {
    return this.currentTraits;
  }

  /** Whether dispatches can be timed on the GPU (the device has 'timestamp-query'). */
  get canTimeDispatches(): boolean {
    return this.device.features.has('timestamp-query');
  }

  /**
   * Starts timing on the GPU until `stopGpuTiming`, with timestamps at the start and end of
   * compute passes: with granularity 'dispatch' (the default) every dispatch gets a pass of its
   * own, for a profile per kernel; with 'pass' the passes are those the backend records anyway,
   * for the GPU time of work as it normally runs. For benchmarks and profiles; at most
   * `capacity` (up to 2048) passes are timed, the rest are counted in the result's `dropped`.
   */
  startGpuTiming(options: { granularity?: TimingGranularity; capacity?: number } = {}): void {
    if (this.timer) throw new Error('startGpuTiming: dispatches are already being timed; call stopGpuTiming first');
    if (!this.canTimeDispatches) throw new Error(`startGpuTiming: the device (${this.description}) lacks the 'timestamp-query' feature`);
    this.endPass();
    this.timer = new GpuTimer(this.device, options.granularity ?? 'dispatch', options.capacity ?? MAX_TIMED_DISPATCHES);
  }

  /** Stops timing and returns the GPU time of each dispatch recorded since `startGpuTiming`, in order. */
  async stopGpuTiming(): Promise<{ times: DispatchTime[]; dropped: number }> {
    const timer = this.timer;
    if (!timer) throw new Error('stopGpuTiming: startGpuTiming was not called');
    this.timer = null;
    const staging = this.device.createBuffer({ size: Math.max(16, timer.bytes), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      this.endPass();
      timer.resolve(this.ensureEncoder(), staging);
      this.flush();
      await this.submissions.submitted();
      await staging.mapAsync(GPUMapMode.READ);
      this.health.throwIfFailed();
      return { times: timer.times(staging.getMappedRange().slice(0)), dropped: timer.dropped };
    } finally {
      staging.destroy();
      timer.destroy();
    }
  }

  /**
   * Storage for `size` floats. Throws an AllocationError naming `site` when it is larger than
   * the device allows in one buffer, before anything reaches the device. Out of memory is
   * reported by WebGPU only later: the next read or sync throws an AllocationError naming the
   * site, the failed buffer is never reused and the pool gives its buffers back to the driver,
   * so that freeing tensors lets work go on.
   */
  alloc(size: number, site: AllocationSite = { op: 'alloc', shape: [size] }): GpuStorage {
    this.health.assertUsable();
    const bytes = Math.max(4, size * 4);
    this.checkLimit(bytes, site, 'Use a smaller batch, image or layer');
    const buffer = this.pool.acquire(bytes, site);
    const storage: GpuStorage = { id: this.nextId++, size, buffer };
    this.live.set(storage.id, size * 4);
    return storage;
  }

  /**
   * Storages for `sizes` floats in one pooled buffer (see `Backend.allocGroup`). Parts start at
   * multiples of the device's minStorageBufferOffsetAlignment, so that each binds on its own, and
   * take at least 4 bytes (a binding's least), so an empty part still has a slot of its own.
   */
  allocGroup(sizes: readonly number[], site?: AllocationSite): StorageGroup {
    this.health.assertUsable();
    const align = this.device.limits.minStorageBufferOffsetAlignment;
    const starts: number[] = [];
    let end = 0;
    for (const size of sizes) {
      if (!Number.isInteger(size) || size < 0) throw new Error(`allocGroup: sizes are counts of floats, got ${size}`);
      const start = Math.ceil(end / align) * align;
      starts.push(start);
      end = start + Math.max(4, size * 4);
    }
    const where = site ?? { op: 'allocGroup', shape: [end / 4] };
    const bytes = Math.max(4, end);
    this.checkLimit(bytes, where, 'Split the tensors into several groups');
    const buffer = this.pool.acquire(bytes, where);
    const whole: GpuStorage = { id: this.nextId++, size: end / 4, buffer };
    const parts: GpuStorage[] = sizes.map((size, i) => ({ id: this.nextId++, size, buffer, offset: starts[i] }));
    const share: GroupShare = { remaining: parts.length + 1, bytes: end };
    for (const s of [whole, ...parts]) {
      this.live.set(s.id, 0);
      this.groups.set(s.id, share);
    }
    this.liveGroups.add(share);
    return { whole, parts, offsets: starts.map((b) => b / 4) };
  }

  /** Throws an AllocationError, before anything reaches the device, when `bytes` do not fit one buffer. */
  private checkLimit(bytes: number, site: AllocationSite, advice: string): void {
    if (bytes <= this.maxBufferBytes) return;
    throw new AllocationError(
      `${describeSite(site)} needs ${formatBytes(bytes)}, more than ${this.acquired.adapterName} allows in one buffer ` +
        `(maxStorageBufferBindingSize/maxBufferSize: ${formatBytes(this.maxBufferBytes)}). ${advice}; nothing was allocated`,
      site,
      bytes,
      'limit',
    );
  }

  write(storage: Storage, data: Float32Array): void {
    this.health.assertUsable();
    const { buffer, offset } = storage as GpuStorage;
    // queue.writeBuffer lands before commands still being recorded: submit those first
    // when they touch this buffer (a pooled buffer may be reused within one step).
    if (this.pendingBuffers.has(buffer)) this.flush();
    this.submissions.write(buffer, data, offset);
  }

  fence(): void {
    // Cleanup after a failed step fences too: on a lost device there is nothing to mark.
    if (this.health.lost) return;
    this.flush();
    this.submissions.fence();
  }

  deferWrite(storages: Storage[]): DeferredWrite {
    this.health.assertUsable();
    // What was recorded so far goes ahead; what comes next waits for the data.
    this.flush();
    const hold = this.submissions.hold();
    return {
      write: (data) => {
        if (data.length !== storages.length) throw new Error(`deferWrite: expected ${storages.length} arrays, got ${data.length}`);
        storages.forEach((s, i) => {
          if (data[i].length !== s.size) throw new Error(`deferWrite: array ${i} has ${data[i].length} values, its storage holds ${s.size}`);
        });
        this.submissions.release(
          hold,
          storages.map((s, i) => ({ buffer: (s as GpuStorage).buffer, offset: (s as GpuStorage).offset, data: data[i] })),
        );
      },
      abort: (error, reported = false) => {
        // Told to the reads that waited on the dropped work, or else to the next read.
        if (!this.submissions.abort(hold, error) && !reported) this.health.report(error);
      },
    };
  }

  /**
   * The values of `storage`, once the device has computed them. Throws the device's loss, or
   * an error the device reported since the last read or sync (out of memory, naming the
   * allocation that failed; a WebGPU error), rather than return values that may be wrong.
   */
  async read(storage: Storage): Promise<Float32Array> {
    this.health.assertUsable();
    const { buffer, size, offset = 0 } = storage as GpuStorage;
    const bytes = Math.max(4, size * 4);
    const staging = this.staging.acquire(bytes, { op: 'read', shape: [size] });
    this.endPass();
    this.ensureEncoder().copyBufferToBuffer(buffer, offset, staging, 0, bytes);
    const counters = this.stageChecks();
    this.flush();
    try {
      await this.awaitDevice(counters, () => staging.mapAsync(GPUMapMode.READ));
    } catch (e) {
      staging.destroy();
      throw e;
    }
    const out = new Float32Array(staging.getMappedRange().slice(0, size * 4));
    staging.unmap();
    this.staging.release(staging);
    await this.reportAfterWait(counters);
    return out;
  }

  /**
   * Records a check that the first `n` values of `values` are integers in [0, limit), without
   * waiting for it: when one is not, the next read or sync throws `describe(value, count)`.
   * Checks of one `key` share a counter (ops use their name, input and limit).
   */
  checkIndices(values: Storage, n: number, limit: number, key: string, describe: DescribeBad): void {
    this.health.assertUsable();
    this.checkFlags ??= this.makeCheckFlags();
    this.run(this.checks.program(this.checkFlags, values as GpuStorage, n, limit, key, describe));
  }

  /** Records an op's programs, after the index checks it asks for (see OpKernel). */
  execute<A>(kernel: OpKernel<A>, inputs: readonly KernelArg[], output: KernelArg, attrs: A): void {
    const args = inputs as readonly KernelArg<GpuStorage>[];
    for (const check of kernel.indexChecks?.(inputs.map((t) => t.shape), attrs) ?? []) {
      const n = sizeOf(args[check.input].shape);
      if (n === 0) continue;
      this.checkIndices(args[check.input].storage, n, check.limit, `${kernel.name}:${check.input}:${check.limit}`, (value, count) =>
        `${check.message(value)}\n(found on the GPU after the call: ${count} bad value${count === 1 ? '' : 's'} since the previous read)`,
      );
    }
    this.withContext(kernel.name, (ctx) => kernel.gpu(args, output as KernelArg<GpuStorage>, attrs, ctx));
  }

  /** Records an in-place update's programs. */
  update(kernel: InPlaceKernel, storages: Record<string, Storage>): void {
    this.withContext(kernel.name, (ctx) => kernel.gpu(storages as Record<string, GpuStorage>, ctx));
  }

  /**
   * Runs the programs `build` returns for `op`, with a context whose scratch storage goes back
   * to the pool once they are recorded (work recorded later that reuses it runs after them).
   */
  private withContext(op: string, build: (ctx: GpuContext) => Program[]): void {
    const scratch: GpuStorage[] = [];
    const ctx: GpuContext = {
      traits: this.traits,
      copy: (from, to, size, fromOffset, toOffset) => this.copy(from, to, size, fromOffset, toOffset),
      scratch: (size, what) => {
        const storage = this.alloc(size, { op: `${op} (${what})`, shape: [size] });
        scratch.push(storage);
        return { shape: [size], storage };
      },
    };
    try {
      for (const program of build(ctx)) this.run(program);
    } finally {
      for (const s of scratch) this.free(s);
    }
  }

  /**
   * Frees storage; on a lost device there is nothing left to give back, and that is no error.
   * A group's buffer goes back once its whole and every part are freed.
   */
  free(storage: Storage): void {
    if (!this.live.delete(storage.id)) return;
    const share = this.groups.get(storage.id);
    if (share) {
      this.groups.delete(storage.id);
      if (--share.remaining > 0) return;
      this.liveGroups.delete(share);
    }
    const { buffer } = storage as GpuStorage;
    if (this.health.lost) buffer.destroy();
    else this.pool.release(buffer);
  }

  /** Records one program into the open compute pass. */
  run(program: Program): void {
    this.health.assertUsable();
    const entry = this.pipeline(program);
    const copies = this.readsOfWrittenBuffers(program, entry.reflection);
    if (copies.length > 0) {
      this.runOnCopies(program, copies);
      return;
    }
    const { reflection } = entry;
    const bindGroup = this.bindGroup(entry, program);
    const perDispatch = this.timer?.granularity === 'dispatch';
    const timestamps = perDispatch ? this.timer?.next(`${program.kernel}.${reflection.entryPoint}`) : undefined;
    if (timestamps) this.endPass();
    const pass = this.ensurePass(timestamps);
    pass.setPipeline(entry.pipeline);
    pass.setBindGroup(0, bindGroup);
    const [x, y = 1, z = 1] = program.dispatch;
    if (x > 0 && y > 0 && z > 0) pass.dispatchWorkgroups(x, y, z);
    if (timestamps) this.endPass();
    for (const b of reflection.storage) this.pendingBuffers.add((program.bindings[b.name] as GpuStorage).buffer);
    this.counters.dispatches++;
    if (++this.pendingDispatches >= MAX_PENDING_DISPATCHES) this.flush();
  }

  /**
   * The read-only bindings of `program` whose buffer one of its writable bindings also binds.
   * WebGPU tracks a dispatch's use of a buffer per buffer, not per range, and forbids that
   * even where the ranges are apart (two parts of a storage group). Only storages of a group
   * (those with an offset) can share a buffer, so other programs skip the search.
   */
  private readsOfWrittenBuffers(program: Program, reflection: KernelReflection): string[] {
    // Every dispatch asks: find a group's storage before building anything.
    if (!reflection.storage.some((s) => (program.bindings[s.name] as GpuStorage | undefined)?.offset !== undefined)) return [];
    const storages = reflection.storage.map((s) => ({ ...s, storage: program.bindings[s.name] as GpuStorage | undefined }));
    const written = new Set(storages.filter((s) => !s.readOnly && s.storage).map((s) => s.storage!.buffer));
    return storages.filter((s) => s.readOnly && s.storage && written.has(s.storage.buffer)).map((s) => s.name);
  }

  /** Runs `program` with the bindings `names` read from copies of their own, which go back to the pool after. */
  private runOnCopies(program: Program, names: readonly string[]): void {
    const bindings = { ...program.bindings };
    const copies: GpuStorage[] = [];
    try {
      for (const name of names) {
        const from = program.bindings[name];
        const copy = this.alloc(from.size, { op: `${program.kernel} (copy of '${name}', which shares a buffer the kernel writes)`, shape: [from.size] });
        copies.push(copy);
        this.copy(from, copy, from.size);
        bindings[name] = copy;
      }
      this.run({ ...program, bindings });
    } finally {
      for (const c of copies) this.free(c);
    }
  }

  /**
   * Records a buffer-to-buffer copy of `size` floats from float `fromOffset` of `from` to
   * `toOffset` of `to`: a copy command, not a dispatch (no pipeline, no bind group).
   */
  copy(from: Storage, to: Storage, size: number, fromOffset = 0, toOffset = 0): void {
    this.health.assertUsable();
    if (size === 0) return;
    if (fromOffset + size > from.size || toOffset + size > to.size) {
      throw new Error(`copy: ${size} floats from ${fromOffset} of a storage of ${from.size} to ${toOffset} of one of ${to.size} do not fit`);
    }
    this.endPass();
    const { buffer: src, offset: srcOffset = 0 } = from as GpuStorage;
    const { buffer: dst, offset: dstOffset = 0 } = to as GpuStorage;
    this.ensureEncoder().copyBufferToBuffer(src, srcOffset + fromOffset * 4, dst, dstOffset + toOffset * 4, size * 4);
    this.pendingBuffers.add(src).add(dst);
  }

  /** Submits what was recorded (on a lost device it is dropped: it could never run). */
  flush(): void {
    if (!this.encoder) return;
    if (this.health.lost) {
      this.dropRecorded();
      return;
    }
    this.endPass();
    this.submissions.submit(this.encoder.finish());
    this.encoder = null;
    this.pendingBuffers.clear();
    this.pendingDispatches = 0;
    if (!this.submissions.holding && (this.uniformBuffers.size > MAX_CACHED || this.bindGroups.size > MAX_CACHED)) {
      // Submitted work keeps what it references alive (held work does not: it waits).
      for (const b of this.uniformBuffers.values()) b.destroy();
      this.uniformBuffers.clear();
      this.bindGroups.clear();
    }
  }

  /** Whether the storages' buffers were made, once every allocation so far has been judged (see `Backend.allocated`). */
  async allocated(storages: readonly Storage[]): Promise<boolean> {
    await this.health.settled();
    return !this.health.lost && storages.every((s) => !this.pool.hasFailed((s as GpuStorage).buffer));
  }

  /** Waits for the submitted work; throws the device's loss or an error it reported (as `read`). */
  async sync(): Promise<void> {
    this.health.assertUsable();
    const counters = this.stageChecks();
    this.flush();
    await this.awaitDevice(counters, () => this.device.queue.onSubmittedWorkDone());
    await this.reportAfterWait(counters);
  }

  memory(): MemoryReport {
    let liveBytes = 0;
    for (const b of this.live.values()) liveBytes += b;
    for (const g of this.liveGroups) liveBytes += g.bytes;
    return {
      liveBuffers: this.live.size,
      liveBytes,
      pooledBuffers: this.pool.pooledBuffers,
      pooledBytes: this.pool.pooledBytes,
      createdBuffers: this.pool.created + this.staging.created,
      readbackBuffers: this.staging.created,
    };
  }

  /** Releases pooled buffers back to the driver (not while work is held: it may use them). */
  trim(): void {
    this.flush();
    if (this.submissions.holding) return;
    this.bindGroups.clear();
    this.pool.trim();
    this.staging.trim();
  }

  /**
   * Waits until what was recorded is submitted, then for `done` (a mapping, or the queue's
   * work). On failure the staged check counters are left for the next read, and the error is
   * the device's loss when that is why.
   */
  private async awaitDevice(counters: GPUBuffer | null, done: () => Promise<unknown>): Promise<void> {
    try {
      // Work may be held behind a deferred write; mapping before it is submitted would fail.
      // Held work that was dropped (a failed collective) rejects here, with its own error.
      await this.submissions.submitted();
    } catch (e) {
      this.unstageChecks(counters);
      throw this.health.lost ?? e;
    }
    try {
      await done();
    } catch (e) {
      this.unstageChecks(counters);
      throw (await this.lossBehind(e)) ?? e;
    }
  }

  /** After a wait: a bad index the checks counted, an out-of-memory or another device error is thrown. */
  private async reportAfterWait(counters: GPUBuffer | null): Promise<void> {
    const bad = await this.inspectChecks(counters);
    await this.health.settled();
    this.health.throwIfFailed();
    if (bad) throw bad;
  }

  /**
   * The device's loss when a wait on the device failed (with `error`) because of it. A mapping
   * aborted by a loss can reject before the device's `lost` promise settles (in Chromium by a
   * good while, in Firefox by seconds under load), so a failed wait gives the loss time to show
   * before its own error is thrown: up to a second, longer for an aborted mapping.
   */
  private async lossBehind(error: unknown): Promise<DeviceLostError | null> {
    if (this.health.lost) return this.health.lost;
    const grace = isAbortError(error) ? LOSS_AFTER_ABORT_GRACE_MS : LOSS_GRACE_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.lost, new Promise((resolve) => (timer = setTimeout(resolve, grace)))]);
    clearTimeout(timer);
    return this.health.lost;
  }

  /** The counters of value checks, zeroed; outside the pool and the live count (the backend owns it). */
  private makeCheckFlags(): GpuStorage {
    const buffer = this.device.createBuffer({ size: CHECK_BYTES, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    const storage: GpuStorage = { id: this.nextId++, size: CHECK_BYTES / 4, buffer };
    this.submissions.write(buffer, new Float32Array(CHECK_BYTES / 4));
    return storage;
  }

  /** When checks ran since the last look: records a copy of their counters to read with the next value. */
  private stageChecks(): GPUBuffer | null {
    if (!this.checks.dirty || !this.checkFlags) return null;
    this.checks.dirty = false;
    const staging = this.staging.acquire(CHECK_BYTES, { op: 'read', shape: [CHECK_BYTES / 4] });
    this.endPass();
    this.ensureEncoder().copyBufferToBuffer(this.checkFlags.buffer, 0, staging, 0, CHECK_BYTES);
    return staging;
  }

  /** A staged copy that will not be read: the counters are looked at next time instead. */
  private unstageChecks(staging: GPUBuffer | null): void {
    if (!staging) return;
    staging.destroy();
    this.checks.dirty = true;
  }

  /** The error a staged copy of the counters shows, if any (its copy was submitted with the read). */
  private async inspectChecks(staging: GPUBuffer | null): Promise<Error | null> {
    if (!staging) return null;
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (e) {
      this.unstageChecks(staging);
      throw (await this.lossBehind(e)) ?? e;
    }
    const words = new Uint32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    this.staging.release(staging);
    return this.checks.inspect(words);
  }

  /** Forgets what was recorded and not submitted. */
  private dropRecorded(): void {
    this.pass = null;
    this.encoder = null;
    this.pendingBuffers.clear();
    this.pendingDispatches = 0;
  }

  /**
   * A new buffer, watched for out-of-memory: one the device failed to make is never pooled,
   * and the pools give their buffers back to the driver so that the next allocations have room.
   */
  private createBuffer(size: number, usage: GPUBufferUsageFlags, site: AllocationSite, pool: BufferPool): GPUBuffer {
    return this.health.createBuffer({ size, usage }, site, (failed) => {
      pool.discard(failed);
      this.trim();
    });
  }

  private ensureEncoder(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  private ensurePass(timestampWrites?: GPUComputePassTimestampWrites): GPUComputePassEncoder {
    if (!this.pass) {
      const writes = timestampWrites ?? (this.timer?.granularity === 'pass' ? this.timer.next('pass') : undefined);
      this.pass = this.ensureEncoder().beginComputePass(writes ? { timestampWrites: writes } : undefined);
    }
    return this.pass;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  private pipeline(program: Program): PipelineEntry {
    const entryPoint = program.entryPoint ?? 'main';
    const overrides = program.overrides ?? {};
    const key = `${program.kernel}:${entryPoint}:${JSON.stringify(overrides)}`;
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    const reflection = reflectKernel(program.kernel, entryPoint);
    for (const name of Object.keys(overrides)) {
      if (!reflection.overrides.has(name)) throw new Error(`kernel '${program.kernel}': override '${name}' is not declared in the WGSL`);
    }
    const entries: GPUBindGroupLayoutEntry[] = [];
    if (reflection.uniform) entries.push({ binding: reflection.uniform.binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } });
    for (const s of reflection.storage) {
      entries.push({ binding: s.binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: s.readOnly ? 'read-only-storage' : 'storage' } });
    }
    const layout = this.device.createBindGroupLayout({ label: `${program.kernel}.${entryPoint}`, entries });
    const module = this.device.createShaderModule({ label: program.kernel, code: reflection.source });
    const constants: Record<string, number> = {};
    for (const [k, v] of Object.entries(overrides)) constants[k] = typeof v === 'boolean' ? Number(v) : v;
    const pipeline = this.device.createComputePipeline({
      label: key,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint, constants },
    });
    const entry = { pipeline, layout, reflection, id: this.pipelines.size + 1 };
    this.pipelines.set(key, entry);
    this.counters.pipelines++;
    return entry;
  }

  private bindGroup(entry: PipelineEntry, program: Program): GPUBindGroup {
    const { reflection } = entry;
    const names = Object.keys(program.bindings);
    for (const n of names) {
      if (!reflection.storage.some((s) => s.name === n)) {
        throw new Error(`kernel '${program.kernel}': binding '${n}' is not a storage variable of entry point '${reflection.entryPoint}' (WGSL declares: ${reflection.storage.map((s) => s.name).join(', ')})`);
      }
    }
    const uniform = this.uniformBuffer(reflection, program);
    let key = `${entry.id}|${uniform ? this.idOf(uniform) : 0}`;
    for (const s of reflection.storage) {
      const storage = program.bindings[s.name] as GpuStorage | undefined;
      if (!storage) throw new Error(`kernel '${program.kernel}': storage binding '${s.name}' declared in WGSL was not given`);
      // The offset too: parts of one group share a buffer, and may share a size.
      key += `|${this.idOf(storage.buffer)}@${storage.offset ?? 0}:${storage.size}`;
    }
    const hit = this.bindGroups.get(key);
    if (hit) return hit;
    const entries: GPUBindGroupEntry[] = [];
    if (uniform && reflection.uniform) entries.push({ binding: reflection.uniform.binding, resource: { buffer: uniform } });
    for (const s of reflection.storage) {
      const storage = program.bindings[s.name] as GpuStorage;
      entries.push({ binding: s.binding, resource: { buffer: storage.buffer, offset: storage.offset ?? 0, size: Math.max(4, storage.size * 4) } });
    }
    const group = this.device.createBindGroup({ layout: entry.layout, entries });
    this.bindGroups.set(key, group);
    this.counters.bindGroups++;
    return group;
  }

  private uniformBuffer(reflection: KernelReflection, program: Program): GPUBuffer | null {
    const bytes = packUniforms(reflection, program.uniforms);
    if (!bytes) return null;
    const words = new Uint32Array(bytes);
    const key = `${reflection.kernel}:${reflection.entryPoint}:${words.join(',')}`;
    const hit = this.uniformBuffers.get(key);
    if (hit) return hit;
    // Uniform buffers are immutable once created, so recording never has to wait on a write.
    const buffer = this.device.createBuffer({ size: bytes.byteLength, usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true });
    new Uint32Array(buffer.getMappedRange()).set(words);
    buffer.unmap();
    this.uniformBuffers.set(key, buffer);
    this.counters.uniformBuffers++;
    return buffer;
  }

  private idOf(buffer: GPUBuffer): number {
    let id = this.bufferIds.get(buffer);
    if (id === undefined) {
      id = this.nextBufferId++;
      this.bufferIds.set(buffer, id);
    }
    return id;
  }
}

/** Whether `error` is WebGPU's AbortError, the rejection of a mapping that was aborted (Dawn and wgpu alike). */
function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}
