// The conv tests' names for the one gradient-check harness (test/helpers/gradcheck.ts), and their
// run of a suite under each conv kernel family.
import { beforeAll, describe } from 'vitest';
import { record } from '../../src/core/autograd.js';
import { init } from '../../src/index.js';
import { biasGrad, convolve, weightGrad, type ConvVariant } from '../../src/ops/conv/path.js';
import { conv3dShape } from '../../src/ops/conv/shape.js';
import { conv3dUnderTest, type ConvUnderTest } from '../helpers/gradcheck.js';

export {
  conv3dUnderTest,
  convTranspose3dUnderTest,
  forwardError,
  gradErrors,
  referenceGradErrors,
  type ConvUnderTest,
} from '../helpers/gradcheck.js';

/** conv3d, wired as conv3d() is but with each pass's variant fixed: `path` forward and transposed, `grad` for the weights. */
export function conv3dOnPaths(path: ConvVariant, grad: ConvVariant): ConvUnderTest {
  const op = 'conv3d';
  return {
    ...conv3dUnderTest,
    run: (x, w, b, c) => {
      const { geometry, outShape } = conv3dShape(x, w, b, c);
      const out = convolve({ op, src: x, weight: w, bias: b, outSpatial: outShape.slice(2), geometry, transposed: false }, path);
      return record(op, b ? [x, w, b] : [x, w], out, (g) => [
        convolve({ op, src: g, weight: w, bias: null, outSpatial: x.shape.slice(2), geometry, transposed: true }, path),
        weightGrad({ op, lhs: g, src: x, geometry }, grad),
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
