// The conv tests' names for the one gradient-check harness (test/helpers/gradcheck.ts), and their
// run of a suite under each conv kernel family.
import { beforeAll, describe } from 'vitest';
import { record } from '../../src/autograd.js';
import { init } from '../../src/index.js';
import { biasGrad, convolve, weightGrad, type ConvolvePath, type GradPath } from '../../src/ops/conv/path.js';
import { conv3dShape } from '../../src/ops/conv/shape.js';
import { conv3dUnderTest, type ConvUnderTest } from '../helpers/gradcheck.js';

export { conv3dUnderTest, convTranspose3dUnderTest, forwardError, gradErrors, referenceGradErrors, type ConvUnderTest } from '../helpers/gradcheck.js';

/** conv3d, wired as conv3d() is but with each pass's variant fixed: `path` forward and transposed, `grad` for the weights. */
export function conv3dOnPaths(path: ConvolvePath, grad: GradPath): ConvUnderTest {
  return {
    ...conv3dUnderTest,
    run: (x, w, b, c) => {
      const { geometry, outShape } = conv3dShape(x, w, b, c);
      const out = convolve('conv3d', x, w, b, outShape.slice(2), geometry, false, path);
      return record('conv3d', b ? [x, w, b] : [x, w], out, (g) => [
        convolve('conv3d', g, w, null, x.shape.slice(2), geometry, true, path),
        weightGrad('conv3d', g, x, geometry, grad),
        b ? biasGrad(g) : null,
      ]);
    },
  };
}

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
