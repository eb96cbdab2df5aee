// brainchop's smallest MeshNet (test/fixtures/brainchop/model5_gw_ae, see the README there) end to
// end: read from its files by voxgpu and by TensorFlow.js, run on the same volume, the class scores
// within 1e-4 of TF.js' and the labels (brainchop's argmax over the classes) equal.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  argmax,
  brainchopSettings,
  IDENTITY_DIRECTION,
  importTfjsModel,
  noGrad,
  segmentBrainchop,
  tensor,
  tidy,
  type Vec3,
} from '../../src/index.js';
import { loadTfjsModel } from '../../src/node.js';
import { gpu, maxRelError, rng } from '../helpers.js';
import { brainchopInTfjs, seededMeshNet } from '../helpers/brainchop.js';
import { cpuBackend, loadFromFile, predictChannelsFirst, saveToMemory, tf } from '../helpers/tfjs.js';

const modelJson = join(import.meta.dirname, '../fixtures/brainchop/model5_gw_ae/model.json');

beforeAll(async () => {
  await gpu();
  await cpuBackend();
});

/** A head-like volume in [0, 1] (as brainchop's min–max normalisation leaves it): a bright shell around a darker core, and noise. */
function head(size: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(size ** 3);
  const c = (size - 1) / 2;
  for (let z = 0; z < size; z++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const d = Math.hypot(z - c, y - c, x - c) / c;
        const tissue = d < 0.5 ? 0.45 : d < 0.8 ? 0.75 : 0;
        out[(z * size + y) * size + x] = Math.min(1, Math.max(0, tissue + 0.1 * (r() - 0.5)));
      }
  return out;
}

describe('brainchop model5_gw_ae', () => {
  it('loads from its files and matches TF.js voxel for voxel', async () => {
    const model = await loadTfjsModel(modelJson);
    expect([model.inChannels, model.outChannels, model.parameterCount()]).toEqual([1, 3, 5598]);
    const size = 40;
    const shape = [1, 1, size, size, size] as const;
    const volume = head(size, 1);
    const { scores, labels } = await noGrad(() =>
      tidy(() => {
        const y = model.forward(tensor(volume, shape));
        return { scores: y.toArray(), labels: argmax(y, 1).toArray() };
      }),
    );
    const theirs = predictChannelsFirst(await loadFromFile(modelJson), volume, shape);
    const ours = await scores;
    expect(maxRelError(ours, theirs)).toBeLessThan(1e-4);
    // Labels: TF.js' argmax over the classes, wherever its top two scores are not within rounding.
    const n = size ** 3;
    const ourLabels = await labels;
    let compared = 0;
    for (let v = 0; v < n; v++) {
      const s = [0, 1, 2].map((k) => theirs[k * n + v]!);
      const best = s.indexOf(Math.max(...s));
      const margin = s[best]! - Math.max(...s.filter((_, k) => k !== best));
      if (margin < 1e-3) continue;
      compared++;
      expect(ourLabels[v]).toBe(best);
    }
    expect(compared).toBeGreaterThan(0.99 * n);
    model.dispose();
  });
});

