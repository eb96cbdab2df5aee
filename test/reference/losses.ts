// Float64 references for the Dice and cross-entropy losses, with their analytic gradients (checked
// in turn against finite differences), written from the formulas: the V-Net paper's section 3 and
// PyTorch's weighted cross_entropy.
import { logSoftmax } from './activations.js';

export interface LossShape {
  batch: number;
  channels: number;
  voxels: number;
}

/** A label's class: labels that are not integers in [0, C) are class 0, the background. */
function classOf(label: number, channels: number): number {
  return Number.isInteger(label) && label >= 0 && label < channels ? label : 0;
}

/** One-hot [N, C, voxels] from labels [N, voxels]. */
export function oneHot(labels: ArrayLike<number>, { batch, channels, voxels }: LossShape): Float64Array {
  const out = new Float64Array(batch * channels * voxels);
  for (let n = 0; n < batch; n++) {
    for (let s = 0; s < voxels; s++) {
      out[(n * channels + classOf(labels[n * voxels + s]!, channels)) * voxels + s] = 1;
    }
  }
  return out;
}

interface DiceSums {
  inter: number;
  union: number;
}

function diceSums(p: Float64Array, g: Float64Array, n: number, c: number, { channels, voxels }: LossShape, eps: number): DiceSums {
  let inter = 0;
  let union = eps;
  for (let s = 0; s < voxels; s++) {
    const i = (n * channels + c) * voxels + s;
    inter += p[i]! * g[i]!;
    union += p[i]! * p[i]! + g[i]! * g[i]!;
  }
  return { inter, union };
}

/** Per-sample Dice losses 1 − mean over `classes` of 2·Σpg / (Σp² + Σg² + eps); g one-hot. */
export function diceLoss(p: Float64Array, g: Float64Array, shape: LossShape, classes: readonly number[], eps: number): Float64Array {
  const out = new Float64Array(shape.batch);
  for (let n = 0; n < shape.batch; n++) {
    let dice = 0;
    for (const c of classes) {
      const { inter, union } = diceSums(p, g, n, c, shape, eps);
      dice += (2 * inter) / union;
    }
    out[n] = 1 - dice / classes.length;
  }
  return out;
}

/** Gradient in p of Σ_n upstream[n]·loss_n, from ∂D/∂p_j = 2·(g_j·U − 2·p_j·I) / U². */
export function diceLossBackward(
  p: Float64Array,
  g: Float64Array,
  shape: LossShape,
  classes: readonly number[],
  eps: number,
  upstream: ArrayLike<number>,
): Float64Array {
  const grad = new Float64Array(p.length);
  for (let n = 0; n < shape.batch; n++) {
    for (const c of classes) {
      const { inter, union } = diceSums(p, g, n, c, shape, eps);
      for (let s = 0; s < shape.voxels; s++) {
        const i = (n * shape.channels + c) * shape.voxels + s;
        const dD = (2 * (g[i]! * union - 2 * p[i]! * inter)) / (union * union);
        grad[i] = (-upstream[n]! / classes.length) * dD;
      }
    }
  }
  return grad;
}

/** The class of each voxel and log softmax(x) over channels. */
function classesAndLogProbs(x: Float64Array, labels: ArrayLike<number>, shape: LossShape): { target: Int32Array; logp: Float64Array } {
  const { batch, channels, voxels } = shape;
  const target = Int32Array.from(labels, (l) => classOf(l, channels));
  return { target, logp: logSoftmax(x, [batch, channels, voxels], 1) };
}

/** Per-voxel −weight[t]·log softmax(x)_t, and the weights weight[t] (PyTorch's weighted mean divides by their sum). */
export function crossEntropy(
  x: Float64Array,
  labels: ArrayLike<number>,
  shape: LossShape,
  weight: ArrayLike<number>,
): { losses: Float64Array; weights: Float64Array } {
  const { target, logp } = classesAndLogProbs(x, labels, shape);
  const weights = Float64Array.from(target, (t) => weight[t]!);
  const losses = weights.map((w, v) => {
    const n = Math.floor(v / shape.voxels);
    return -w * logp[(n * shape.channels + target[v]!) * shape.voxels + (v % shape.voxels)]!;
  });
  return { losses, weights };
}

/** Gradient in x of Σ_v upstream[v]·losses[v]: upstream·weight[t]·(softmax − onehot). */
export function crossEntropyBackward(
  x: Float64Array,
  labels: ArrayLike<number>,
  shape: LossShape,
  weight: ArrayLike<number>,
  upstream: ArrayLike<number>,
): Float64Array {
  const { target, logp } = classesAndLogProbs(x, labels, shape);
  const { channels, voxels } = shape;
  return logp.map((lp, i) => {
    const n = Math.floor(i / (channels * voxels));
    const c = Math.floor(i / voxels) % channels;
    const v = n * voxels + (i % voxels);
    return upstream[v]! * weight[target[v]!]! * (Math.exp(lp) - (c === target[v] ? 1 : 0));
  });
}
