// scaledBackward's loss-scaling branch. It runs only in the mixed precision, which needs tensor
// cores; its arithmetic needs none, so the test flips the context's precision around a loss made of
// elementwise ops (which never consult it). In float32 scaling by 2¹² and back is exact.
import { describe, expect, it } from 'vitest';
import { mul, sum, tensor, tidy, type Context } from '../../src/index.js';
import { mixedLossScale, scaledBackward } from '../../src/nn/train-step.js';
import { f32 } from '../helpers/gradcheck.js';
import { gpu, maxRelError, randomArray } from '../helpers.js';

/** Runs fn with the context reporting the mixed precision. */
function asMixed<T>(ctx: Context, fn: () => T): T {
  const own = ctx as { precision: Context['precision'] };
  const was = own.precision;
  own.precision = 'mixed';
  try {
    return fn();
  } finally {
    own.precision = was;
  }
}

describe('scaledBackward in the mixed precision', () => {
  it("seeds backward with the loss scale and divides the params' gradients by it, freeing what it made", async () => {
    const ctx = await gpu();
    const [wv, xv] = [f32(randomArray(8, 1)), f32(randomArray(8, 2))];
    const w = tensor(wv, [8], { requiresGrad: true });
    // Requires grad but is not among the params: its gradient stays at the scale.
    const x = tensor(xv, [8], { requiresGrad: true });
    const before = ctx.memory().bytesInUse;
    asMixed(ctx, () => tidy(() => scaledBackward(sum(mul(mul(w, w), x)), [w])));
    // d/dw Σ w²x = 2wx; d/dx = w².
    expect(
      maxRelError(
        await w.grad!.toArray(),
        wv.map((v, i) => 2 * v * xv[i]!),
      ),
      'w.grad',
    ).toBeLessThan(1e-6);
    expect(
      maxRelError(
        await x.grad!.toArray(),
        wv.map((v) => mixedLossScale * v * v),
      ),
      'x.grad',
    ).toBeLessThan(1e-6);
    // Only the two gradients are left: the seed and the scaled gradient of w were freed.
    for (const t of [w.grad!, x.grad!]) t.dispose();
    expect(ctx.memory().bytesInUse).toBe(before);
  });
});
