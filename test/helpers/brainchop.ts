// brainchop's pipeline in TF.js, the reference for segmentBrainchop.
import { importTfjsModel, type TfjsModel } from '../../src/index.js';
import { applyAsBrainchop, saveToMemory, seedWeights, tf } from './tfjs.js';

/**
 * A small MeshNet-like model with seeded weights, in TF.js and imported into voxgpu: a dilated `_gn`
 * conv (brainchop's instance normalisation follows it), ELU, a 1×1×1 classifier to `classes`, whose
 * class-0 bias is raised by `background` (sparser labels: islands for a connected-component step).
 */
export async function seededMeshNet(seed: number, classes = 3, background = 0): Promise<{ reference: tf.LayersModel; model: TfjsModel }> {
  const input = tf.input({ shape: [null, null, null, 1] as unknown as number[] });
  const hidden = tf.layers
    .conv3d({ name: 'c_gn', filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same' })
    .apply(input) as tf.SymbolicTensor;
  const act = tf.layers.activation({ name: 'a', activation: 'elu' }).apply(hidden) as tf.SymbolicTensor;
  const output = tf.layers.conv3d({ name: 'output', filters: classes, kernelSize: 1, padding: 'same' }).apply(act) as tf.SymbolicTensor;
  const reference = tf.model({ inputs: input, outputs: output });
  seedWeights(reference, seed);
  const classifier = reference.getLayer('output');
  const [kernel, bias] = classifier.getWeights();
  classifier.setWeights([kernel!, bias!.add(tf.oneHot([0], classes).reshape([classes]).mul(background))]);
  const { json, weights } = await saveToMemory(reference);
  return { reference, model: importTfjsModel(json, weights) };
}

export interface BrainchopReferenceOptions {
  /** cropPadding. */
  pad: number;
  /** enableQuantileNorm. */
  quantile?: boolean;
  /** autoThreshold. */
  threshold?: number;
  /** A pre-model's labels (scan order): the crop surrounds their non-zero voxels. */
  mask?: ArrayLike<number>;
}

/**
 * brainchop's runFullVolumeInference in TF.js, copied from its inference-logic.js and tensor-utils.js
 * (minMaxNormalizeVolumeData, quantileNormalizeVolumeData with calculateQuantiles' index rule,
 * applyMriThreshold, cropAndGetCorner's adjustCorner clipped to this volume instead of 256), then
 * transpose, the layers, argmax, transpose back, pad back. Returns labels in the scan's flat order.
 */
export function brainchopInTfjs(
  model: tf.LayersModel,
  scan: Float32Array,
  [nx, ny, nz]: readonly number[],
  options: BrainchopReferenceOptions,
): Int32Array {
  const { pad, quantile = false, threshold = 0, mask: preMask } = options;
  return tf.tidy(() => {
    const slices = tf.tensor(scan, [nz, ny, nx]);
    let normalized: tf.Tensor3D;
    if (quantile) {
      const sorted = Array.from(scan).sort((a, b) => a - b);
      const qmin = tf.scalar(sorted[Math.floor(sorted.length * 0.05)]!);
      const qmax = tf.scalar(sorted[Math.ceil(sorted.length * 0.95) - 1]!);
      normalized = slices.sub(qmin).div(qmax.sub(qmin));
    } else normalized = slices.sub(slices.min()).div(slices.max().sub(slices.min()));
    let maskTensor: tf.Tensor;
    if (preMask) maskTensor = tf.tensor(Float32Array.from(preMask), [nz, ny, nx]).greater(0);
    else if (threshold > 0 && threshold <= 1) maskTensor = normalized.greater(normalized.max().mul(threshold).dataSync()[0]!);
    else maskTensor = normalized.greater(0);
    const mask = maskTensor.arraySync() as unknown as number[][][];
    const lo = [Infinity, Infinity, Infinity];
    const hi = [-1, -1, -1];
    mask.forEach((plane, r) =>
      plane.forEach((row, c) =>
        row.forEach((m, d) => {
          if (!m) return;
          [r, c, d].forEach((p, a) => {
            lo[a] = Math.min(lo[a]!, p);
            hi[a] = Math.max(hi[a]!, p);
          });
        }),
      ),
    );
    const sizes = [nz, ny, nx];
    const start = lo.map((l) => Math.max(0, l - Math.min(l, pad)));
    const end = hi.map((h, a) => Math.min(sizes[a]! - 1, h + Math.min(sizes[a]! - 1 - h, pad)));
    const cropped = normalized
      .slice(start as [number, number, number], end.map((e, a) => e - start[a]! + 1) as [number, number, number])
      .transpose();
    const h = applyAsBrainchop(model, cropped.reshape([1, ...cropped.shape, 1]));
    const labels = (tf.squeeze(tf.argMax(h, -1)) as tf.Tensor3D).transpose();
    const paddings = start.map((s, a) => [s, sizes[a]! - labels.shape[a]! - s]) as [number, number][];
    return labels.pad(paddings).dataSync() as Int32Array;
  });
}
