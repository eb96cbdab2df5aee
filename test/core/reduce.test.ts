// sum and mean over all axes, one axis, several non-adjacent axes, keepDim and negative dims, and
// sizes big enough to take the chunked two-pass path of kernels/reduce.wgsl.
import { beforeAll, describe, it } from 'vitest';
import { mean, sum, type Tensor } from '../../src/index.js';
import { gpu } from '../helpers.js';
import { checkOp, reportErrors } from '../helpers/gradcheck.js';
import * as ref from './reference.js';

beforeAll(async () => {
  await gpu();
});
reportErrors('reduce');

function normalize(dims: number | number[] | undefined, rank: number): number[] | undefined {
  if (dims === undefined) return undefined;
  return (typeof dims === 'number' ? [dims] : dims).map((d) => (d < 0 ? d + rank : d));
}

interface ReduceCase {
  shape: number[];
  dim?: number | number[];
  keepDim?: boolean;
  fdSamples?: number;
}

const cases: ReduceCase[] = [
  { shape: [3, 4, 5] },
  { shape: [3, 4, 5], keepDim: true },
  { shape: [7] },
  { shape: [3, 4, 5], dim: 1 },
  { shape: [3, 4, 5], dim: 0 },
  { shape: [3, 4, 5], dim: -1 },
  { shape: [3, 4, 5], dim: 2, keepDim: true },
  { shape: [2, 3, 4, 5], dim: [0, 2] },
  { shape: [2, 3, 4, 5], dim: [3, 1], keepDim: true },
  { shape: [2, 3, 4, 5], dim: [-1, -3] },
  { shape: [2, 3, 4, 5], dim: [0, 1, 2, 3] },
  { shape: [2, 3, 4, 5, 3], dim: [0, 2, 3, 4] },
  // Size-1 axes, reduced and kept, between the others.
  { shape: [4, 1, 5], dim: 1 },
  { shape: [4, 1, 5], dim: [0, 1], keepDim: true },
  { shape: [3, 1, 1, 4], dim: [0, 3] },
  // Rank 8 with alternating reduced axes: four kept and four reduced blocks.
  { shape: [2, 2, 2, 2, 2, 2, 2, 3], dim: [0, 2, 4, 6] },
  { shape: [2, 2, 2, 2, 2, 2, 2, 3], dim: [1, 3, 5, 7], keepDim: true },
  // Two passes: 16 outputs of 1980 elements each, and 3 rows of 70001.
  { shape: [2, 16, 9, 10, 11], dim: [0, 2, 3, 4], fdSamples: 12 },
  { shape: [2, 16, 9, 10, 11], dim: [0, 2, 3, 4], keepDim: true, fdSamples: 12 },
  { shape: [3, 70001], fdSamples: 12 },
  { shape: [3, 70001], dim: 1, fdSamples: 12 },
  { shape: [3, 70001], dim: -2, fdSamples: 12 },
];

for (const [name, fn, isMean] of [
  ['sum', sum, false],
  ['mean', mean, true],
] as const) {
  describe(name, () => {
    for (const c of cases) {
      const label =
        `${name} ${JSON.stringify(c.shape)} over ` +
        `${c.dim === undefined ? 'all' : JSON.stringify(c.dim)}${c.keepDim ? ', keepDim' : ''}`;
      it(label, async () => {
        await checkOp(label, {
          inputs: [{ shape: c.shape }],
          forward: (x: Tensor) => fn(x, c.dim, c.keepDim ?? false),
          reference: (x) => ref.reduce(x, c.shape, normalize(c.dim, c.shape.length), c.keepDim ?? false, isMean),
          fdSamples: c.fdSamples,
        });
      });
    }
  });
}
