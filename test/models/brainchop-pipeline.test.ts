// brainchop's per-model pipeline: segmentBrainchop's quantile normalisation, auto-threshold and pre-model
// crop against brainchop's code in TF.js, and segmentScan (conform, pre-model, model, largest component,
// model type, back onto the scan) against those pieces composed by hand.
import { beforeAll, describe, expect, it } from 'vitest';
import { conform, DEFAULT_BRAINCHOP_SETTINGS, labelsToScanGrid, largestConnectedComponent, parseBrainchopSettings, segmentBrainchop, segmentScan, type Vec3, type Volume } from '../../src/index.js';
import { gpu, rng } from '../helpers.js';
import { brainchopInTfjs, seededMeshNet } from '../helpers/brainchop.js';
import { obliqueDirection } from '../helpers/volumes.js';
import { cpuBackend } from '../helpers/tfjs.js';

beforeAll(async () => {
  await gpu();
  await cpuBackend();
});

/** An off-centre head (bright, noisy) in a dim noisy background: thresholds and quantiles both matter. */
function headScan(shape: Vec3, seed: number): Volume {
  const r = rng(seed);
  const data = new Uint8Array(shape[0] * shape[1] * shape[2]);
  for (let k = 0, v = 0; k < shape[2]; k++)
    for (let j = 0; j < shape[1]; j++)
      for (let i = 0; i < shape[0]; i++, v++) {
        const inside = Math.hypot((i - shape[0] * 0.55) / (shape[0] * 0.3), (j - shape[1] / 2) / (shape[1] * 0.3), (k - shape[2] / 2) / (shape[2] * 0.3)) < 1;
        data[v] = inside ? Math.round(80 + 170 * r()) : Math.round(30 * r());
      }
  return { data, shape, spacing: [1.1, 1.25, 1.35], origin: [-14.2, 9.7, 3.1], direction: obliqueDirection(20, 12) };
}

describe("brainchop's per-model settings in segmentBrainchop", () => {
  const shape: Vec3 = [15, 13, 11];
  const scan = headScan(shape, 7);
  const asFloat = Float32Array.from(scan.data);
  const preMask = Uint8Array.from(asFloat, (v, i) => (v > 100 && i % 7 !== 0 ? 1 : 0));
  it.each([
    ['quantile normalisation', { pad: 1, quantile: true }, { cropPadding: 1, normalization: 'quantile' as const }],
    ['an auto-threshold of 0.5', { pad: 3, threshold: 0.5 }, { cropPadding: 3, autoThreshold: 0.5 }],
    ["a pre-model's mask", { pad: 0, mask: preMask }, { cropPadding: 0, cropMask: preMask }],
  ])('gives the labels its TF.js code gives with %s', async (_, theirOptions, ourOptions) => {
    const { reference, model } = await seededMeshNet(5);
    const ours = await segmentBrainchop(model, scan, { ...ourOptions, maxTileBytes: 4000 });
    const theirs = brainchopInTfjs(reference, asFloat, shape, theirOptions);
    expect(Array.from(ours.labels.data)).toEqual(Array.from(theirs));
    expect(new Set(ours.labels.data).size).toBeGreaterThan(1);
    model.dispose();
  });
});

describe('segmentScan', () => {
  const scan = headScan([22, 20, 18], 8);
  const size = 40;

  it("conforms, crops to the pre-model's brain, keeps the largest component and maps back onto the scan", { timeout: 120_000 }, async () => {
    const pre = await seededMeshNet(11, 2);
    const main = await seededMeshNet(12, 4, 1.5);
    const preSettings = { ...DEFAULT_BRAINCHOP_SETTINGS, enableQuantileNorm: true };
    const settings = { ...DEFAULT_BRAINCHOP_SETTINGS, type: 'Atlas' as const, cropPadding: 2, preModel: '../pre/model.json' };
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
    expect([onScan.labels.shape, onScan.labels.spacing, onScan.labels.origin, onScan.labels.direction]).toEqual([scan.shape, scan.spacing, scan.origin, scan.direction]);
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

describe('settings.json', () => {
  it("reads brainchop's field names over the defaults and refuses anything else by name", () => {
    expect(parseBrainchopSettings({}, 's.json')).toEqual(DEFAULT_BRAINCHOP_SETTINGS);
    expect(parseBrainchopSettings({ type: 'Brain_Extraction', autoThreshold: 0.5, cropPadding: 20, colormap: 'colormap.json' }, 's.json')).toEqual({
      ...DEFAULT_BRAINCHOP_SETTINGS,
      type: 'Brain_Extraction',
      autoThreshold: 0.5,
      cropPadding: 20,
      colormap: 'colormap.json',
    });
    expect(() => parseBrainchopSettings([], 's.json')).toThrow('s.json: brainchop settings must be a JSON object');
    expect(() => parseBrainchopSettings({ type: 'Parcellation' }, 's.json')).toThrow('s.json: "type" must be one of "Segmentation", "Atlas", "Brain_Masking", "Brain_Extraction", got "Parcellation"');
    expect(() => parseBrainchopSettings({ autoThreshold: 2 }, 's.json')).toThrow('s.json: "autoThreshold" must be a number from 0 to 1, got 2');
    expect(() => parseBrainchopSettings({ cropPadding: -1 }, 's.json')).toThrow('s.json: "cropPadding" must be a non-negative integer, got -1');
    expect(() => parseBrainchopSettings({ enableTranspose: 'yes' }, 's.json')).toThrow('s.json: "enableTranspose" must be true or false, got "yes"');
    expect(() => parseBrainchopSettings({ preModelId: 1 }, 's.json')).toThrow(
      's.json: unknown brainchop setting "preModelId" (known: type, enableTranspose, enableQuantileNorm, autoThreshold, cropPadding, isPostProcessEnable, preModel, colormap)',
    );
  });
});
