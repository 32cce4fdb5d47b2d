import { defineConfig } from 'vitest/config';

// Unit tests run in Node on the real WebGPU adapter (Dawn; SwiftShader without a GPU).
// One fork keeps one device: SwiftShader has few cores, and parallel devices only contend.
// The reliability suite (packages/*/test/reliability: device loss, out of memory, bad labels,
// runs that protect their files, a soak) is a project of its own: `pnpm test:reliability`.
const RELIABILITY = 'packages/*/test/reliability/**/*.test.ts';

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    // Limits against a hang, not budgets for work: a busy machine may run a test several times slower.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['packages/*/test/**/*.test.ts', 'playground/test/**/*.test.ts', 'e2e/bench/**/*.test.ts'], exclude: [RELIABILITY] } },
      // The soak and the command-line runs are long on a software adapter.
      { extends: true, test: { name: 'reliability', include: [RELIABILITY], testTimeout: 900_000 } },
    ],
  },
});
