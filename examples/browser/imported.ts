// Models made elsewhere, opened in the page: a TF.js layers-model (brainchop's MeshNets: model.json
// with its .bin shards, and the folder's colormap.json when given) segmented by brainchop's pipeline
// over the whole volume at once. No DOM here, so the Chromium test runs the same steps in Node.
import { importTfjsModel, type TfjsModel } from '../../src/models/tfjs-model.js';
import { shardPaths, type TfjsModelJson } from '../../src/models/tfjs-format.js';
import { segmentBrainchop } from '../../src/models/brainchop.js';
import type { Volume } from '../../src/io/volume.js';
import { type Colormap, colormapFor, type ColormapJson } from './colormap.js';

export interface ImportedModel {
  kind: 'tfjs';
  model: TfjsModel;
  /** The file it came from, for the page. */
  name: string;
  classes: number;
  colormap: Colormap;
}

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
  const colormap = colormapFor(
    classes,
    colormaps.map((c) => ({ name: c.name, json: parseJson<ColormapJson>(c) })),
  );
  return { kind: 'tfjs', model, name: modelJson.name, classes, colormap };
}

export interface LabelSegmentation {
  /** Class indices on the scan's grid, with its geometry. */
  labels: Volume;
  /** Voxels per class. */
  counts: number[];
  milliseconds: number;
}

/** brainchop's pipeline (min–max, transpose, the whole volume in tiles, argmax) on the scan's own grid. */
export async function segmentWithImported(m: ImportedModel, scan: Volume, onProgress: (done: number, total: number) => void = () => {}): Promise<LabelSegmentation> {
  const t0 = performance.now();
  const { labels, classes } = await segmentBrainchop(m.model, scan, { onLayer: onProgress });
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels.data) counts[l]!++;
  return { labels, counts, milliseconds: performance.now() - t0 };
}
