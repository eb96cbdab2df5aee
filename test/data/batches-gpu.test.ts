// GPU batches against the CPU's: the same seed gives the same cases and augmentation (within the
// tolerances of augment-gpu.ts), bit-identical run to run, and fit() trains on them, freeing them.
import { beforeAll, describe, expect, it } from 'vitest';
import { batchIterator, sampleDrawer, type Batch, type BatchOptions, type PreparedCase } from '../../src/data/loader.js';
import { mirror } from '../../src/data/augment.js';
import { Rng } from '../../src/data/random.js';
import { gpuBatchIterator } from '../../src/data/batches-gpu.js';
import { syntheticCase } from '../../src/data/synthetic.js';
import { zscore } from '../../src/data/intensity.js';
import { fit } from '../../src/nn/fit.js';
import { VNet } from '../../src/nn/vnet.js';
import { Adam } from '../../src/optim/adam.js';
import { gpu, maxAbsDiff } from '../helpers.js';

const cases: PreparedCase[] = [0, 1, 2].map((seed) => {
  const { image, label } = syntheticCase(seed, [8, 16, 16]);
  return { id: `c${seed}`, image: zscore(image), label, shape: [16, 16, 8] };
});

beforeAll(async () => {
  await gpu();
});

async function cpuBatches(options: BatchOptions): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of batchIterator(cases, options)) out.push(b);
  return out;
}

async function gpuBatches(options: BatchOptions): Promise<{ ids: string[]; image: Float32Array; labels: Float32Array }[]> {
  const out = [];
  for await (const b of gpuBatchIterator(cases, options)) {
    out.push({ ids: b.ids, image: await b.image.toArray(), labels: await b.labels.toArray() });
    b.image.dispose();
    b.labels.dispose();
  }
  return out;
}

describe('gpuBatchIterator', () => {
  it.each([false, true])(
    'gives the CPU path’s batches for a seed (mirror: %s): same cases, images within float32 rounding, labels nearly all equal',
    async (mirror) => {
      const options: BatchOptions = { batchSize: 2, batches: 3, seed: 4, deformation: { sigma: 2 }, mirror };
      const [want, got] = [await cpuBatches(options), await gpuBatches(options)];
      for (let i = 0; i < want.length; i++) {
        expect(got[i]!.ids).toEqual(want[i]!.ids);
        // augment-gpu.ts's warp tolerance: 1e-4 of the image's largest magnitude (about 3e-4 here;
        // measured at most 1.15e-4 on llvmpipe).
        let scale = 0;
        for (const v of want[i]!.image) scale = Math.max(scale, Math.abs(v));
        let worst = 0;
        let beyondRounding = 0;
        let differentLabels = 0;
        for (let v = 0; v < want[i]!.image.length; v++) {
          const error = Math.abs(got[i]!.image[v]! - want[i]!.image[v]!);
          worst = Math.max(worst, error);
          if (error > 1e-4 * scale) beyondRounding++;
          if (got[i]!.labels[v] !== want[i]!.label[v]) differentLabels++;
        }
        // A voxel whose source value sits at a histogram bin edge may take the neighbouring bin's value.
        expect(beyondRounding, `voxels beyond 1e-4 × ${scale} (largest error ${worst})`).toBeLessThanOrEqual(2);
        expect(worst).toBeLessThan(1e-3 * 8);
        expect(differentLabels).toBeLessThanOrEqual(2);
      }
    },
  );

  it('is bit-identical run to run, and without augmentation passes cases through', async () => {
    const [a, b] = [await gpuBatches({ batches: 2, seed: 9 }), await gpuBatches({ batches: 2, seed: 9 })];
    expect(Array.from(a[1]!.image)).toEqual(Array.from(b[1]!.image));
    expect(Array.from(a[1]!.labels)).toEqual(Array.from(b[1]!.labels));
    const [plain] = await gpuBatches({ batchSize: 1, batches: 1, deformation: false, histogramMatching: false });
    const source = cases.find((c) => c.id === plain!.ids[0])!;
    expect(Array.from(plain!.image)).toEqual(Array.from(source.image));
    expect(Array.from(plain!.labels)).toEqual(Array.from(source.label));
  });

  it('draws the mirror axes last, so a sample mirrored is exactly the unmirrored one with those axes reversed', async () => {
    const options: BatchOptions = { batchSize: 1, batches: 1, seed: 3, deformation: { sigma: 2 } };
    const { axes } = sampleDrawer(cases.length, new Rng(3), { ...options, mirror: true })();
    expect(axes).not.toBe(0);
    const [[plain], [mirrored]] = [await gpuBatches(options), await gpuBatches({ ...options, mirror: true })];
    expect(Array.from(mirrored!.image)).toEqual(Array.from(mirror(plain!.image, [16, 16, 8], axes)));
    expect(Array.from(mirrored!.labels)).toEqual(Array.from(mirror(plain!.labels, [16, 16, 8], axes)));
  });

  it('rejects cases of different sizes', async () => {
    const odd = [...cases, { ...cases[0]!, id: 'odd', shape: [4, 4, 4] as [number, number, number] }];
    await expect(gpuBatchIterator(odd).next()).rejects.toThrow(/case odd is \[4,4,4\]/);
  });
});

describe('fit on GPU batches', () => {
  it('trains, and frees the cases and the batch asked for ahead when it stops', async () => {
    const ctx = await gpu();
    const model = new VNet({ baseChannels: 2, kernelSize: 3, encoderConvs: [1, 1], decoderConvs: [1], seed: 1 });
    const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
    const initial = await Promise.all(model.parameters().map((p) => p.toArray()));
    const before = ctx.memory().bytesInUse;
    // biome-ignore lint/suspicious/noFocusedTests: voxgpu's training loop, not Jasmine's focused test
    const losses = await fit(model, optimizer, gpuBatchIterator(cases, { batchSize: 1, seed: 2 }), { iterations: 3, tune: false });
    expect(losses).toHaveLength(3);
    expect(losses.every(Number.isFinite)).toBe(true);
    // Adam moves every parameter that has a gradient: all of them.
    const trained = await Promise.all(model.parameters().map((p) => p.toArray()));
    const unchanged = [...model.namedParameters()].map(([n]) => n).filter((_, i) => maxAbsDiff(trained[i]!, initial[i]!) === 0);
    expect(unchanged, 'parameters left unchanged').toEqual([]);
    // What stays is the parameters' gradients and Adam's moments; cases, histograms and batches are freed.
    for (const p of model.parameters()) p.grad?.dispose();
    optimizer.dispose();
    expect(ctx.memory().bytesInUse).toBe(before);
    model.dispose();
  });

  it('reports a batch source that fails while a step runs', async () => {
    const model = new VNet({ baseChannels: 2, kernelSize: 3, encoderConvs: [1, 1], decoderConvs: [1], seed: 1 });
    const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
    async function* failing() {
      yield* gpuBatchIterator(cases, { batchSize: 1, batches: 1 });
      throw new Error('scan 2 is unreadable');
    }
    // biome-ignore lint/suspicious/noFocusedTests: voxgpu's training loop, not Jasmine's focused test
    await expect(fit(model, optimizer, failing(), { iterations: 3, tune: false })).rejects.toThrow('scan 2 is unreadable');
    model.dispose();
    optimizer.dispose();
  });
});
