/**
 * Training batches augmented on the GPU: the cases live on the GPU (with their histograms, made once), and
 * each batch is a handful of dispatches recorded behind whatever the GPU is doing, with no readback. The
 * seeded draws are batchIterator's (sampleDrawer), so a seed gives the same augmentation on both paths,
 * within the tolerances of augment-gpu.ts.
 */
import { empty, tensor, type Tensor } from '../core/tensor.js';
import { bsplineFieldGpu, histogramGpu, matchHistogramGpu, warpGpu, type GpuHistogram } from './augment-gpu.js';
import { batchIterator, commonShape, sampleDrawer, type BatchOptions, type PreparedCase } from './loader.js';
import type { DeviceBatch, HostBatch } from './batch.js';
import { Rng } from './random.js';

/** A batch on the GPU, owned by the consumer (dispose both). */
export interface GpuBatch {
  /** `[B, 1, D, H, W]`. */
  image: Tensor;
  /** `[B, D, H, W]`, 0/1 as float32. */
  labels: Tensor;
  ids: string[];
}

/**
 * The GPU twin of batchIterator. Uploads every case once (image and label, 8 bytes a voxel, plus 256 KiB
 * of histogram per case when matching); all of it is freed when the iteration ends.
 */
export async function* gpuBatchIterator(cases: PreparedCase[], options: BatchOptions = {}): AsyncGenerator<GpuBatch> {
  const { batchSize = 2, seed = 0, batches = Infinity, histogramMatching = true } = options;
  const shape = commonShape(cases);
  const voxels = shape[0] * shape[1] * shape[2];
  const draw = sampleDrawer(cases.length, new Rng(seed), options);
  const images = cases.map((c) => tensor(c.image));
  const labels = cases.map((c) => tensor(c.label));
  const histograms: GpuHistogram[] = histogramMatching && cases.length > 1 ? images.map((t) => histogramGpu(t)) : [];
  // Without deformation, the identity warp (exact) places each sample in the batch, mirrored if drawn so.
  let zeroField: Tensor | null = null;
  try {
    for (let produced = 0; produced < batches; produced++) {
      const batch = {
        image: empty([batchSize, 1, shape[2], shape[1], shape[0]]),
        labels: empty([batchSize, shape[2], shape[1], shape[0]]),
        ids: [] as string[],
      };
      for (let b = 0; b < batchSize; b++) {
        const { index, partner, grid, axes } = draw();
        const matched = partner !== null ? matchHistogramGpu(histograms[index]!, histograms[partner]!) : null;
        const field = grid ? bsplineFieldGpu(shape, grid) : (zeroField ??= tensor(new Float32Array(3 * voxels)));
        warpGpu(matched ?? images[index]!, labels[index]!, field, shape, {
          into: { image: batch.image, label: batch.labels, offset: b * voxels },
          mirror: axes,
        });
        matched?.dispose();
        if (field !== zeroField) field.dispose();
        batch.ids.push(cases[index].id);
      }
      yield batch;
    }
  } finally {
    for (const t of [...images, ...labels, ...histograms, zeroField]) t?.dispose();
  }
}

/**
 * fit()'s batches, augmented on the GPU (the default: no CPU work per step) or on the CPU (the float64
 * reference); the same seed draws the same cases and augmentation on both.
 */
export async function* augmentedBatches(
  cases: PreparedCase[],
  options: BatchOptions & { augmentOn?: 'gpu' | 'cpu' } = {},
): AsyncGenerator<HostBatch | DeviceBatch> {
  if (options.augmentOn === 'cpu') {
    for await (const b of batchIterator(cases, options)) yield { image: b.image, labels: b.label, shape: b.shape };
  } else {
    yield* gpuBatchIterator(cases, options);
  }
}
