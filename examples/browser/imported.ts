// Models made elsewhere, opened in the page: a TF.js layers-model (brainchop's MeshNets: model.json
// with its .bin shards, and brainchop.json for brainchop's per-model pipeline) segmented as brainchop
// does (conformed, the whole volume at once, mapped back onto the scan's grid), or an ONNX
// graph (PyTorch's, MONAI's) with sliding windows as a V-Net is; either with a colormap.json for its
// labels. No DOM here, so the Chromium test runs the same steps in Node.
import { importOnnx, onnxSegmenter, type OnnxModule } from '../../src/models/onnx/index.js';
import { segmentVolume } from '../../src/nn/segment-volume.js';
import { importTfjsModel, type TfjsModel } from '../../src/models/tfjs-model.js';
import { shardPaths, type TfjsModelJson } from '../../src/models/tfjs-format.js';
import { type BrainchopSettings, parseBrainchopSettings, segmentScan } from '../../src/models/brainchop-pipeline.js';
import type { Vec3, Volume } from '../../src/image/volume.js';
import { type Colormap, colormapFor } from './colormap.js';

interface Opened {
  /** The file it came from, for the page. */
  name: string;
  classes: number;
  colormap: Colormap;
}

export type ImportedModel =
  | (Opened & { kind: 'tfjs'; model: TfjsModel; settings: BrainchopSettings; settingsSource: string | null })
  | (Opened & { kind: 'onnx'; model: OnnxModule; windows: ReturnType<typeof onnxSegmenter> });

/** A file's name and bytes: File objects in the page, files read from disk in the test. */
export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

export function isTfjsModelName(name: string): boolean {
  return name.toLowerCase().endsWith('.json') && !isColormapName(name) && !isSettingsName(name);
}

/** brainchop's per-model settings (brainchop.json, docs/brainchop-models.md), beside model.json. */
export function isSettingsName(name: string): boolean {
  return name.toLowerCase() === 'brainchop.json';
}

/** brainchop names its label tables colormap.json, colormap3.json, …; labels.json is the other common name. */
export function isColormapName(name: string): boolean {
  return /^(colormap.*|labels)\.json$/i.test(name);
}

export function isShardName(name: string): boolean {
  return name.toLowerCase().endsWith('.bin');
}

export function isOnnxName(name: string): boolean {
  return name.toLowerCase().endsWith('.onnx');
}

const text = new TextDecoder();

function parseJson<T>(file: NamedBytes): T {
  try {
    return JSON.parse(text.decode(file.bytes)) as T;
  } catch (e) {
    throw new Error(`${file.name} is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * A TF.js layers-model from its model.json, the shards its manifest names (picked or dropped with
 * it; matched by file name), its brainchop.json if given (else brainchop's common defaults), and
 * colormap files: the first (by name) with a colour per class, as the CLI picks.
 */
export function openTfjsModel(
  modelJson: NamedBytes,
  shards: readonly NamedBytes[],
  colormaps: readonly NamedBytes[] = [],
  settingsFile?: NamedBytes,
): ImportedModel {
  const settings = parseBrainchopSettings(settingsFile ? parseJson(settingsFile) : {}, settingsFile?.name ?? 'defaults');
  if (settings.type === 'Brain_Extraction')
    throw new Error(
      `${settingsFile!.name}: a Brain_Extraction model gives the masked scan, not labels; the demo shows labels (voxgpu segment writes it)`,
    );
  if (settings.preModel)
    throw new Error(
      `${settingsFile!.name} names a pre-model (${settings.preModel}); the demo does not run pre-models yet (voxgpu segment does)`,
    );
  const json = parseJson<TfjsModelJson>(modelJson);
  const byName = new Map(shards.map((s) => [s.name, s.bytes]));
  const wanted = shardPaths(json);
  // The manifest may name shards with a folder; a browser gives only the base name.
  const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);
  const missing = wanted.filter((p) => !byName.has(baseName(p)));
  if (missing.length > 0)
    throw new Error(`${modelJson.name} needs its weight file(s) ${missing.join(', ')}: choose or drop them together with it`);
  const model = importTfjsModel(
    json,
    wanted.map((p) => byName.get(baseName(p))!),
  );
  const classes = model.outChannels;
  const colormap = readColormap(
    classes,
    [...colormaps].sort((a, b) => a.name.localeCompare(b.name)),
  );
  return { kind: 'tfjs', model, settings, settingsSource: settingsFile?.name ?? null, name: modelJson.name, classes, colormap };
}

function readColormap(classes: number, files: readonly NamedBytes[]): Colormap {
  return colormapFor(
    classes,
    files.map((c) => ({ name: c.name, json: parseJson<unknown>(c) })),
  );
}

/** An ONNX graph (one .onnx file; external data is not read in the page) for sliding-window segmentation. */
export function openOnnxModel(file: NamedBytes, colormaps: readonly NamedBytes[] = []): ImportedModel {
  const model = importOnnx(file.bytes);
  try {
    const windows = onnxSegmenter(model);
    const classes = windows.config.numClasses;
    return { kind: 'onnx', model, windows, name: file.name, classes, colormap: readColormap(classes, colormaps) };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

export interface LabelSegmentation {
  /** Class indices on the scan's grid, with its geometry. */
  labels: Volume;
  /** Voxels per class. */
  counts: number[];
  milliseconds: number;
}

export interface ImportedSegmentOptions {
  /** An ONNX graph's spacing (mm, x y z): the scan is resampled to it. */
  spacing: Vec3;
  /** The conformed cube's size in voxels for a TF.js model (brainchop: 256, at 1 mm). */
  conformSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Labels on the scan's own grid. A TF.js model: brainchop's pipeline (segmentScan: conform, the
 * settings' normalisation, crop and transpose, the whole volume in tiles, the largest component);
 * progress counts layers. An ONNX graph: as `voxgpu segment` runs one (resampled to `spacing`,
 * z-scored, sliding windows of the graph's own size); progress counts windows.
 */
export async function segmentWithImported(m: ImportedModel, scan: Volume, options: ImportedSegmentOptions): Promise<LabelSegmentation> {
  const { spacing, conformSize, onProgress } = options;
  const t0 = performance.now();
  const classes = m.classes;
  let labels: Volume;
  if (m.kind === 'tfjs') labels = (await segmentScan(m.model, scan, m.settings, { conformSize, onLayer: onProgress })).labels;
  else {
    // The graph's window is [D, H, W]; segmentVolume takes [x, y, z].
    const window = m.windows.window ? ([...m.windows.window].reverse() as Vec3) : undefined;
    labels = (await segmentVolume(m.windows, scan, { spacing, window, onWindow: onProgress })).mask;
  }
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels.data) counts[l]!++;
  return { labels, counts, milliseconds: performance.now() - t0 };
}
