/**
 * Training data pipeline, browser-safe (loader-node.ts reads folders): preprocessing as in the paper (resample
 * to a common spacing, crop/pad to the network size, normalise), then an endless, seeded stream of augmented
 * batches (B-spline deformation + histogram matching, and optionally nnU-Net's mirroring; see augment.ts).
 *
 * Sizes and spacings are in Volume order, `[x, y, z]` (the paper's 128 × 128 × 64 voxels of 1 × 1 × 1.5 mm);
 * batches come out in tensor order, `[B, 1, D, H, W]` = `[B, 1, z, y, x]`, which is the same flat layout.
 *
 * Prefetching: while the consumer works on batch n (typically awaiting the GPU), batch n + 1 is prepared in
 * a macrotask on the same thread, so CPU augmentation overlaps GPU compute. (Moving it to a worker would also
 * overlap the consumer's own CPU work; the interface would not change.)
 */
import type { Vec3, Volume } from '../image/volume.js';
import { bsplineField, matchHistogram, mirror, randomControlGrid, warp, type ControlGrid, type DeformationOptions } from './augment.js';
import { centerCropOrPad } from './crop.js';
import { rescaleIntensity, zscore } from './intensity.js';
import { Rng } from './random.js';
import { resampleToGrid, resampleToSpacing } from './resample.js';

export interface PrepareOptions {
  /** Target spacing in mm, `[x, y, z]`; default the paper's [1, 1, 1.5]; null keeps each scan's own. */
  spacing?: Vec3 | null;
  /** Network input size, `[x, y, z]`; default the paper's [128, 128, 64]. */
  size?: Vec3;
  /** Intensity normalisation; default 'zscore' (then padding, which is 0, equals the mean intensity). */
  normalize?: 'zscore' | 'rescale' | 'none';
}

export interface PreparedCase {
  id: string;
  /** Normalised intensities, `size` voxels, x fastest. */
  image: Float32Array;
  /** 1 on the foreground (any non-zero source label), else 0. */
  label: Uint8Array;
  /** `[x, y, z]`. */
  shape: Vec3;
}

export function prepareCase(id: string, image: Volume, label: Volume, options: PrepareOptions = {}): PreparedCase {
  const { spacing = [1, 1, 1.5], size = [128, 128, 64], normalize = 'zscore' } = options;
  const resampled = spacing ? resampleToSpacing(image, spacing, 'linear') : image;
  // The label follows the image's (resampled) grid exactly, whatever small header differences it has.
  const labelOnGrid = resampleToGrid(label, resampled, 'nearest');
  const normalized = { ...resampled, data: normalizeIntensity(resampled.data, normalize) };
  const croppedImage = centerCropOrPad(normalized, size);
  const croppedLabel = centerCropOrPad(labelOnGrid, size);
  return {
    id,
    image: croppedImage.data instanceof Float32Array ? croppedImage.data : Float32Array.from(croppedImage.data),
    label: Uint8Array.from(croppedLabel.data, (v) => (v !== 0 ? 1 : 0)),
    shape: [...size],
  };
}

function normalizeIntensity(data: ArrayLike<number>, mode: PrepareOptions['normalize']): Float32Array {
  if (mode === 'zscore') return zscore(data);
  if (mode === 'rescale') return rescaleIntensity(data, { lowerPercentile: 0.5, upperPercentile: 99.5 });
  return Float32Array.from(data);
}

export interface BatchOptions {
  /** Cases per batch; default 2. */
  batchSize?: number;
  /** Seeds order and augmentation; the same seed replays the same batches. Default 0. */
  seed?: number;
  /** Stop after this many batches; default never. */
  batches?: number;
  /** Random B-spline deformation (default: the paper's), or false. */
  deformation?: DeformationOptions | false;
  /** Match each image's histogram to another random case's; default true. */
  histogramMatching?: boolean;
  /** Mirror each sample (image and label) along each axis with probability ½, after the deformation; default false. */
  mirror?: boolean;
}