describe("brainchop's pipeline (segmentBrainchop)", () => {
  it('gives the labels its TF.js code gives: normalised, cropped with padding, transposed, argmax, put back', async () => {
    // Seeded weights rather than model5_gw_ae: on a small synthetic head that model sees only
    // background, and labels that vary are what show the crop, transposes and placement right.
    const { reference, model } = await seededMeshNet(4);
    const shape = [15, 13, 11] as const;
    const scan = new Float32Array(shape[0] * shape[1] * shape[2]);
    const r = rng(3);
    // A head off-centre in a zero background, uint8 intensities as a conformed scan has them.
    for (let k = 0, v = 0; k < shape[2]; k++)
      for (let j = 0; j < shape[1]; j++)
        for (let i = 0; i < shape[0]; i++, v++)
          scan[v] = Math.hypot((i - 8) / 5, (j - 6) / 4, (k - 5) / 4) < 1 ? Math.round(40 + 200 * r()) : 0;
    const volume = {
      shape: [...shape] as Vec3,
      spacing: [1, 1, 1] as Vec3,
      origin: [0, 0, 0] as Vec3,
      direction: IDENTITY_DIRECTION,
      data: scan,
    };
    const ours = await segmentBrainchop(model, volume, { cropPadding: 2, maxTileBytes: 4000 });
    const theirs = brainchopInTfjs(reference, scan, shape, { pad: 2 });
    expect(ours.classes).toBe(3);
    expect(ours.labels.shape).toEqual([...shape]);
    expect(Array.from(ours.labels.data)).toEqual(Array.from(theirs));
    expect(new Set(ours.labels.data)).toEqual(new Set([0, 1, 2]));
    // Quantile normalisation and an intensity auto-threshold for the crop, from brainchop's settings fields.
    const settings = brainchopSettings({
      enableTranspose: true,
      enableCrop: true,
      cropPadding: 1,
      autoThreshold: 0.5,
      enableQuantileNorm: true,
    });
    expect(settings).toEqual({ transpose: true, quantileNorm: true, cropPadding: 1, autoThreshold: 0.5, largestComponent: true });
    const quantile = await segmentBrainchop(model, volume, { ...settings, largestComponent: false });
    expect(Array.from(quantile.labels.data)).toEqual(
      Array.from(brainchopInTfjs(reference, scan, shape, { pad: 1, quantile: true, threshold: 0.5 })),
    );
    expect(quantile.labels.data).not.toEqual(ours.labels.data);
    model.dispose();
  });

  it("keeps only the largest connected component, as brainchop's post-processing does", async () => {
    // A 1×1×1 classifier: class 1 where the normalised intensity exceeds 0.05, else 0 (background).
    const input = tf.input({ shape: [null, null, null, 1] as unknown as number[] });
    const output = tf.layers.conv3d({ name: 'output', filters: 2, kernelSize: 1 }).apply(input) as tf.SymbolicTensor;
    const threshold = tf.model({ inputs: input, outputs: output });
    threshold.layers[1]!.setWeights([tf.tensor([-1, 1], [1, 1, 1, 1, 2]), tf.tensor([0.05, 0])]);
    const { json, weights } = await saveToMemory(threshold);
    const model = importTfjsModel(json, weights);
    // Two blobs apart: 8 voxels and 1.
    const shape: Vec3 = [8, 6, 5];
    const scan = new Float32Array(8 * 6 * 5);
    for (const [i, j, k] of [
      [1, 1, 1],
      [2, 1, 1],
      [1, 2, 1],
      [2, 2, 1],
      [1, 1, 2],
      [2, 1, 2],
      [1, 2, 2],
      [2, 2, 2],
      [6, 4, 3],
    ])
      scan[i! + 8 * (j! + 6 * k!)] = 100;
    const volume = { shape, spacing: [1, 1, 1] as Vec3, origin: [0, 0, 0] as Vec3, direction: IDENTITY_DIRECTION, data: scan };
    const all = await segmentBrainchop(model, volume);
    expect(Array.from(all.labels.data)).toEqual(Array.from(scan, (v) => (v ? 1 : 0)));
    const kept = await segmentBrainchop(model, volume, { largestComponent: true });
    expect(Array.from(kept.labels.data)).toEqual(Array.from(scan, (v, i) => (v && i !== 6 + 8 * (4 + 6 * 3) ? 1 : 0)));
    model.dispose();
  });

  it('reads brainchop settings by its field names and refuses what it does not do', () => {
    expect(
      brainchopSettings({
        id: 1,
        modelName: 'x',
        enableTranspose: false,
        enableCrop: false,
        cropPadding: 18,
        preModelId: null,
        isPostProcessEnable: false,
      }),
    ).toEqual({
      transpose: false,
      quantileNorm: false,
      cropPadding: undefined,
      autoThreshold: undefined,
      largestComponent: false,
    });
    expect(() => brainchopSettings({ preModelId: 1 }, 'brainchop.json')).toThrow(
      'brainchop.json: preModelId 1: name the pre-model\'s model.json as "preModel" (a path relative to this file) instead',
    );
    expect(() => brainchopSettings({ enableCrop: true, cropPadding: -2 }, 'brainchop.json')).toThrow(
      'brainchop.json: cropPadding must be a non-negative integer, got -2',
    );
    expect(() => brainchopSettings({ autoThreshold: 2 }, 'brainchop.json')).toThrow(
      'brainchop.json: autoThreshold must be in [0, 1], got 2',
    );
  });
});
