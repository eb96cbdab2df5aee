// conv3dPrelu (src/ops/conv/conv3d-prelu.ts): prelu(conv3d(x) + residual) as one op. On every
// family it equals conv3d then addPrelu (or prelu), gradients included; the tensor-core family's
// fused epilogue (emulated where the adapter has no subgroup matrices) matches the float64 reference
// on f16-exact inputs, keeps the PReLU's input exactly where asked, and its backward from that input
// is exact; where K is split the PReLU runs after the chunk sum, with the same results.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { Dispatch } from '../../src/device/context.js';
import { addPrelu, conv3d, conv3dPrelu, getContext, init, prelu, tensor, type Tensor } from '../../src/index.js';
import { convolvePrelu } from '../../src/ops/conv/path.js';
import { preluBackward } from '../../src/ops/prelu.js';
import { conv3dShape } from '../../src/ops/conv/shape.js';
import { tensorCoreTile } from '../../src/ops/conv/tensor-core.js';
import { shapeSize } from '../../src/core/shape.js';
import { maxRelError, randomArray, rng } from '../helpers.js';
import { conv3dOutShape, conv3dRef, type ConvCase } from '../reference/conv.js';
import { describeFamilies } from './conv-harness.js';

const stage: ConvCase = { xShape: [2, 5, 4, 5, 6], wShape: [12, 5, 3, 3, 3], stride: [1, 1, 1], padding: [1, 1, 1], dilation: [1, 1, 1] };

describeFamilies('conv3dPrelu equals conv3d then addPrelu', () => {
  for (const withResidual of [true, false]) {
    it(`${withResidual ? 'with' : 'without'} a residual: output and every gradient`, async () => {
      const outShape = conv3dOutShape(stage);
      const leaf = (data: Float64Array, shape: number[]): Tensor => tensor(data, shape, { requiresGrad: true });
      const make = () => ({
        x: leaf(randomArray(shapeSize(stage.xShape), 1), stage.xShape),
        w: leaf(randomArray(shapeSize(stage.wShape), 2), stage.wShape),
        b: leaf(randomArray(12, 3), [12]),
        // Slopes of both signs: the backward must not invert the activation.
        alpha: leaf(randomArray(12, 4, -0.5, 0.5), [12]),
        r: withResidual ? leaf(randomArray(shapeSize(outShape), 5), outShape) : null,
      });
      const g = tensor(randomArray(shapeSize(outShape), 6), outShape);
      const [a, b] = [make(), make()];
      const fused = conv3dPrelu(a.x, a.w, a.b, a.alpha, a.r, { padding: 1 });
      const h = conv3d(b.x, b.w, b.b, { padding: 1 });
      const composed = b.r ? addPrelu(h, b.r, b.alpha) : prelu(h, b.alpha);
      expect(await fused.toArray()).toEqual(await composed.toArray());
      fused.backward(g);
      composed.backward(g);
      const keys = ['x', 'w', 'b', 'alpha', 'r'] as const;
      for (const k of keys.filter((k) => withResidual || k !== 'r'))
        expect(await a[k]!.grad!.toArray(), k).toEqual(await b[k]!.grad!.toArray());
    });
  }

  it('rejects slopes and residuals of the wrong shape, by name', () => {
    const x = tensor(randomArray(shapeSize(stage.xShape), 1), stage.xShape);
    const w = tensor(randomArray(shapeSize(stage.wShape), 2), stage.wShape);
    expect(() => conv3dPrelu(x, w, null, tensor([0.25, 0.25], [2]), null, { padding: 1 })).toThrow(
      "conv3dPrelu: alpha must have shape [12] or [1] (the conv's output channels), got [2]",
    );
    expect(() => conv3dPrelu(x, w, null, tensor([0.25], [1]), tensor([1], [1]), { padding: 1 })).toThrow(
      "conv3dPrelu: residual must have the conv's output shape [2, 12, 4, 5, 6], got [1]",
    );
  });
});

/** Values exact in f16: k / 256 for integers |k| ≤ 384. */
function halfs(n: number, seed: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => Math.round((r() * 2 - 1) * 384) / 256);
}

