// A brainchop model folder from files: model.json and its shards, settings.json (docs/brainchop-models.md;
// defaults when absent), the pre-model it names, and its colormap (label names and colours) when it has one.
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_BRAINCHOP_SETTINGS, parseBrainchopSettings, type BrainchopModel, type BrainchopSettings } from './brainchop-pipeline.js';
import { loadTfjsModel } from './tfjs-node.js';

/** brainchop's colormap JSON: one entry per class. */
export interface BrainchopColormap {
  R: number[];
  G: number[];
  B: number[];
  labels: string[];
}

export interface LoadedBrainchopModel extends BrainchopModel {
  preModel?: BrainchopModel;
  colormap?: BrainchopColormap;
  /** Frees the model's and the pre-model's weights. */
  dispose(): void;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function settingsBeside(modelJson: string): Promise<BrainchopSettings> {
  const path = join(dirname(modelJson), 'settings.json');
  if (!(await exists(path))) return { ...DEFAULT_BRAINCHOP_SETTINGS };
  return parseBrainchopSettings(JSON.parse(await readFile(path, 'utf8')), path);
}

async function readColormap(path: string): Promise<BrainchopColormap> {
  const json = JSON.parse(await readFile(path, 'utf8')) as Partial<BrainchopColormap>;
  const n = json.labels?.length;
  if (!(n && [json.R, json.G, json.B].every((c) => Array.isArray(c) && c.length === n))) throw new Error(`${path}: a colormap needs "labels" and "R", "G", "B" arrays of the same length`);
  return json as BrainchopColormap;
}

/** `path`: a model.json or the folder that holds one. */
export async function loadBrainchopModel(path: string): Promise<LoadedBrainchopModel> {
  const modelJson = (await stat(path)).isDirectory() ? join(path, 'model.json') : path;
  const folder = dirname(modelJson);
  const settings = await settingsBeside(modelJson);
  const model = await loadTfjsModel(modelJson);
  let preModel: BrainchopModel | undefined;
  try {
    if (settings.preModel) {
      const preJson = resolve(folder, settings.preModel);
      // brainchop runs one pre-model: the pre-model's own pre-model, if its settings name one, is not run.
      preModel = { model: await loadTfjsModel(preJson), settings: await settingsBeside(preJson) };
    }
    const colormapPath = settings.colormap ? join(folder, settings.colormap) : join(folder, 'colormap.json');
    const colormap = settings.colormap || (await exists(colormapPath)) ? await readColormap(colormapPath) : undefined;
    return {
      model,
      settings,
      preModel,
      colormap,
      dispose: () => {
        model.dispose();
        preModel?.model.dispose();
      },
    };
  } catch (error) {
    model.dispose();
    preModel?.model.dispose();
    throw error;
  }
}
