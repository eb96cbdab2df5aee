/**
 * A scan through a brainchop model as brainchop runs it (main.js, brainchop-webworker.js and
 * inference-logic.js, commit 4c87885): conform (NiiVue's, src/data/conform.ts; skipped, as brainchop
 * skips it, for a scan already 256³ uint8 LIA), the pre-model's brain mask when the model has one,
 * the model's own normalisation, crop, transpose and largest connected component (segmentBrainchop), the
 * output its model type asks for, and the result mapped back onto the scan's grid by nearest neighbour, or
 * kept on the conformed grid. The settings live in brainchop.json beside model.json, not in the model: its
 * fields are documented in docs/brainchop-models.md.
 */
import { conform, labelsToScanGrid } from '../data/conform.js';
import { cloneGrid, type Volume } from '../image/volume.js';
import { brainchopSettings, segmentBrainchop, type BrainchopSegmentOptions } from './brainchop.js';
import type { TfjsModel } from './tfjs-model.js';
import type { VolumeInferenceOptions } from './tfjs-tiles.js';

/** What brainchop's processSegmentationVolume returns for the model (its modelEntry.type). */
export type BrainchopModelType = 'Segmentation' | 'Atlas' | 'Brain_Masking' | 'Brain_Extraction';

const TYPES: readonly BrainchopModelType[] = ['Segmentation', 'Atlas', 'Brain_Masking', 'Brain_Extraction'];

/** A model's brainchop.json: segmentBrainchop's options, the model type and the pre-model to run first. */
export interface BrainchopSettings {
  options: BrainchopSegmentOptions;
  type: BrainchopModelType;
  /** The pre-model's model.json, relative to the settings file (brainchop's preModelId, as a path). */
  preModel?: string;
}

/**
 * brainchop.json's content: a model entry of brainchop-parameters.js (its field names; brainchopSettings
 * reads the pipeline's) plus `type` (default 'Segmentation') and `preModel`; {} gives the defaults.
 */
export function parseBrainchopSettings(entry: Record<string, unknown>, source: string): BrainchopSettings {
  const { type = 'Segmentation', preModel, ...rest } = entry;
  if (!TYPES.includes(type as BrainchopModelType))
    throw new Error(`${source}: type must be one of ${TYPES.join(', ')}, got ${JSON.stringify(type)}`);
  if (preModel !== undefined && (typeof preModel !== 'string' || preModel === ''))
    throw new Error(`${source}: preModel must be the path of a model.json, got ${JSON.stringify(preModel)}`);
  return {
    options: brainchopSettings(rest, source),
    type: type as BrainchopModelType,
    ...(preModel ? { preModel: preModel as string } : {}),
  };
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

/**
 * brainchop's ensureConformed (main.js): a uint8 scan of 256³ (`size`³) whose voxel axes run mostly Left,
 * Inferior, Anterior (NiiVue's permRAS [−1, 3, −2]) is taken as it is, whatever its spacing and origin.
 */
export function isConformed(scan: Volume, size = 256): boolean {
  if (!(scan.data instanceof Uint8Array) || scan.shape.some((n) => n !== size)) return false;
  // Column c of the LPS direction: voxel axis c. LIA in LPS: +x, −z, −y (LIA_DIRECTION in conform.ts).
  const dominant = [0, 1, 2].map((c) => {
    const column = [0, 1, 2].map((r) => scan.direction[3 * r + c]!);
    const r = column.reduce((best, v, i) => (Math.abs(v) > Math.abs(column[best]!) ? i : best), 0);
    return Math.sign(column[r]!) * (r + 1);
  });
  return dominant[0] === 1 && dominant[1] === -3 && dominant[2] === -2;
}

/** A T1 scan segmented by a brainchop model through brainchop's own pipeline (see the top of this file). */
export async function segmentScan(
  model: TfjsModel,
  scan: Volume,
  settings: BrainchopSettings,
  options: ScanSegmentOptions = {},
): Promise<ScanSegmentation> {
  const { space = 'scan', preModel, conformSize, conformSpacing, onLayer, ...inference } = options;
  if (space !== 'scan' && space !== 'conformed') throw new Error(`segmentScan: space must be 'scan' or 'conformed', got '${space}'`);
  if (settings.preModel && !preModel)
    throw new Error(`segmentScan: the settings name a pre-model (${settings.preModel}); load it and pass it as options.preModel`);
  const asIs = isConformed(scan, conformSize);
  const conformed = asIs ? scan : conform(scan, { size: conformSize, spacing: conformSpacing });
  const total = (preModel?.model.layers.length ?? 0) + model.layers.length;
  let cropMask: ArrayLike<number> | undefined;
  if (preModel) {
    // The pre-model on the whole conformed volume with its own normalisation and transpose, no crop, no
    // post-processing; its labels' non-zero voxels are the brain (brainchop's generateBrainMask).
    const pre = await segmentBrainchop(preModel.model, conformed, {
      ...inference,
      transpose: preModel.settings.options.transpose,
      quantileNorm: preModel.settings.options.quantileNorm,
      onLayer: (done) => onLayer?.(done, total),
    });
    cropMask = pre.labels.data;
  }
  const done = total - model.layers.length;
  const { labels, classes } = await segmentBrainchop(model, conformed, {
    ...settings.options,
    ...inference,
    cropMask,
    onLayer: (d) => onLayer?.(done + d, total),
  });
  const out = labels.data;
  if (settings.type === 'Brain_Masking') for (let i = 0; i < out.length; i++) out[i] = out[i] ? 1 : 0;
  // Brain_Extraction: brainchop's output is the conformed scan where the mask is; on the scan's grid, the scan's own voxels there.
  const extract = settings.type === 'Brain_Extraction';
  if (extract && (space === 'conformed' || asIs)) for (let i = 0; i < out.length; i++) out[i] = out[i] ? conformed.data[i]! : 0;
  const onConformed: Volume = { ...cloneGrid(conformed), data: out };
  if (space === 'conformed' || asIs) return { labels: onConformed, classes, conformed };
  const back = labelsToScanGrid(onConformed, scan);
  if (!extract) return { labels: back, classes, conformed };
  const data = scan.data.slice();
  for (let i = 0; i < data.length; i++) if (!back.data[i]) data[i] = 0;
  return { labels: { ...back, data }, classes, conformed };
}
