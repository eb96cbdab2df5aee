// TensorFlow.js itself (CPU backend) as the reference for imported layers-models: models built with
// its layers API and seeded weights, saved to memory as model.json + one shard, and files read back
// the way its http loader reads them.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { TfjsModelJson } from '../../src/index.js';
import { randomArray } from '../helpers.js';

export { tf };

export async function cpuBackend(): Promise<void> {
  await tf.setBackend('cpu');
}

/** Every weight of every layer replaced by seeded values in [lo, hi) (variances kept positive). */
export function seedWeights(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    const values = layer.getWeights().map((w, i) => {
      const name = layer.weights[i]!.originalName;
      const positive = name.endsWith('moving_variance') || name.endsWith('gamma');
      return tf.tensor(Float32Array.from(randomArray(w.size, s++, positive ? 0.5 : -0.5, positive ? 1.5 : 0.5)), w.shape);
    });
    if (values.length) layer.setWeights(values);
  }
}

/** The model as model.json (its manifest naming one shard) and that shard's bytes, as `model.save` writes them. */
export async function saveToMemory(model: tf.LayersModel): Promise<{ json: TfjsModelJson; weights: Uint8Array }> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = saved!;
  const data = a.weightData instanceof ArrayBuffer ? a.weightData : tf.io.concatenateArrayBuffers(a.weightData as ArrayBuffer[]);
  const json = {
    format: a.format,
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: a.weightSpecs! }],
  } as TfjsModelJson;
  return { json, weights: new Uint8Array(data) };
}

/** tf.loadLayersModel on a model.json file and the shards beside it, as its http handler would read them. */
export async function loadFromFile(path: string): Promise<tf.LayersModel> {
  const handler: tf.io.IOHandler = {
    load: async () => {
      const json = JSON.parse(await readFile(path, 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((g) => g.weights);
        const shards = await Promise.all(manifest.flatMap((g) => g.paths).map((p) => readFile(join(dirname(path), p))));
        const bytes = new Uint8Array(shards.reduce((n, s) => n + s.length, 0));
        let at = 0;
        for (const s of shards) {
          bytes.set(s, at);
          at += s.length;
        }
        return [specs, bytes.buffer];
      });
    },
  };
  return tf.loadLayersModel(handler);
}

/**
 * The layers applied one by one to x [N, D, H, W, C] as brainchop's inference-logic.js does, so the
 * model's declared input size (256³ for brainchop's) does not have to match, and a layer named `*_gn`
 * followed by its `LayerNormInPlace` (tensor-utils.js), copied here.
 */
export function applyAsBrainchop(model: tf.LayersModel, x: tf.Tensor): tf.Tensor {
  return model.layers
    .filter((l) => l.getClassName() !== 'InputLayer')
    .reduce((h, l) => {
      const out = l.apply(h) as tf.Tensor;
      if (!l.name.endsWith('_gn')) return out;
      const { mean, variance } = tf.moments(out, [1, 2, 3], true);
      return tf.mul(tf.sub(out, mean), tf.rsqrt(tf.add(variance, 1e-5)));
    }, x);
}

/** TF.js' output (applyAsBrainchop) for a channels-first volume, returned channels first: [N, C, D, H, W] in and out. */
export function predictChannelsFirst(
  model: tf.LayersModel,
  data: Float32Array,
  shape: readonly [number, number, number, number, number],
): Float32Array {
  return tf.tidy(() => {
    const [n, c, d, h, w] = shape;
    const x = tf.transpose(tf.tensor(data, [n, c, d, h, w]), [0, 2, 3, 4, 1]);
    const y = applyAsBrainchop(model, x);
    return tf.transpose(y, [0, 4, 1, 2, 3]).dataSync() as Float32Array;
  });
}
