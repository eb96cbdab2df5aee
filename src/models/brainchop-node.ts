// A brainchop model folder from files: model.json and its shards, brainchop.json (docs/brainchop-models.md;
// defaults when absent), the pre-model it names, and its colormap (label names and colours) when it has one.
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseBrainchopColormap, type BrainchopColormap } from './brainchop-colormap.js';
import { parseBrainchopSettings, type BrainchopModel, type BrainchopSettings } from './brainchop-pipeline.js';
import { loadTfjsModel } from './tfjs-node.js';

export type { BrainchopColormap } from './brainchop-colormap.js';

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
  const path = join(dirname(modelJson), 'brainchop.json');
  return parseBrainchopSettings((await exists(path)) ? (JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>) : {}, path);
}

/** brainchop's colormap beside the model: the first colormap*.json (by name) with one colour per class. */
async function colormapBeside(modelJson: string, classes: number): Promise<BrainchopColormap | undefined> {
  const dir = dirname(modelJson);
  for (const f of (await readdir(dir)).filter((n) => /^colormap.*\.json$/.test(n)).sort()) {
    const colormap = parseBrainchopColormap(JSON.parse(await readFile(join(dir, f), 'utf8')), classes);
    if (colormap) return colormap;
  }
  return undefined;
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
    const colormap = await colormapBeside(modelJson, model.outChannels);
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
