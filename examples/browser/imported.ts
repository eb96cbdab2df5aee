// Models made elsewhere, opened in the page: a TF.js layers-model (brainchop's MeshNets: model.json
// with its .bin shards) segmented by brainchop's pipeline over the whole volume at once, or an ONNX
// graph (PyTorch's, MONAI's) with sliding windows as a V-Net is; either with a colormap.json for its
// labels. No DOM here, so the Chromium test runs the same steps in Node.
import { importOnnx, onnxSegmenter, type OnnxModule } from '../../src/models/onnx/index.js';
import { segmentVolume } from '../../src/nn/segment-volume.js';
import { importTfjsModel, type TfjsModel } from '../../src/models/tfjs-model.js';
import { shardPaths, type TfjsModelJson } from '../../src/models/tfjs-format.js';
import { segmentBrainchop } from '../../src/models/brainchop.js';
import type { Vec3, Volume } from '../../src/io/volume.js';
import { type Colormap, colormapFor, type ColormapJson } from './colormap.js';

interface Opened {
  /** The file it came from, for the page. */
  name: string;
  classes: number;
  colormap: Colormap;
}

export type ImportedModel = (Opened & { kind: 'tfjs'; model: TfjsModel }) | (Opened & { kind: 'onnx'; model: OnnxModule; windows: ReturnType<typeof onnxSegmenter> });

/** A file's name and bytes: File objects in the page, files read from disk in the test. */
export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

export function isTfjsModelName(name: string): boolean {
  return name.toLowerCase().endsWith('.json') && !isColormapName(name);
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
 * it; matched by file name) and optional colormap files (the one with a colour per class is used).
 */
export function openTfjsModel(modelJson: NamedBytes, shards: readonly NamedBytes[], colormaps: readonly NamedBytes[] = []): ImportedModel {
  const json = parseJson<TfjsModelJson>(modelJson);
  const byName = new Map(shards.map((s) => [s.name, s.bytes]));
  const wanted = shardPaths(json);
  // The manifest may name shards with a folder; a browser gives only the base name.
  const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);
  const missing = wanted.filter((p) => !byName.has(baseName(p)));
  if (missing.length > 0) throw new Error(`${modelJson.name} needs its weight file(s) ${missing.join(', ')}: choose or drop them together with it`);
  const model = importTfjsModel(
    json,
    wanted.map((p) => byName.get(baseName(p))!),
  );
  const classes = model.outChannels;
  return { kind: 'tfjs', model, name: modelJson.name, classes, colormap: readColormap(classes, colormaps) };
}

function readColormap(classes: number, files: readonly NamedBytes[]): Colormap {
  return colormapFor(
    classes,
    files.map((c) => ({ name: c.name, json: parseJson<ColormapJson>(c) })),
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

/**
 * Labels on the scan's own grid. A TF.js model: brainchop's pipeline (min–max, transpose, the whole
 * volume in tiles, argmax); progress counts layers. An ONNX graph: as `voxgpu segment` runs a V-Net
 * (resampled to `spacing`, z-scored, sliding windows of the graph's own size); progress counts windows.
 */
export async function segmentWithImported(m: ImportedModel, scan: Volume, spacing: Vec3, onProgress: (done: number, total: number) => void = () => {}): Promise<LabelSegmentation> {
  const t0 = performance.now();
  const classes = m.classes;
  let labels: Volume;
  if (m.kind === 'tfjs') labels = (await segmentBrainchop(m.model, scan, { onLayer: onProgress })).labels;
  else {
    // The graph's window is [D, H, W]; segmentVolume takes [x, y, z].
    const window = m.windows.window ? ([...m.windows.window].reverse() as Vec3) : undefined;
    labels = (await segmentVolume(m.windows, scan, { spacing, window, onWindow: onProgress })).mask;
  }
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels.data) counts[l]!++;
  return { labels, counts, milliseconds: performance.now() - t0 };
}
