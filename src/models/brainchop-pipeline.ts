/**
 * A scan through a brainchop model as brainchop runs it (brainchop-webworker.js and inference-logic.js,
 * commit 4c87885): conform (NiiVue's, src/data/conform.ts), the pre-model's brain mask when the model has one,
 * the model's own normalisation, crop and transpose (segmentBrainchop), the largest connected component of
 * the labels (its BWLabeler with binarize and onlyLargestClusterPerClass, 26-connected), the output its
 * model type asks for, and the result mapped back onto the scan's grid by nearest neighbour, or kept on the
 * conformed grid. The settings live in settings.json beside model.json, not in the model: their fields are
 * documented in docs/brainchop-models.md.
 */
import { conform, labelsToScanGrid } from '../data/conform.js';
import { cloneGrid, type Volume } from '../io/volume.js';
import { largestConnectedComponent } from '../metrics/components.js';
import { segmentBrainchop } from './brainchop.js';
import type { TfjsModel } from './tfjs-model.js';
import type { VolumeInferenceOptions } from './tfjs-tiles.js';

/** What brainchop's processSegmentationVolume returns for the model (its modelEntry.type). */
export type BrainchopModelType = 'Segmentation' | 'Atlas' | 'Brain_Masking' | 'Brain_Extraction';

/** One model's entry of brainchop's brainchop-parameters.js, the fields its pipeline reads (same names). */
export interface BrainchopSettings {
  type: BrainchopModelType;
  enableTranspose: boolean;
  enableQuantileNorm: boolean;
  autoThreshold: number;
  cropPadding: number;
  /** brainchop's opts.isPostProcessEnable (true for every model): keep the largest connected component. */
  isPostProcessEnable: boolean;
  /** The pre-model's model.json, relative to this model's folder (brainchop's preModelId). */
  preModel?: string;
  /** Label names and colours (brainchop's colormap JSON: R, G, B, labels), relative to the model's folder. */
  colormap?: string;
}

/** A model without settings.json: the values most of brainchop's entries share. */
export const DEFAULT_BRAINCHOP_SETTINGS: Readonly<BrainchopSettings> = {
  type: 'Segmentation',
  enableTranspose: true,
  enableQuantileNorm: false,
  autoThreshold: 0,
  cropPadding: 0,
  isPostProcessEnable: true,
};

const TYPES: readonly BrainchopModelType[] = ['Segmentation', 'Atlas', 'Brain_Masking', 'Brain_Extraction'];

