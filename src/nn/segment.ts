// Inference over whole volumes: the volume is cut into overlapping windows of a size the network
// accepts, each window's probabilities are weighted by a tent that favours its centre (where the
// network saw the most context), and the weighted sum is normalised. Runs under noGrad and frees
// every window's tensors at once. With `mirror`, each window's probabilities are the mean over its 8
// mirror images (nnU-Net's test-time mirroring): the network is not mirror-equivariant, so the mean
// of its 8 answers is steadier than any one of them.
import { noGrad } from '../core/autograd.js';
import { mirror } from '../data/augment.js';
import { tidy } from '../core/memory.js';
import { tensor } from '../core/tensor.js';
import type { Vec3 } from '../image/volume.js';
import type { Module } from './module.js';

/**
 * What segment() runs: a Module whose forward() gives class probabilities [N, numClasses, D, H, W]
 * for inputs whose spatial sizes are multiples of sizeMultiple (VNet; an imported graph through
 * onnxSegmenter).
 */
export interface Segmenter extends Module {
  readonly config: { readonly inChannels: number; readonly numClasses: number };
  readonly sizeMultiple: number;
}

export interface SegmentOptions {
  /** Window size [D, H, W]; default: the volume rounded up to the network's size multiple. */
  window?: readonly [number, number, number];
  /** Fraction of a window shared with its neighbour (0 ≤ overlap < 1); default 0.5. */
  overlap?: number;
  /** Foreground threshold for two-class models; default 0.5. */
  threshold?: number;
  /** Average each window's probabilities over its 8 mirror images along D, H and W; 8× the work. Default false. */
  mirror?: boolean;
  /** Called after each window, for progress displays. */
  onWindow?: (done: number, total: number) => void;
}

export interface Segmentation {
  /** Probabilities [C, D, H, W], row-major. */
  probs: Float32Array;
  /** Labels [D, H, W]: p(foreground) > threshold for 2 classes, argmax otherwise. */
  mask: Uint8Array;
  numClasses: number;
}

function roundUp(n: number, m: number): number {
  return Math.max(m, Math.ceil(n / m) * m);
}

/** Window start positions covering [0, size) with the given stride; the last one flush with the end. */
function starts(size: number, win: number, overlap: number): number[] {
  if (size <= win) return [0];
  const stride = Math.max(1, Math.floor(win * (1 - overlap)));
  const out: number[] = [];
  for (let s = 0; s + win < size; s += stride) out.push(s);
  out.push(size - win);
  return out;
}

/** Tent weight along one axis: 1 in the middle, falling towards the edges but never to zero. */
function tent(win: number): Float32Array {
  const w = new Float32Array(win);
  for (let i = 0; i < win; i++) w[i] = Math.max(0.05, Math.min(i + 1, win - i) / (win / 2));
  return w;
}

/** Copies the window at (z0, y0, x0) out of the volume, zero-filled outside it. */
function cutWindow(data: Float32Array, shape: readonly number[], origin: number[], win: readonly number[], channels: number): Float32Array {
  const [D, H, W] = shape as [number, number, number];
  const [wd, wh, ww] = win as [number, number, number];
  const out = new Float32Array(channels * wd * wh * ww);
  for (let c = 0; c < channels; c++)
    for (let z = 0; z < wd; z++) {
      const sz = origin[0]! + z;
      if (sz >= D) continue;
      for (let y = 0; y < wh; y++) {
        const sy = origin[1]! + y;
        if (sy >= H) continue;
        const src = ((c * D + sz) * H + sy) * W + origin[2]!;
        const n = Math.min(ww, W - origin[2]!);
        out.set(data.subarray(src, src + n), ((c * wd + z) * wh + y) * ww);
      }
    }
  return out;
}

/**
 * Segments a volume `data` of shape [C_in, D, H, W] (or [D, H, W] for one channel) with sliding
 * windows. Returns host arrays; no GPU memory stays allocated.
 */
