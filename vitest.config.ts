import { defineConfig } from 'vitest/config';
import { hangLimitMs } from './test/helpers/hang-limit.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/setup/summary-reporter.ts'],
    // Kernel sources are bundled into src/generated before any test imports them.
    globalSetup: ['test/setup/generate-kernels.ts'],
    setupFiles: ['test/setup/tuning-cache.ts'],
    // Two cores: llvmpipe already spreads each dispatch over both, so files run one at a time.
    fileParallelism: false,
    // Limits that catch a hang, not a slow host (test/helpers/hang-limit.ts).
    testTimeout: hangLimitMs,
    hookTimeout: hangLimitMs,
  },
});
