import type { Storage } from '../storage.ts';

/**
 * One GPU dispatch as plain data. `kernel` names a file in `shaders/` (without `.wgsl`);
 * `bindings` maps the WGSL storage variable names to storages; `uniforms` maps the fields of
 * the WGSL uniform struct to values (packed at the offsets reflected from the WGSL).
 */
export interface Program {
  kernel: string;
  entryPoint?: string;
  /** WGSL `override` constants; part of the pipeline cache key. */
  overrides?: Record<string, number | boolean>;
  uniforms?: Record<string, number | readonly number[]>;
  /** Storage bindings, by WGSL variable name. The element count bound is the storage's size. */
  bindings: Record<string, Storage>;
  /** Workgroup counts (x, y, z). */
  dispatch: readonly [number, number?, number?];
}

/** Largest workgroup count per dimension WebGPU guarantees. */
export const MAX_WORKGROUPS_PER_DIM = 65535;

/**
 * Workgroup counts covering `items` invocations with `workgroupSize` threads each, folded
 * into a 2-D grid when one dimension is not enough. Kernels recover the flat index as
 * `gid.x + gid.y * num_workgroups.x * WG`.
 */
export function dispatch1d(items: number, workgroupSize: number): [number, number] {
  const groups = Math.max(1, Math.ceil(items / workgroupSize));
  if (groups <= MAX_WORKGROUPS_PER_DIM) return [groups, 1];
  const y = Math.ceil(groups / MAX_WORKGROUPS_PER_DIM);
  return [Math.ceil(groups / y), y];
}