export interface Batch {
  image: Float32Array;
  label: Uint8Array;
  /** `[B, 1, D, H, W]`. */
  shape: [number, 1, number, number, number];
  ids: string[];
}

/** The one size all cases share (batches need it), or an error naming the odd one out. */
export function commonShape(cases: PreparedCase[]): Vec3 {
  if (cases.length === 0) throw new Error('no cases to draw batches from');
  const shape = cases[0].shape;
  const bad = cases.find((c) => c.shape.some((n, a) => n !== shape[a]));
  if (bad) throw new Error(`case ${bad.id} is [${bad.shape}], not [${shape}] like ${cases[0].id}: prepare all cases to one size`);
  return shape;
}

/** What one sample's augmentation takes from the generator: the CPU and GPU paths draw the same, in this order. */
export interface SampleDraw {
  index: number;
  /** The case whose histogram the image is matched to, or null. */
  partner: number | null;
  /** The B-spline control grid, or null without deformation. */
  grid: ControlGrid | null;
  /** The axes to mirror the sample along, as augment.ts mirror() takes them (0: none). */
  axes: number;
}

/** Draws samples from `rng`: epochs of every case once in a fresh random order, each with its augmentation. */
export function sampleDrawer(
  caseCount: number,
  rng: Rng,
  options: Pick<BatchOptions, 'deformation' | 'histogramMatching' | 'mirror'>,
): () => SampleDraw {
  const { deformation = {}, histogramMatching = true, mirror = false } = options;
  let order: number[] = [];
  return () => {
    if (order.length === 0) order = rng.shuffle([...Array(caseCount).keys()]);
    const index = order.pop()!;
    const partner = histogramMatching && caseCount > 1 ? (index + rng.int(1, caseCount)) % caseCount : null;
    const grid = deformation ? randomControlGrid(rng, deformation) : null;
    // Drawn last, and only when asked for: without mirroring a seed replays the batches it always did.
    return { index, partner, grid, axes: mirror ? rng.int(0, 8) : 0 };
  };
}

/** Batches augmented on the CPU; the same seed gives the same draws as gpuBatchIterator (batches-gpu.ts). */
export async function* batchIterator(cases: PreparedCase[], options: BatchOptions = {}): AsyncGenerator<Batch> {
  const { batchSize = 2, seed = 0, batches = Infinity } = options;
  const shape = commonShape(cases);
  const draw = sampleDrawer(cases.length, new Rng(seed), options);

  const makeBatch = (): Batch => {
    const voxels = shape[0] * shape[1] * shape[2];
    const batch: Batch = {
      image: new Float32Array(batchSize * voxels),
      label: new Uint8Array(batchSize * voxels),
      shape: [batchSize, 1, shape[2], shape[1], shape[0]],
      ids: [],
    };
    for (let b = 0; b < batchSize; b++) {
      const { index, partner, grid, axes } = draw();
      let image: Float32Array = cases[index].image;
      let label: Uint8Array = cases[index].label;
      if (partner !== null) image = matchHistogram(image, cases[partner].image);
      if (grid) {
        const field = bsplineField(shape, grid);
        image = warp(image, shape, field, 'linear') as Float32Array;
        label = warp(label, shape, field, 'nearest') as Uint8Array;
      }
      batch.image.set(mirror(image, shape, axes), b * voxels);
      batch.label.set(mirror(label, shape, axes), b * voxels);
      batch.ids.push(cases[index].id);
    }
    return batch;
  };

  let next = inNextTask(makeBatch);
  for (let produced = 0; produced < batches; produced++) {
    const batch = await next;
    if (produced + 1 < batches) next = inNextTask(makeBatch);
    yield batch;
  }
}

/** Runs `work` in a later macrotask, i.e. while the caller is awaiting something else. */
function inNextTask<T>(work: () => T): Promise<T> {
  const promise = new Promise<T>((resolve, reject) =>
    setTimeout(() => {
      try {
        resolve(work());
      } catch (error) {
        reject(error);
      }
    }, 0),
  );
  // A consumer that stops early never awaits the prefetched batch; its failure must not crash the process.
  promise.catch(() => undefined);
  return promise;
}
