// What "#node-adapter" resolves to outside Node: a runtime without navigator.gpu that is not Node
// has no way to WebGPU that welford knows of.
import type { AcquireOptions } from './acquire_options.ts';
import type { AcquiredDevice } from './open_device.ts';

export async function acquireInNode(_options: AcquireOptions, where = 'acquireDevice'): Promise<AcquiredDevice> {
  throw new Error(`${where}: this runtime exposes no navigator.gpu and is not Node.js (where welford would load Dawn from the webgpu package)`);
}
