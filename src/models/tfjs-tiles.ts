// Exact whole-volume inference for imported models within a device-memory bound. A MeshNet's
// receptive field can exceed the volume (mindgrab's: 311 voxels), so a sliding window would change
// the result; instead the model runs layer by layer. A layer that fits the budget runs whole on the
// device (its output stays there); any other is computed in tiles along D and H (W whole) whose inputs
// carry the halo that layer's kernel and dilation read, zeros beyond the volume as the one-pass padding
// has, from its input on the host into its output on the host: over its input itself when the layer
// keeps the channels and the size (a MeshNet's hidden convs and activations), so host memory holds one
// activation, not two (`tiledLayer`). An instance normalisation's statistics
// span the whole output, so a tiled layer's are taken on the host (float64) once it is complete; the
// last layer's argmax runs on the device, so the class scores never exist in full.
import { getContext } from '../device/context.js';
import { noGrad } from '../core/autograd.js';
import { tidy } from '../core/memory.js';
import { argmax } from '../ops/argmax.js';
import { instanceNorm } from '../ops/norm.js';
import { empty, Tensor, tensor } from '../core/tensor.js';
import { autotune, type AutotuneOptions } from '../autotune.js';
import type { KerasModule } from './tfjs-layers.js';
import { brainchopInstanceNormEps, type TfjsModel } from './tfjs-model.js';

export interface VolumeInferenceOptions {
  /**
   * The most bytes one tile's input, or its output, may take on the device. Peak device memory is
   * about three times this plus the weights (input, conv output, activation output). Default: a
   * quarter of maxStorageBufferBindingSize, at most 64 MiB.
   */
  maxTileBytes?: number;
  /** Also return the model's output [C, D, H, W] (the whole of it on the host). */
  scores?: boolean;
  /** Measure the conv kernels' variants for each layer's tile shape first (autotune), `true` or autotune's options. */
  tune?: boolean | AutotuneOptions;
  /** Called after each layer: (layers done, layers in all). */
  onLayer?: (done: number, total: number) => void;
}

export interface VolumeInference {
  /** The argmax over the output channels per voxel, [D, H, W] ('valid' convs shrink it). */
  labels: Uint16Array;
  shape: [number, number, number];
  scores?: Float32Array;
}

type Dims = [number, number, number];

/** A layer's output tile: [z0, z0 + tz) × [y0, y0 + ty) × all of W. */
interface Tile {
  z0: number;
  y0: number;
  tz: number;
  ty: number;
}

/**
 * The model over a whole volume, data [C, D, H, W] (C = model.inChannels, one sample), equal within
 * float32 rounding to `model.forward` on the whole volume at once, with no device buffer above
 * `maxTileBytes`.
 */
export async function predictVolume(
  model: TfjsModel,
  data: Float32Array,
  shape: readonly number[],
  options: VolumeInferenceOptions = {},
): Promise<VolumeInference> {
  const [d, h, w] = shape;
  if (shape.length !== 3 || !shape.every((s) => Number.isInteger(s) && s > 0) || data.length !== model.inChannels * d! * h! * w!) {
    throw new Error(
      `predictVolume: expected data [${model.inChannels}, D, H, W] with shape [D, H, W], got shape [${shape.join(', ')}] and ` +
        `${data.length} values`,
    );
  }
  const last = model.layers.length - 1;
  if (model.instanceNormAfter.has(last))
    throw new Error('predictVolume: the last layer is followed by an instance normalisation; its argmax cannot run per tile');
  const limits = getContext().limits;
  const maxBytes = options.maxTileBytes ?? Math.min(limits.maxStorageBufferBindingSize / 4, 64 * 2 ** 20);
  const steps = schedule(model, [d!, h!, w!], maxBytes, options.scores ?? false);
  if (options.tune) await autotune(() => dryRun(steps), options.tune === true ? {} : options.tune);
  // A layer's input: on the host, or still on the device when the previous layer ran as one tile.
  let act: Float32Array | Tensor = data;
  let result: { labels: Uint16Array; scores?: Float32Array } | null = null;
  try {
    for (const [i, step] of steps.entries()) {
      const input: Float32Array | Tensor = act;
      // From here the input is the layer's to free.
      act = data;
      if (step.plan.length === 1) {
        // The whole layer fits: it runs as forward() does, and its output stays on the device.
        const out = wholeLayer(input instanceof Tensor ? input : tensor(input, [1, step.channels, ...step.dims]), step);
        if (out instanceof Tensor) act = out;
        else result = await out;
      } else {
        // The caller's data is never written over; an activation read back from the device or made by a tiled layer is ours.
        const host: Float32Array = input instanceof Tensor ? await read(input) : input;
        const out = await tiledLayer(host, step, host !== data);
        // The next layer's tiles have other sizes: its buffers would not reuse this one's.
        getContext().emptyCache();
        if (step.last) result = { labels: out.labels, scores: out.output };
        else act = out.output!;
      }
      options.onLayer?.(i + 1, steps.length);
    }
  } finally {
    if (act instanceof Tensor) act.dispose();
  }
  return { labels: result!.labels, shape: steps.at(-1)!.outDims, ...(options.scores ? { scores: result!.scores } : {}) };
}

