import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import { gpuBackend } from './helpers.ts';

describe('devices', () => {
  it('acquires a WebGPU device in Node and says which adapter it got', async () => {
    const gpu = await gpuBackend();
    expect(gpu.acquired.runtime).toBe('node');
    expect(gpu.acquired.adapterName.length).toBeGreaterThan(0);
    expect(gpu.description).toContain(gpu.acquired.adapterName);
    if (gpu.acquired.software) expect(gpu.acquired.adapterName.toLowerCase()).toContain('swiftshader');
  });

  it('prints nothing on stderr while it acquires a device', () => {
    // A process of its own: the Vulkan loader and Dawn write to the real stderr, which Vitest does not see.
    const core = fileURLToPath(new URL('../src/index.ts', import.meta.url));
    const script = `const w = await import(${JSON.stringify(core)}); const b = await w.init(); process.stdout.write(b.description); b.device.destroy();`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^webgpu: /);
    expect(run.stderr).toBe('');
  });

  it('says what it tried when no adapter can be had', async () => {
    await expect(w.acquireDevice({ forceSoftware: true, swiftShaderIcdPaths: ['/nonexistent/vk_swiftshader_icd.json'] })).rejects.toThrow(
      /no WebGPU adapter could be had\. Tried:\n {2}- SwiftShader at \/nonexistent\/vk_swiftshader_icd\.json: file not found/,
    );
  });

  it('falls back to the CPU backend only when asked, and announces it', async () => {
    const options = { forceSoftware: true, swiftShaderIcdPaths: ['/nonexistent/icd.json'] };
    await expect(w.init(options)).rejects.toThrow(/no WebGPU adapter/);
    const messages: string[] = [];
    const backend = await w.init({ ...options, allowCpuFallback: true, onFallback: (m) => messages.push(m) });
    expect(backend.kind).toBe('cpu');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/WebGPU unavailable, using the CPU backend instead/);
    expect((await w.init({ backend: 'cpu' })).kind).toBe('cpu');
  });
});