describe('the tensor-core family fuses the PReLU into its output writes (emulated where the adapter has no subgroup matrices)', () => {
  beforeAll(async () => {
    await init({ kernels: 'gpu' });
  });

  // 1³, 20 → 12 channels: K = 32, one step and one chunk (fused); 3³, 5 → 12: 7 steps split over chunks (PReLU after the sum).
  const pointwise: ConvCase = {
    xShape: [2, 20, 4, 5, 6],
    wShape: [12, 20, 1, 1, 1],
    stride: [1, 1, 1],
    padding: [0, 0, 0],
    dilation: [1, 1, 1],
  };
  const cases: [string, ConvCase, number, boolean][] = [
    ['fused', pointwise, 12, true],
    ['fused, one shared slope', pointwise, 1, true],
    ['K split', stage, 12, false],
  ];
  for (const [name, c, slopes, fused] of cases) {
    it(`${name}: activation, kept input and its backward against float64 (f16-exact inputs)`, async () => {
      const outShape = conv3dOutShape(c);
      const J = c.wShape[0];
      const [x, w, b] = [halfs(shapeSize(c.xShape), 1), halfs(shapeSize(c.wShape), 2), halfs(J, 3)];
      const r = halfs(shapeSize(outShape), 4);
      // Exact in f32 times any f16-exact sum: the slopes' products round once, as the reference's do.
      const alpha = Float64Array.from({ length: slopes }, (_, i) => [0.25, -0.5, 0, 1.5][i % 4]!);
      const [xt, wt] = [tensor(x, c.xShape), tensor(w, c.wShape)];
      const { geometry } = conv3dShape(xt, wt, null, c);
      const pass = {
        op: 'conv3dPrelu',
        src: xt,
        weight: wt,
        bias: tensor(b, [J]),
        outSpatial: outShape.slice(2),
        geometry,
        transposed: false,
      };
      const voxels = shapeSize(outShape.slice(2));
      const s = conv3dRef(c, x, w, b).map((v, i) => v + r[i]!);
      const slope = (i: number): number => alpha[slopes === 1 ? 0 : Math.floor(i / voxels) % J]!;
      const expected = s.map((v, i) => (v > 0 ? v : slope(i) * v));
      const tile = tensorCoreTile(2, 2, 2, 1);
      const epilogue = { alpha: tensor(alpha, [slopes]), residual: tensor(r, outShape), keepInput: true };
      const spy = vi.spyOn(getContext(), 'dispatch');
      const { out, input } = convolvePrelu(pass, epilogue, tile);
      const kernels = (spy.mock.calls as [Dispatch][]).map(([d]) => d.kernel);
      spy.mockRestore();
      expect(kernels.includes('prelu')).toBe(!fused);
      expect(maxRelError(await out.toArray(), expected)).toBeLessThan(1e-6);
      const kept = input!.residual ? (await input!.x.toArray()).map((v, i) => v + r[i]!) : await input!.x.toArray();
      expect(maxRelError(kept, s)).toBeLessThan(1e-6);
      // Inference keeps nothing and gives the same activation.
      const inference = convolvePrelu(pass, { ...epilogue, keepInput: false }, tile);
      expect(inference.input).toBeNull();
      expect(await inference.out.toArray()).toEqual(await out.toArray());
      // The backward from the kept input: the sum's gradient g where s > 0, else slope · g; the slopes' Σ g · s where s ≤ 0.
      const g = halfs(shapeSize(outShape), 5);
      const { gs, gAlpha } = preluBackward('conv3dPrelu', input!.x, input!.residual, epilogue.alpha)(tensor(g, outShape), true, true);
      expect(
        maxRelError(
          await gs!.toArray(),
          s.map((v, i) => (v > 0 ? g[i]! : slope(i) * g[i]!)),
        ),
      ).toBeLessThan(1e-6);
      const ga = new Float64Array(slopes);
      s.forEach((v, i) => {
        if (v <= 0) ga[slopes === 1 ? 0 : Math.floor(i / voxels) % J] += g[i]! * v;
      });
      expect(maxRelError(await gAlpha!.toArray(), ga)).toBeLessThan(1e-5);
    });
  }
});
