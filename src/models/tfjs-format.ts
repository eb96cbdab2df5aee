// The TensorFlow.js layers-model format (what `tf.loadLayersModel` reads and `model.save` writes):
// a model.json holding a Keras topology and a weights manifest, plus binary shards holding every
// weight as little-endian float32, in manifest order, the shards of all groups concatenated.

/** One layer of a Keras topology, as model.json spells it (snake_case config keys). */
export interface KerasLayerJson {
  class_name: string;
  name?: string;
  config: Record<string, unknown> & { name?: string };
  inbound_nodes?: unknown;
}

/** The Keras model config: a Functional (Keras' "Model") or Sequential model. */
export interface KerasModelConfig {
  class_name: string;
  config: { name?: string; layers: KerasLayerJson[]; input_layers?: unknown; output_layers?: unknown } | KerasLayerJson[];
}

export interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

export interface WeightsGroup {
  paths: string[];
  weights: WeightEntry[];
}

/** A parsed model.json. Keras' converter wraps the model in `model_config`; TF.js' own `save()` does not. */
export interface TfjsModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: KerasModelConfig | { model_config: KerasModelConfig; [key: string]: unknown };
  weightsManifest: WeightsGroup[];
  [key: string]: unknown;
}

/** A weight read from the shards: its Keras shape and values. */
export interface KerasWeight {
  shape: number[];
  data: Float32Array;
}

export function modelConfigOf(json: TfjsModelJson): KerasModelConfig {
  const topology = json.modelTopology as Record<string, unknown> | undefined;
  if (!topology || typeof topology !== 'object')
    throw new Error('importTfjsModel: model.json has no modelTopology (is it a layers-model?)');
  return (topology.model_config ?? topology) as KerasModelConfig;
}

/** The file names of the shards, in the order their bytes are concatenated. */
export function shardPaths(json: TfjsModelJson): string[] {
  return (json.weightsManifest ?? []).flatMap((g) => g.paths);
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The weights by name, read from the shards (given in `shardPaths` order, or already concatenated). */
export function readWeights(json: TfjsModelJson, shards: Uint8Array | ArrayBuffer | readonly Uint8Array[]): Map<string, KerasWeight> {
  const bytes = shards instanceof ArrayBuffer ? new Uint8Array(shards) : shards instanceof Uint8Array ? shards : concatBytes(shards);
  const entries = (json.weightsManifest ?? []).flatMap((g) => g.weights);
  const needed = entries.reduce((n, w) => n + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  const weights = new Map<string, KerasWeight>();
  let offset = 0;
  for (const w of entries) {
    if (w.dtype !== 'float32' || w.quantization) {
      const what = w.quantization ? `quantized (${JSON.stringify(w.quantization)})` : `of dtype ${w.dtype}`;
      throw new Error(`importTfjsModel: weight "${w.name}" is ${what}; only unquantized float32 weights are supported`);
    }
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (offset + 4 * n > bytes.length) {
      throw new Error(
        `importTfjsModel: the weight shards hold ${bytes.length} bytes, the manifest needs ${needed} (weight "${w.name}" ends ` +
          `past the data)`,
      );
    }
    const data = new Float32Array(n);
    new Uint8Array(data.buffer).set(bytes.subarray(offset, offset + 4 * n));
    weights.set(w.name, { shape: [...w.shape], data });
    offset += 4 * n;
  }
  if (offset !== bytes.length)
    throw new Error(`importTfjsModel: the weight shards hold ${bytes.length} bytes, the manifest needs ${needed}`);
  return weights;
}

/** One shard holding `weights` in order, and the manifest that describes it. */
export function writeWeights(
  weights: ReadonlyArray<readonly [string, KerasWeight]>,
  shardName: string,
): { manifest: WeightsGroup[]; data: Uint8Array } {
  const data = new Uint8Array(weights.reduce((n, [, w]) => n + 4 * w.data.length, 0));
  let at = 0;
  for (const [, w] of weights) {
    data.set(new Uint8Array(w.data.buffer, w.data.byteOffset, 4 * w.data.length), at);
    at += 4 * w.data.length;
  }
  const manifest = [{ paths: [shardName], weights: weights.map(([name, w]) => ({ name, shape: [...w.shape], dtype: 'float32' })) }];
  return { manifest, data };
}
