import { WgslReflect, ResourceType } from 'wgsl_reflect/wgsl_reflect.module.js';
import type { TypeInfo } from 'wgsl_reflect/wgsl_reflect.module.js';
import { SHADER_SOURCES } from './shaders.gen.ts';

/** Scalar type of a uniform field as WGSL declares it. */
export type UniformScalar = 'u32' | 'i32' | 'f32';

export interface UniformField {
  readonly name: string;
  readonly offset: number;
  readonly scalar: UniformScalar;
  /** Number of scalars the field holds (1 for a scalar, 4·N for array<vec4<u32>, N>). */
  readonly count: number;
}

export interface UniformLayout {
  readonly variable: string;
  readonly binding: number;
  readonly size: number;
  readonly fields: ReadonlyMap<string, UniformField>;
}

export interface StorageBinding {
  readonly name: string;
  readonly binding: number;
  readonly readOnly: boolean;
}

/** Everything the WebGPU backend needs to build explicit layouts for one entry point. */
export interface KernelReflection {
  readonly kernel: string;
  readonly entryPoint: string;
  readonly source: string;
  readonly uniform: UniformLayout | null;
  readonly storage: readonly StorageBinding[];
  readonly overrides: ReadonlySet<string>;
  readonly workgroupSize: readonly [number, number, number];
}

const cache = new Map<string, KernelReflection>();

/** Names of every kernel file in `shaders/`. */
export function kernelNames(): string[] {
  return Object.keys(SHADER_SOURCES);
}

/** Entry points (compute) declared in a kernel file. */
export function entryPoints(kernel: string): string[] {
  return new WgslReflect(shaderSource(kernel)).entry.compute.map((e) => e.name);
}

export function shaderSource(kernel: string): string {
  const source = SHADER_SOURCES[kernel];
  if (source === undefined) throw new Error(`kernel '${kernel}': no shaders/${kernel}.wgsl (known: ${kernelNames().join(', ')})`);
  return source;
}

/** Reflects the bindings, the uniform struct and the overrides of one entry point from its WGSL. */
export function reflectKernel(kernel: string, entryPoint = 'main'): KernelReflection {
  const key = `${kernel}:${entryPoint}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const source = shaderSource(kernel);
  const reflect = new WgslReflect(source);
  const entry = reflect.entry.compute.find((e) => e.name === entryPoint);
  if (!entry) throw new Error(`kernel '${kernel}': no @compute entry point '${entryPoint}'`);
  let uniform: UniformLayout | null = null;
  const storage: StorageBinding[] = [];
  for (const r of entry.resources) {
    if (r.group !== 0) throw new Error(`kernel '${kernel}': binding '${r.name}' is in group ${r.group}; welford kernels use group 0 only`);
    if (r.resourceType === ResourceType.Uniform) {
      if (uniform) throw new Error(`kernel '${kernel}': more than one uniform buffer ('${uniform.variable}', '${r.name}')`);
      uniform = { variable: r.name, binding: r.binding, size: r.size, fields: uniformFields(kernel, r.type) };
    } else if (r.resourceType === ResourceType.Storage) {
      storage.push({ name: r.name, binding: r.binding, readOnly: r.access !== 'read_write' });
    } else {
      throw new Error(`kernel '${kernel}': binding '${r.name}' is neither a uniform nor a storage buffer`);
    }
  }
  const ws = entry.workgroupSize;
  const reflection: KernelReflection = {
    kernel,
    entryPoint,
    source,
    uniform,
    storage: storage.sort((a, b) => a.binding - b.binding),
    overrides: new Set(reflect.overrides.map((o) => o.name)),
    workgroupSize: [ws?.[0] ?? 1, ws?.[1] ?? 1, ws?.[2] ?? 1],
  };
  cache.set(key, reflection);
  return reflection;
}

function uniformFields(kernel: string, type: TypeInfo): Map<string, UniformField> {
  const fields = new Map<string, UniformField>();
  const members = (type as TypeInfo & { members?: { name: string; offset: number; size: number; type: TypeInfo }[] }).members;
  if (!members) throw new Error(`kernel '${kernel}': the uniform buffer must be a struct`);
  for (const m of members) {
    fields.set(m.name, { name: m.name, offset: m.offset, scalar: scalarOf(kernel, m.name, m.type), count: m.size / 4 });
  }
  return fields;
}

function scalarOf(kernel: string, field: string, type: TypeInfo): UniformScalar {
  // Scalars are named directly; vectors and arrays carry their element type in `format`.
  let t: TypeInfo | undefined = type;
  while (t) {
    if (t.name === 'u32' || t.name === 'i32' || t.name === 'f32') return t.name;
    const m = /^vec\d<(u32|i32|f32)>$/.exec(t.name) ?? /^vec\d([uif])$/.exec(t.name);
    if (m) return m[1] === 'u' ? 'u32' : m[1] === 'i' ? 'i32' : m[1] === 'f' ? 'f32' : (m[1] as UniformScalar);
    t = (t as TypeInfo & { format?: TypeInfo }).format;
  }
  throw new Error(`kernel '${kernel}': uniform field '${field}' has type '${type.name}'; only u32, i32, f32 and their vectors/arrays are supported`);
}

/** Packs uniform values at the reflected offsets; every field must be given, and no other. */
export function packUniforms(reflection: KernelReflection, values: Record<string, number | readonly number[]> | undefined): ArrayBuffer | null {
  const layout = reflection.uniform;
  const given = values ?? {};
  const where = `kernel '${reflection.kernel}' (${reflection.entryPoint})`;
  if (!layout) {
    if (Object.keys(given).length > 0) throw new Error(`${where}: uniforms ${Object.keys(given).join(', ')} given, but the WGSL declares no uniform buffer`);
    return null;
  }
  const buffer = new ArrayBuffer(Math.max(16, Math.ceil(layout.size / 16) * 16));
  const view = new DataView(buffer);
  for (const name of Object.keys(given)) {
    if (!layout.fields.has(name)) throw new Error(`${where}: uniform '${name}' is not a field of the WGSL struct (fields: ${[...layout.fields.keys()].join(', ')})`);
  }
  for (const field of layout.fields.values()) {
    const value = given[field.name];
    if (value === undefined) throw new Error(`${where}: uniform field '${field.name}' declared in WGSL was not given`);
    const list = typeof value === 'number' ? [value] : value;
    if (list.length > field.count) throw new Error(`${where}: uniform '${field.name}' holds ${field.count} values, got ${list.length}`);
    list.forEach((v, i) => {
      const at = field.offset + 4 * i;
      if (field.scalar === 'f32') view.setFloat32(at, v, true);
      else if (field.scalar === 'i32') view.setInt32(at, v, true);
      else view.setUint32(at, v, true);
    });
  }
  return buffer;
}