/** Each layer's input and output sizes and its tiles (one tile: the layer runs whole). */
function schedule(model: TfjsModel, shape: Dims, maxBytes: number, scores: boolean): Step[] {
  const last = model.layers.length - 1;
  let dims = shape;
  let channels = model.inChannels;
  return model.layers.map((layer, i) => {
    const outChannels = layer.outChannels(channels);
    const { span, pad } = layer.reach();
    const outDims = dims.map((n, a) => n + pad[a]! - span[a]!) as Dims;
    if (outDims.some((n) => n < 1))
      throw new Error(`predictVolume: layer "${layer.name}" leaves no output from a volume of [${dims.join(', ')}]`);
    const plan = tiles(layer, channels, dims, outChannels, outDims, maxBytes);
    const step = { layer, channels, dims, outChannels, outDims, plan, normalize: model.instanceNormAfter.has(i), last: i === last, scores };
    dims = outDims;
    channels = outChannels;
    return step;
  });
}

/** Every layer once at the size of its first (largest) tile, for autotune's dry run: no GPU work. */
function dryRun(steps: readonly Step[]): void {
  noGrad(() =>
    tidy(() => {
      for (const s of steps) {
        const { span } = s.layer.reach();
        const t = s.plan[0]!;
        if (s.plan.length === 1) s.layer.forward(empty([1, s.channels, ...s.dims]));
        else s.layer.forwardCut(empty([1, s.channels, t.tz + span[0], t.ty + span[1], s.dims[2]]), [true, true, false]);
      }
    }),
  );
}

interface Step {
  layer: KerasModule;
  plan: Tile[];
  channels: number;
  dims: Dims;
  outChannels: number;
  outDims: Dims;
  /** Followed by brainchop's instance normalisation. */
  normalize: boolean;
  last: boolean;
  /** The last layer's output is wanted too, not only its argmax. */
  scores: boolean;
}

/** A layer in one pass on the device (its input freed): its output tensor, or for the last layer its labels (and scores). */
function wholeLayer(input: Tensor, s: Step): Tensor | Promise<{ labels: Uint16Array; scores?: Float32Array }> {
  const { y, best } = noGrad(() =>
    tidy(() => {
      let y = s.layer.forward(input);
      if (s.normalize) y = instanceNorm(y, { eps: brainchopInstanceNormEps });
      return { y: !s.last || s.scores ? y : null, best: s.last ? argmax(y, 1) : null };
    }),
  );
  input.dispose();
  if (!s.last) return y!;
  return (async () => ({ labels: Uint16Array.from(await read(best!)), ...(y ? { scores: await read(y) } : {}) }))();
}

/**
 * A layer in tiles from its input on the host: its output on the host (unless it is the last and only
 * labels are wanted), and the last layer's labels. With `reuse` (the input is ours to overwrite) a layer
 * that keeps the channels and the size writes its output over its input: the tiles run in order of D,
 * and a tile reads no input plane below its first output plane − before, so each D-slab of output waits
 * in a queue only until no later tile reads the planes it replaces (before + one slab's planes at most).
 */
async function tiledLayer(act: Float32Array, s: Step, reuse: boolean): Promise<{ labels: Uint16Array; output?: Float32Array }> {
  const { outChannels, outDims } = s;
  const wanted = !s.last || s.scores;
  const inPlace = wanted && reuse && outChannels === s.channels && outDims.every((n, a) => n === s.dims[a]);
  const out = !wanted ? undefined : inPlace ? act : new Float32Array(outChannels * outDims[0] * outDims[1] * outDims[2]);
  const labels = new Uint16Array(s.last ? outDims[0] * outDims[1] * outDims[2] : 0);
  const before = s.layer.reach().before[0];
  // In place: finished D-slabs of output [C, tz, H, W], oldest first, not yet written over the input.
  const queue: { slab: Float32Array; tile: Tile }[] = [];
  const flush = (below: number) => {
    while (queue.length && queue[0]!.tile.z0 + queue[0]!.tile.tz <= below) {
      const { slab, tile } = queue.shift()!;
      scatter(slab, out!, outChannels, outDims, tile);
    }
  };
  for (const tile of s.plan) {
    if (inPlace && tile.y0 === 0) {
      flush(tile.z0 - before);
      queue.push({
        slab: new Float32Array(outChannels * tile.tz * outDims[1] * outDims[2]),
        tile: { z0: tile.z0, y0: 0, tz: tile.tz, ty: outDims[1] },
      });
    }
    const input = gather(act, s.channels, s.dims, s.layer, tile);
    const { y, best } = noGrad(() =>
      tidy(() => {
        const y = s.layer.forwardCut(input, [true, true, false]);
        return { y: out ? y : null, best: s.last ? argmax(y, 1) : null };
      }),
    );
    input.dispose();
    if (y && inPlace) scatter(await read(y), queue.at(-1)!.slab, outChannels, [tile.tz, outDims[1], outDims[2]], { ...tile, z0: 0 });
    else if (y) scatter(await read(y), out!, outChannels, outDims, tile);
    if (best) scatter(Uint16Array.from(await read(best)), labels, 1, outDims, tile);
  }
  flush(Infinity);
  if (out && s.normalize) normalizeChannels(out, outChannels);
  return { labels, output: out };
}

