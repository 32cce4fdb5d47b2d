import { defineConfig } from 'vitest/config';

// Unit tests run in Node on the real WebGPU adapter (Dawn; SwiftShader without a GPU), in two
// forks, each with its own device: much of a unit test's time is single-threaded JavaScript (the
// CPU reference, a command's process starting), which the other fork's GPU work overlaps. On the
// 2-core machine the unit project took 737 s against 966 s in one fork.
// The reliability suite (packages/*/test/reliability: device loss, out of memory, bad labels,
// runs that protect their files, a soak) is a project of its own, `pnpm test:reliability`, and
// runs one file at a time, as before (two forks were not tried there).
const RELIABILITY = 'packages/*/test/reliability/**/*.test.ts';

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    // Limits against a hang, not budgets for work: a busy machine may run a test several times
    // slower (a 2-minute experiment test took over 4 minutes beside a browser suite), so no test
    // sets a tighter one of its own.
    testTimeout: 900_000,
    hookTimeout: 900_000,
    projects: [
      { extends: true, test: { name: 'unit', fileParallelism: true, include: ['packages/*/test/**/*.test.ts', 'playground/test/**/*.test.ts', 'e2e/bench/**/*.test.ts'], exclude: [RELIABILITY] } },
      // The soak and the command-line runs are long on a software adapter.
      { extends: true, test: { name: 'reliability', include: [RELIABILITY], fileParallelism: false, testTimeout: 900_000 } },
    ],
  },
});