export async function segment(
  model: Segmenter,
  data: Float32Array,
  shape: readonly number[],
  options: SegmentOptions = {},
): Promise<Segmentation> {
  const spatial = shape.slice(-3) as [number, number, number];
  const inCh = shape.length === 4 ? shape[0]! : 1;
  if (
    shape.length < 3 ||
    shape.length > 4 ||
    inCh !== model.config.inChannels ||
    data.length !== inCh * spatial[0] * spatial[1] * spatial[2]
  ) {
    throw new Error(
      `segment: expected data of shape [${model.config.inChannels}, D, H, W] matching its length, got shape ` +
        `[${shape.join(', ')}] with ${data.length} values`,
    );
  }
  const overlap = options.overlap ?? 0.5;
  if (!(overlap >= 0 && overlap < 1)) throw new Error(`segment: overlap must be in [0, 1), got ${overlap}`);
  const m = model.sizeMultiple;
  const win = (options.window ?? spatial.map((d) => roundUp(d, m))) as [number, number, number];
  if (win.some((d) => d % m !== 0)) throw new Error(`segment: window ${win.join('×')} must be divisible by ${m}`);
  const C = model.config.numClasses;
  const [D, H, W] = spatial;
  const acc = new Float32Array(C * D * H * W);
  const weight = new Float32Array(D * H * W);
  const tents = win.map(tent);
  const wasTraining = model.training;
  model.eval();
  const origins = starts(D, win[0], overlap).flatMap((z0) =>
    starts(H, win[1], overlap).flatMap((y0) => starts(W, win[2], overlap).map((x0) => [z0, y0, x0] as const)),
  );
  try {
    for (const [done, [z0, y0, x0]] of origins.entries()) {
      const input = cutWindow(data, [D, H, W], [z0, y0, x0], win, inCh);
      const probs = await windowProbs(model, input, inCh, win, options.mirror ?? false);
      blend(acc, weight, probs, [D, H, W], [z0, y0, x0], win, tents, C);
      options.onWindow?.(done + 1, origins.length);
    }
  } finally {
    model.train(wasTraining);
  }
  for (let i = 0; i < weight.length; i++) for (let c = 0; c < C; c++) acc[c * weight.length + i]! /= weight[i]!;
  return { probs: acc, mask: hardMask(acc, C, weight.length, options.threshold ?? 0.5), numClasses: C };
}

/**
 * The network's probabilities [C, ...win] for one window, or their mean over the window's 8 mirror images.
 * One image per forward pass rather than a batch of 8: a batch would hold 8× the activations, and at the
 * paper's 128 × 128 × 64 two samples already pass llvmpipe's 128 MiB storage-binding limit.
 */
async function windowProbs(
  model: Segmenter,
  input: Float32Array,
  inCh: number,
  win: readonly number[],
  mirrors: boolean,
): Promise<Float32Array> {
  const C = model.config.numClasses;
  const volume: Vec3 = [win[2]!, win[1]!, win[0]!];
  let sum: Float32Array | undefined;
  const images = mirrors ? 8 : 1;
  for (let axes = 0; axes < images; axes++) {
    const probsT = noGrad(() => tidy(() => model.forward(tensor(mirror(input, volume, axes, inCh), [1, inCh, ...win]))));
    const probs = mirror(await probsT.toArray(), volume, axes, C);
    probsT.dispose();
    if (!sum) sum = probs;
    else for (let i = 0; i < sum.length; i++) sum[i]! += probs[i]!;
  }
  if (images > 1) for (let i = 0; i < sum!.length; i++) sum![i]! /= images;
  return sum!;
}

function blend(
  acc: Float32Array,
  weight: Float32Array,
  probs: Float32Array,
  shape: number[],
  origin: number[],
  win: number[],
  tents: Float32Array[],
  C: number,
): void {
  const [D, H, W] = shape as [number, number, number];
  const [wd, wh, ww] = win as [number, number, number];
  for (let z = 0; z < wd && origin[0]! + z < D; z++)
    for (let y = 0; y < wh && origin[1]! + y < H; y++)
      for (let x = 0; x < ww && origin[2]! + x < W; x++) {
        const w = tents[0]![z]! * tents[1]![y]! * tents[2]![x]!;
        const dst = ((origin[0]! + z) * H + origin[1]! + y) * W + origin[2]! + x;
        weight[dst]! += w;
        for (let c = 0; c < C; c++) acc[c * D * H * W + dst]! += w * probs[((c * wd + z) * wh + y) * ww + x]!;
      }
}

function hardMask(probs: Float32Array, C: number, voxels: number, threshold: number): Uint8Array {
  const mask = new Uint8Array(voxels);
  for (let i = 0; i < voxels; i++) {
    if (C === 2) {
      mask[i] = probs[voxels + i]! > threshold ? 1 : 0;
      continue;
    }
    let best = 0;
    for (let c = 1; c < C; c++) if (probs[c * voxels + i]! > probs[best * voxels + i]!) best = c;
    mask[i] = best;
  }
  return mask;
}
