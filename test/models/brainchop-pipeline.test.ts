// brainchop's per-model pipeline: segmentBrainchop's crop to a pre-model's brain against brainchop's code in
// TF.js, and segmentScan (conform, pre-model, model, largest component, model type, back onto the scan)
// against those pieces composed by hand.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  conform,
  isConformed,
  labelsToScanGrid,
  largestConnectedComponent,
  parseBrainchopSettings,
  segmentBrainchop,
  segmentScan,
  type Vec3,
  type Volume,
} from '../../src/index.js';
import { gpu, rng } from '../helpers.js';
import { brainchopInTfjs, seededMeshNet } from '../helpers/brainchop.js';
import { obliqueDirection } from '../helpers/volumes.js';
import { cpuBackend } from '../helpers/tfjs.js';

beforeAll(async () => {
  await gpu();
  await cpuBackend();
});

/** An off-centre head (bright, noisy) in a dim noisy background, on an oblique anisotropic grid. */
function headScan(shape: Vec3, seed: number): Volume {
  const r = rng(seed);
  const data = new Uint8Array(shape[0] * shape[1] * shape[2]);
  for (let k = 0, v = 0; k < shape[2]; k++)
    for (let j = 0; j < shape[1]; j++)
      for (let i = 0; i < shape[0]; i++, v++) {
        const inside =
          Math.hypot(
            (i - shape[0] * 0.55) / (shape[0] * 0.3),
            (j - shape[1] / 2) / (shape[1] * 0.3),
            (k - shape[2] / 2) / (shape[2] * 0.3),
          ) < 1;
        data[v] = inside ? Math.round(80 + 170 * r()) : Math.round(30 * r());
      }
  return { data, shape, spacing: [1.1, 1.25, 1.35], origin: [-14.2, 9.7, 3.1], direction: obliqueDirection(20, 12) };
}

describe("segmentBrainchop's crop to a pre-model's brain", () => {
  const shape: Vec3 = [15, 13, 11];
  const scan = headScan(shape, 7);
  const asFloat = Float32Array.from(scan.data);
  const preMask = Uint8Array.from(asFloat, (v, i) => (v > 100 && i % 7 !== 0 ? 1 : 0));
  it.each([["a pre-model's mask", { pad: 0, mask: preMask }, { cropPadding: 0, cropMask: preMask }]])(
    'gives the labels its TF.js code gives with %s',
    async (_, theirOptions, ourOptions) => {
      const { reference, model } = await seededMeshNet(5);
      const ours = await segmentBrainchop(model, scan, { ...ourOptions, maxTileBytes: 4000 });
      const theirs = brainchopInTfjs(reference, asFloat, shape, theirOptions);
      expect(Array.from(ours.labels.data)).toEqual(Array.from(theirs));
      expect(new Set(ours.labels.data).size).toBeGreaterThan(1);
      model.dispose();
    },
  );
});

describe('segmentScan', () => {
  const scan = headScan([22, 20, 18], 8);
  const size = 40;

  it("conforms, crops to the pre-model's brain, keeps the largest component and maps back onto the scan", async () => {
    const pre = await seededMeshNet(11, 2);
    const main = await seededMeshNet(12, 4, 1.5);
    const preSettings = parseBrainchopSettings({ enableQuantileNorm: true }, 'pre/brainchop.json');
    const settings = parseBrainchopSettings(
      { type: 'Atlas', enableCrop: true, cropPadding: 2, preModel: '../pre/model.json' },
      'atlas/brainchop.json',
    );
    const options = { preModel: { model: pre.model, settings: preSettings }, conformSize: size };
    const onConformed = await segmentScan(main.model, scan, settings, { ...options, space: 'conformed' });
    // By hand: NiiVue's conform, the pre-model over the whole cube (TF.js), the model cropped to its brain (TF.js), the largest component.
    const conformed = conform(scan, { size });
    expect(Array.from(onConformed.conformed.data)).toEqual(Array.from(conformed.data));
    const cube = Float32Array.from(conformed.data);
    const brain = brainchopInTfjs(pre.reference, cube, [size, size, size], { pad: size, quantile: true });
    const labels = brainchopInTfjs(main.reference, cube, [size, size, size], { pad: 2, mask: brain });
    const keep = largestConnectedComponent(labels, [size, size, size], 26);
    const expected = labels.map((l, i) => (keep[i] ? l : 0));
    expect(Array.from(onConformed.labels.data)).toEqual(Array.from(expected));
    expect(new Set(expected).size).toBeGreaterThan(2);
    expect(expected.filter((l) => l !== 0).length).toBeLessThan(labels.filter((l) => l !== 0).length); // islands dropped
    expect(onConformed.labels.origin).toEqual(conformed.origin);
    expect(onConformed.labels.direction).toEqual(conformed.direction);
    // On the scan's grid: the same labels, nearest neighbour, with the scan's geometry.
    const onScan = await segmentScan(main.model, scan, settings, options);
    const back = labelsToScanGrid(onConformed.labels, scan);
    expect(Array.from(onScan.labels.data)).toEqual(Array.from(back.data));
    expect([onScan.labels.shape, onScan.labels.spacing, onScan.labels.origin, onScan.labels.direction]).toEqual([
      scan.shape,
      scan.spacing,
      scan.origin,
      scan.direction,
    ]);
    // brainchop's model types: a 0/1 mask, or the scan's own voxels where the mask is.
    const mask = await segmentScan(main.model, scan, { ...settings, type: 'Brain_Masking' }, options);
    expect(Array.from(mask.labels.data)).toEqual(Array.from(back.data, (l) => (l ? 1 : 0)));
    const extracted = await segmentScan(main.model, scan, { ...settings, type: 'Brain_Extraction' }, options);
    expect(Array.from(extracted.labels.data)).toEqual(Array.from(scan.data, (v, i) => (back.data[i] ? v : 0)));
    await expect(segmentScan(main.model, scan, settings, { conformSize: size })).rejects.toThrow(
      'segmentScan: the settings name a pre-model (../pre/model.json); load it and pass it as options.preModel',
    );
    pre.model.dispose();
    main.model.dispose();
  });
});

