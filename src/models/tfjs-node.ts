// TF.js layers-models from and to files: model.json with its weight shards beside it.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { shardPaths, type TfjsModelJson } from './tfjs-format.js';
import { exportTfjsModel, importTfjsModel, type TfjsImportOptions, type TfjsModel } from './tfjs-model.js';

/** Reads model.json and the shards its manifest names (paths relative to its folder). */
export async function loadTfjsModel(path: string, options: TfjsImportOptions = {}): Promise<TfjsModel> {
  const json = JSON.parse(await readFile(path, 'utf8')) as TfjsModelJson;
  const shards = await Promise.all(shardPaths(json).map((p) => readFile(join(dirname(path), p))));
  return importTfjsModel(json, shards, options);
}

/** Writes model.json at `path` and its one shard beside it, each atomically (shard first). */
export async function saveTfjsModel(path: string, model: TfjsModel): Promise<void> {
  const { json, weights, shardName } = await exportTfjsModel(model);
  await writeFileAtomic(join(dirname(path), shardName), weights);
  await writeFileAtomic(path, JSON.stringify(json));
}