/** settings.json's content checked field by field over the defaults; `source` names the file in errors. */
export function parseBrainchopSettings(json: unknown, source: string): BrainchopSettings {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${source}: brainchop settings must be a JSON object`);
  const settings: BrainchopSettings = { ...DEFAULT_BRAINCHOP_SETTINGS };
  const fail = (key: string, expected: string, value: unknown): never => {
    throw new Error(`${source}: "${key}" must be ${expected}, got ${JSON.stringify(value)}`);
  };
  for (const [key, value] of Object.entries(json)) {
    switch (key) {
      case 'type':
        if (!TYPES.includes(value as BrainchopModelType)) fail(key, `one of ${TYPES.map((t) => `"${t}"`).join(', ')}`, value);
        settings.type = value as BrainchopModelType;
        break;
      case 'enableTranspose':
      case 'enableQuantileNorm':
      case 'isPostProcessEnable':
        if (typeof value !== 'boolean') fail(key, 'true or false', value);
        settings[key] = value as boolean;
        break;
      case 'autoThreshold':
        if (!(typeof value === 'number' && value >= 0 && value <= 1)) fail(key, 'a number from 0 to 1', value);
        settings.autoThreshold = value as number;
        break;
      case 'cropPadding':
        if (!(Number.isInteger(value) && (value as number) >= 0)) fail(key, 'a non-negative integer', value);
        settings.cropPadding = value as number;
        break;
      case 'preModel':
      case 'colormap':
        if (typeof value !== 'string' || value === '') fail(key, 'a path relative to the model folder', value);
        settings[key] = value as string;
        break;
      default:
        throw new Error(`${source}: unknown brainchop setting "${key}" (known: type, enableTranspose, enableQuantileNorm, autoThreshold, cropPadding, isPostProcessEnable, preModel, colormap)`);
    }
  }
  return settings;
}

/** A model with its settings, as the pre-model of another. */
export interface BrainchopModel {
  model: TfjsModel;
  settings: BrainchopSettings;
}

export interface ScanSegmentOptions extends Omit<VolumeInferenceOptions, 'scores' | 'onLayer'> {
  /** Where the result lies: 'scan' (its own grid, the default) or 'conformed' (256³ LIA, as brainchop shows it). */
  space?: 'scan' | 'conformed';
  /** The model brainchop runs first for the brain's mask (the settings' preModel, loaded). */
  preModel?: BrainchopModel;
  /** The conformed cube's size and voxel size (default 256 and 1 mm, as brainchop; smaller for tests). */
  conformSize?: number;
  conformSpacing?: number;
  /** Layers done out of all (the pre-model's and the model's together). */
  onLayer?: (done: number, total: number) => void;
}

export interface ScanSegmentation {
  /** Labels (uint8, or uint16 past 256 classes), a 0/1 mask (Brain_Masking), or the masked scan (Brain_Extraction). */
  labels: Volume;
  classes: number;
  /** The conformed scan the model saw (uint8, conformed grid). */
  conformed: Volume;
}

/** A T1 scan segmented by a brainchop model through brainchop's own pipeline (see the top of this file). */
export async function segmentScan(model: TfjsModel, scan: Volume, settings: BrainchopSettings, options: ScanSegmentOptions = {}): Promise<ScanSegmentation> {
  const { space = 'scan', preModel, conformSize, conformSpacing, onLayer, ...inference } = options;
  if (space !== 'scan' && space !== 'conformed') throw new Error(`segmentScan: space must be 'scan' or 'conformed', got '${space}'`);
  if (settings.preModel && !preModel) throw new Error(`segmentScan: the settings name a pre-model (${settings.preModel}); load it and pass it as options.preModel`);
  const conformed = conform(scan, { size: conformSize, spacing: conformSpacing });
  const total = (preModel?.model.layers.length ?? 0) + model.layers.length;
  let cropMask: ArrayLike<number> | undefined;
  if (preModel) {
    // The pre-model on the whole conformed volume, its own normalisation and transpose, no crop; its
    // labels' non-zero voxels are the brain (brainchop's generateBrainMask).
    const pre = await segmentBrainchop(preModel.model, conformed, {
      ...inference,
      transpose: preModel.settings.enableTranspose,
      normalization: preModel.settings.enableQuantileNorm ? 'quantile' : 'minmax',
      onLayer: (done) => onLayer?.(done, total),
    });
    cropMask = pre.labels.data;
  }
  const done = total - model.layers.length;
  const { labels, classes } = await segmentBrainchop(model, conformed, {
    ...inference,
    transpose: settings.enableTranspose,
    normalization: settings.enableQuantileNorm ? 'quantile' : 'minmax',
    autoThreshold: settings.autoThreshold,
    cropPadding: settings.cropPadding,
    cropMask,
    onLayer: (d) => onLayer?.(done + d, total),
  });
  const out = labels.data;
  if (settings.isPostProcessEnable) {
    const keep = largestConnectedComponent(out, labels.shape, 26);
    for (let i = 0; i < out.length; i++) if (!keep[i]) out[i] = 0;
  }
  if (settings.type === 'Brain_Masking') for (let i = 0; i < out.length; i++) out[i] = out[i] ? 1 : 0;
  // Brain_Extraction: brainchop's output is the conformed scan where the mask is; on the scan's grid, the scan's own voxels there.
  const extract = settings.type === 'Brain_Extraction';
  if (extract && space === 'conformed') for (let i = 0; i < out.length; i++) out[i] = out[i] ? conformed.data[i]! : 0;
  const onConformed: Volume = { ...cloneGrid(conformed), data: out };
  if (space === 'conformed') return { labels: onConformed, classes, conformed };
  const back = labelsToScanGrid(onConformed, scan);
  if (!extract) return { labels: back, classes, conformed };
  const data = scan.data.slice();
  for (let i = 0; i < data.length; i++) if (!back.data[i]) data[i] = 0;
  return { labels: { ...back, data }, classes, conformed };
}