describe('a scan already conformed', () => {
  it("is taken as it is, as brainchop's ensureConformed does: 256³ (here 24³) uint8 with LIA axes, any spacing and origin", async () => {
    const shape: Vec3 = [24, 24, 24];
    const lia = {
      ...headScan(shape, 9),
      spacing: [1.1, 1, 0.9] as Vec3,
      direction: [0.99, 0.1, 0, 0, 0.05, -1, -0.1, -0.99, 0] as Volume['direction'],
    };
    expect(isConformed(lia, 24)).toBe(true);
    expect(isConformed(lia)).toBe(false); // not 256³
    expect(isConformed({ ...lia, data: Float32Array.from(lia.data) }, 24)).toBe(false);
    expect(isConformed({ ...lia, direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] }, 24)).toBe(false);
    const { model } = await seededMeshNet(13);
    const settings = parseBrainchopSettings({ type: 'Brain_Extraction', enableCrop: true, cropPadding: 1 }, 'b.json');
    const result = await segmentScan(model, lia, settings, { conformSize: 24 });
    expect(result.conformed).toBe(lia);
    const direct = await segmentBrainchop(model, lia, settings.options);
    expect(Array.from(result.labels.data)).toEqual(Array.from(direct.labels.data, (l, i) => (l ? lia.data[i] : 0)));
    expect([result.labels.origin, result.labels.direction]).toEqual([lia.origin, lia.direction]);
    model.dispose();
  });
});

describe('brainchop.json', () => {
  it('reads a brainchop model entry with its type and pre-model over the defaults, and refuses what it cannot run', () => {
    expect(parseBrainchopSettings({}, 'b.json')).toEqual({
      type: 'Segmentation',
      options: { transpose: true, quantileNorm: false, cropPadding: undefined, autoThreshold: undefined, largestComponent: true },
    });
    const atlas = parseBrainchopSettings(
      {
        id: 8,
        type: 'Atlas',
        modelName: 'FS aparc',
        enableCrop: true,
        cropPadding: 0,
        enableQuantileNorm: true,
        preModel: '../mindgrab/model.json',
      },
      'b.json',
    );
    expect(atlas).toEqual({
      type: 'Atlas',
      preModel: '../mindgrab/model.json',
      options: { transpose: true, quantileNorm: true, cropPadding: 0, autoThreshold: undefined, largestComponent: true },
    });
    expect(() => parseBrainchopSettings({ type: 'Parcellation' }, 'b.json')).toThrow(
      'b.json: type must be one of Segmentation, Atlas, Brain_Masking, Brain_Extraction, got "Parcellation"',
    );
    expect(() => parseBrainchopSettings({ preModel: 1 }, 'b.json')).toThrow('b.json: preModel must be the path of a model.json, got 1');
    expect(() => parseBrainchopSettings({ preModelId: 1 }, 'b.json')).toThrow(
      'b.json: preModelId 1: name the pre-model\'s model.json as "preModel" (a path relative to this file) instead',
    );
  });
});