async function read(t: Tensor): Promise<Float32Array> {
  try {
    return await t.toArray();
  } finally {
    t.dispose();
  }
}

/** Tiles covering the output: whole H·W planes when they fit the budget, else fewer rows of H. */
function tiles(layer: KerasModule, channels: number, dims: Dims, outChannels: number, outDims: Dims, maxBytes: number): Tile[] {
  const { span } = layer.reach();
  const fits = (tz: number, ty: number) =>
    channels * (tz + span[0]) * (ty + span[1]) * dims[2] * 4 <= maxBytes && outChannels * tz * ty * outDims[2] * 4 <= maxBytes;
  let ty = outDims[1];
  while (ty > 1 && !fits(1, ty)) ty = Math.ceil(ty / 2);
  if (!fits(1, ty)) {
    const need = Math.max(channels * (1 + span[0]) * (1 + span[1]) * dims[2], outChannels * outDims[2]) * 4;
    throw new Error(
      `predictVolume: layer "${layer.name}" needs ${need} bytes for a one-voxel-high tile, more than maxTileBytes (${maxBytes})`,
    );
  }
  let tz = 1;
  while (tz < outDims[0] && fits(tz + 1, ty)) tz++;
  const out: Tile[] = [];
  for (let z0 = 0; z0 < outDims[0]; z0 += tz) {
    for (let y0 = 0; y0 < outDims[1]; y0 += ty) out.push({ z0, y0, tz: Math.min(tz, outDims[0] - z0), ty: Math.min(ty, outDims[1] - y0) });
  }
  return out;
}

/** The input planes a tile reads (its halo included), zeros beyond the volume, as a device tensor. */
function gather(src: Float32Array, channels: number, [D, H, W]: Dims, layer: KerasModule, t: Tile): Tensor {
  const { before, span } = layer.reach();
  const nz = t.tz + span[0];
  const ny = t.ty + span[1];
  const z0 = t.z0 - before[0];
  const y0 = t.y0 - before[1];
  const out = new Float32Array(channels * nz * ny * W);
  for (let c = 0; c < channels; c++) {
    for (let z = Math.max(0, -z0); z < Math.min(nz, D - z0); z++) {
      const yFrom = Math.max(0, -y0);
      const yTo = Math.min(ny, H - y0);
      if (yTo <= yFrom) continue;
      const from = ((c * D + z0 + z) * H + y0 + yFrom) * W;
      out.set(src.subarray(from, from + (yTo - yFrom) * W), ((c * nz + z) * ny + yFrom) * W);
    }
  }
  return tensor(out, [1, channels, nz, ny, W]);
}

/** A tile's output [C, tz, ty, W] into its place in the whole [C, D, H, W]. */
function scatter(tile: ArrayLike<number>, dst: Float32Array | Uint16Array, channels: number, [D, H, W]: Dims, t: Tile): void {
  const src = tile as Float32Array | Uint16Array;
  for (let c = 0; c < channels; c++) {
    for (let z = 0; z < t.tz; z++) {
      const from = (c * t.tz + z) * t.ty * W;
      dst.set(src.subarray(from, from + t.ty * W) as never, ((c * D + t.z0 + z) * H + t.y0) * W);
    }
  }
}

/** brainchop's instance normalisation in place: per channel, (x − mean) / √(var + ε), statistics in float64. */
function normalizeChannels(x: Float32Array, channels: number): void {
  const n = x.length / channels;
  for (let c = 0; c < channels; c++) {
    const v = x.subarray(c * n, (c + 1) * n);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += v[i]!;
    const mean = sum / n;
    let sq = 0;
    for (let i = 0; i < n; i++) sq += (v[i]! - mean) ** 2;
    const scale = 1 / Math.sqrt(sq / n + brainchopInstanceNormEps);
    for (let i = 0; i < n; i++) v[i] = (v[i]! - mean) * scale;
  }
}
