// What can go wrong with a WebGPU device outside any one op: it can be lost, it can run out of
// memory (reported asynchronously, through error scopes), and it can report errors nobody
// captured. The backend asks this before each call and after each wait.
import { AllocationError, DeviceLostError, describeSite, formatBytes, type AllocationSite } from '../errors.ts';

/** Errors kept beyond the first, so that one failure's cascade does not grow without bound. */
const MAX_KEPT_ERRORS = 8;

export class DeviceHealth {
  private lostError: DeviceLostError | null = null;
  /** Resolves with the loss once the device is lost (after `onLost` has run). */
  readonly whenLost: Promise<DeviceLostError>;
  private readonly errors: Error[] = [];
  private dropped = 0;
  private readonly scopes = new Set<Promise<void>>();

  constructor(
    private readonly device: GPUDevice,
    private readonly adapterName: string,
    /** Called once when the device is lost. */
    onLost: (error: DeviceLostError) => void,
  ) {
    this.whenLost = device.lost.then((info) => {
      const error = new DeviceLostError(info.reason ?? 'unknown', info.message);
      this.lostError = error;
      onLost(error);
      return error;
    });
    device.addEventListener('uncapturederror', (event) => {
      // After a loss every call fails; the loss is the one thing worth saying.
      if (this.lostError) return;
      this.report(new Error(`WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`));
    });
  }

  /** The loss, once the device is lost. */
  get lost(): DeviceLostError | null {
    return this.lostError;
  }

  /** Throws the loss, if the device is lost. Every call that touches the device asks first. */
  assertUsable(): void {
    if (this.lostError) throw this.lostError;
  }

  /** Keeps an error for the next `throwIfFailed` (the first one is thrown, later ones counted in it). */
  report(error: Error): void {
    if (this.errors.length < MAX_KEPT_ERRORS) this.errors.push(error);
    else this.dropped++;
  }

  /**
   * Creates a buffer inside an out-of-memory error scope. WebGPU says only later whether it
   * failed: then `onOutOfMemory(buffer)` runs (the buffer must never be used or pooled again)
   * and an AllocationError naming `site` is kept for the next `throwIfFailed`.
   */
  createBuffer(descriptor: GPUBufferDescriptor, site: AllocationSite, onOutOfMemory: (buffer: GPUBuffer) => void): GPUBuffer {
    this.device.pushErrorScope('out-of-memory');
    let buffer: GPUBuffer;
    try {
      buffer = this.device.createBuffer(descriptor);
    } finally {
      const scope: Promise<void> = this.device.popErrorScope().then(
        (error) => {
          this.scopes.delete(scope);
          if (!error || this.lostError) return;
          onOutOfMemory(buffer);
          this.report(
            new AllocationError(
              `${describeSite(site)} needed ${formatBytes(descriptor.size)} of GPU memory, and ${this.adapterName} had no room (${error.message || 'out of memory'}). ` +
                'Free tensors you no longer need (dispose, tidy) or use a smaller batch, then go on: the device still works',
              site,
              descriptor.size,
              'out-of-memory',
            ),
          );
        },
        () => void this.scopes.delete(scope), // the device was lost meanwhile: the loss is reported
      );
      this.scopes.add(scope);
    }
    return buffer;
  }

  /** Waits until every allocation made so far has been judged by its error scope. */
  async settled(): Promise<void> {
    while (this.scopes.size > 0) await Promise.all([...this.scopes]);
  }

  /** Throws the loss, or the first error kept since the last call (naming how many followed it). */
  throwIfFailed(): void {
    this.assertUsable();
    if (this.errors.length === 0) return;
    const [first, ...rest] = this.errors.splice(0);
    const more = rest.length + this.dropped;
    this.dropped = 0;
    if (more > 0) first.message += `\n(${more} more WebGPU error${more === 1 ? '' : 's'} followed it; the next: ${rest[0]?.message.split('\n')[0] ?? 'not kept'})`;
    throw first;
  }
}
