// An activation larger than the device allows in one buffer ends `welford train` with one line
// that names the layer, the op, the shape and the limit (not "internal error" and pages of the
// driver's validation output), and run.json records the failure.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJson } from '../train_helpers.ts';
import { jsStackLines, welfordLines, welfordRun } from './helpers.ts';

describe('welford train past the device limits', () => {
  it('a 6.6 GB activation is one line naming conv1, conv2d, the shape and the limit', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'welford-limits-')), 'run');
    // 4096 images × 512 channels × 28 × 28 floats: 6.58 GB, past SwiftShader's 1 GiB and the
    // 4 GiB a Vulkan GPU binds at most.
    const r = await welfordRun(['train', '--model', 'small-cnn', '--width', '512', '--norm', 'batch', '--dataset', 'mnist', '--batch', '4096', '--steps', '1', '--stats-every', '0', '--out', out]);
    expect(r.status, r.stderr).toBe(1);
    const lines = welfordLines(r.stderr);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^welford train: conv1 \(Conv2d\): conv2d: the tensor of shape \[4096, 512, 28, 28\] needs 6\.58 GB \(6576668672 bytes\), more than .+ allows in one buffer \(maxStorageBufferBindingSize\/maxBufferSize: .+ bytes\)\)\. Use a smaller batch/);
    expect(r.stderr).not.toContain('internal error');
    expect(jsStackLines(r.stderr)).toEqual([]);
    const run = readJson<{ status: string; error: string }>(join(out, 'run.json'));
    expect(run.status).toBe('failed');
    expect(run.error).toContain('conv2d: the tensor of shape [4096, 512, 28, 28]');
  });
});
