// Every WGSL kernel through the device's own shader compiler (naga on wgpu), including those no
// other check dispatches; kernels that enable an extension the device lacks are left out, as
// the backend never builds them there.
import { SHADER_SOURCES } from '../../../packages/core/src/backend/webgpu/shaders.gen.ts';
import type { Check } from '../check.ts';

/** The extensions a WGSL source enables (`enable subgroups;`). */
const enabled = (source: string): string[] => [...source.matchAll(/^\s*enable\s+([\w\s,]+);/gm)].flatMap((m) => m[1].split(',').map((e) => e.trim()));

export const shaderCheck: Check = {
  name: 'every WGSL kernel compiles on the device',
  async run({ gpu }) {
    const device = gpu.device;
    const failures: string[] = [];
    const left: string[] = [];
    let compiled = 0;
    for (const [name, source] of Object.entries(SHADER_SOURCES)) {
      const missing = enabled(source).filter((e) => !device.features.has(e as GPUFeatureName));
      if (missing.length > 0) {
        left.push(`${name} (needs ${missing.join(', ')})`);
        continue;
      }
      device.pushErrorScope('validation');
      const module = device.createShaderModule({ label: name, code: source });
      const messages = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
      const error = await device.popErrorScope();
      if (messages.length > 0 || error) failures.push(`${name}: ${messages.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ') || error?.message}`);
      else compiled++;
    }
    if (failures.length > 0) throw new Error(failures.join('\n'));
    return `${compiled} compiled${left.length ? `; left out: ${left.join(', ')}` : ''}`;
  },
};
