// The conv tests' names for the one gradient-check harness (test/helpers/gradcheck.ts), and their
// run of a suite under each conv kernel family.
import { beforeAll, describe } from 'vitest';
import { init } from '../../src/index.js';

export { conv3dUnderTest, convTranspose3dUnderTest, forwardError, gradErrors, referenceGradErrors, type ConvUnderTest } from '../helpers/gradcheck.js';

/** The conv kernel families: each runs on any adapter (init's `kernels` forces it). */
export const kernelFamilies = ['software', 'gpu'] as const;

/** `body`'s tests once per kernel family, each on a context of its own. */
export function describeFamilies(name: string, body: () => void): void {
  for (const kernels of kernelFamilies) {
    describe(`${name} (${kernels} kernels)`, () => {
      beforeAll(async () => {
        await init({ kernels });
      });
      body();
    });
  }
}
