import { defineConfig } from 'vitest/config';

// Unit tests run in Node on the real WebGPU adapter (Dawn; SwiftShader without a GPU).
// One fork keeps one device: SwiftShader has few cores, and parallel devices only contend.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
