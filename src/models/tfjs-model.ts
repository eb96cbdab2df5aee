// TensorFlow.js layers-models (brainchop's MeshNets) as voxgpu Modules, and back.
//
// Layout: the model takes voxgpu's [N, C, D, H, W] where TF.js takes [N, D, H, W, C], with D, H, W
// in the same order, and returns [N, classes, D, H, W] where TF.js returns [N, D, H, W, classes].
// For one input channel the two layouts are the same bytes: a volume stored [D][H][W] feeds both.
import { instanceNorm } from '../ops/norm.js';
import { formatShape, type Tensor } from '../core/tensor.js';
import { Module } from '../nn/module.js';
import {
  KerasActivation,
  KerasBatchNormalization,
  KerasConv3D,
  type KerasModule,
  layerName,
  unsupported,
  WeightSource,
} from './tfjs-layers.js';
import { type KerasLayerJson, modelConfigOf, readWeights, type TfjsModelJson, writeWeights } from './tfjs-format.js';

/** The ε of brainchop's instance normalisation (tensor-utils.js, `LayerNormInPlace`). */
export const brainchopInstanceNormEps = 1e-5;

export interface TfjsImportOptions {
  /**
   * Apply brainchop's conventions, which its inference code adds to what model.json says
   * (inference-logic.js): a layer whose name ends in `_gn` is followed by an instance normalisation
   * over D, H, W per channel (ε = 1e-5, no affine), as in `mindgrab`. Default true.
   */
  brainchop?: boolean;
}

/** A TF.js layers-model as a Module: a chain of Keras layers, channels first. */
export class TfjsModel extends Module {
  readonly inChannels: number;
  /** The channels of the output (the classes of a segmentation model). */
  readonly outChannels: number;

  constructor(
    /** The model.json it came from; export writes its topology back unchanged. */
    readonly json: TfjsModelJson,
    readonly layers: readonly KerasModule[],
    inChannels: number,
    /** The layers followed by an instance normalisation (brainchop's `_gn` layers), by index. */
    readonly instanceNormAfter: ReadonlySet<number> = new Set(),
  ) {
    super();
    this.inChannels = inChannels;
    this.outChannels = layers.reduce((c, l) => l.outChannels(c), inChannels);
    for (const l of layers) this.addModule(l.name, l);
  }

  /** What TF.js' `model.predict` gives, channels first. */
  forward(x: Tensor): Tensor {
    return this.run(x, false);
  }

  /** The output without a final softmax, if the model ends in one: what the losses of trainStep and fit take. */
  logits(x: Tensor): Tensor {
    return this.run(x, true);
  }

  private run(x: Tensor, logits: boolean): Tensor {
    if (x.rank !== 5 || x.shape[1] !== this.inChannels) {
      throw new Error(
        `TfjsModel: expected input [N, ${this.inChannels}, D, H, W] (TF.js' [N, D, H, W, ${this.inChannels}] with the channels ` +
          `first), got ${formatShape(x.shape)}`,
      );
    }
    let h = x;
    this.layers.forEach((layer, i) => {
      h = logits && i === this.layers.length - 1 ? layer.logits(h) : layer.forward(h);
      if (this.instanceNormAfter.has(i)) h = instanceNorm(h, { eps: brainchopInstanceNormEps });
    });
    return h;
  }
}

function layersOf(json: TfjsModelJson): { kind: string; layers: KerasLayerJson[] } {
  const model = modelConfigOf(json);
  const kinds = ['Functional', 'Model', 'Sequential'];
  if (!kinds.includes(model.class_name))
    throw new Error(`importTfjsModel: model class ${JSON.stringify(model.class_name)} is not supported (only ${kinds.join(', ')})`);
  const layers = Array.isArray(model.config) ? model.config : model.config?.layers;
  if (!Array.isArray(layers) || layers.length === 0) throw new Error('importTfjsModel: the topology has no layers');
  return { kind: model.class_name, layers };
}

/** Only a chain: each layer of a functional model takes exactly the previous layer's output. */
function checkChain(layers: readonly KerasLayerJson[]): void {
  layers.forEach((layer, i) => {
    const nodes = layer.inbound_nodes;
    if (i === 0) return;
    const previous = layerName(layers[i - 1]!);
    const ok =
      Array.isArray(nodes) &&
      nodes.length === 1 &&
      Array.isArray(nodes[0]) &&
      nodes[0].length === 1 &&
      Array.isArray(nodes[0][0]) &&
      nodes[0][0][0] === previous;
    if (!ok)
      throw unsupported(
        layer,
        `inputs ${JSON.stringify(nodes)} are not the previous layer "${previous}" alone; only a chain of layers is supported`,
      );
  });
}

/** The input's channel count, from the InputLayer (or the first layer's batch_input_shape). */
function inputChannels(layer: KerasLayerJson): number {
  const shape = layer.config.batch_input_shape ?? layer.config.batch_shape;
  if (!Array.isArray(shape) || shape.length !== 5 || !Number.isInteger(shape[4])) {
    throw unsupported(layer, `input shape ${JSON.stringify(shape)} is not [batch, D, H, W, channels] with a known channel count`);
  }
  return shape[4] as number;
}

/**
 * A Module from a parsed model.json and its weights (the shards' bytes in manifest order, one array
 * per shard or concatenated). Browser-safe: `loadTfjsModel` in 'voxgpu/node' reads the files.
 * Supported: InputLayer, Conv3D (stride 1, any kernel and dilation, same/valid, with or without bias,
 * channels_last), Activation, BatchNormalization (inference); anything else is refused by name.
 */
export function importTfjsModel(
  json: TfjsModelJson,
  weights: Uint8Array | ArrayBuffer | readonly Uint8Array[],
  options: TfjsImportOptions = {},
): TfjsModel {
  const { kind, layers: all } = layersOf(json);
  if (kind !== 'Sequential') checkChain(all);
  const source = new WeightSource(readWeights(json, weights));
  const channels = inputChannels(all[0]!);
  const body = all[0]!.class_name === 'InputLayer' ? all.slice(1) : all;
  const modules: KerasModule[] = [];
  const normalized = new Set<number>();
  let c = channels;
  try {
    for (const layer of body) {
      const m = moduleFor(layer, c, source);
      modules.push(m);
      c = m.outChannels(c);
      if ((options.brainchop ?? true) && m.name.endsWith('_gn')) normalized.add(modules.length - 1);
    }
    const unused = source.unused();
    if (unused.length) throw new Error(`importTfjsModel: weights ${unused.map((n) => `"${n}"`).join(', ')} belong to no supported layer`);
  } catch (e) {
    for (const m of modules) m.dispose();
    throw e;
  }
  return new TfjsModel(json, modules, channels, normalized);
}

function moduleFor(layer: KerasLayerJson, inChannels: number, weights: WeightSource): KerasModule {
  switch (layer.class_name) {
    case 'Conv3D':
      return new KerasConv3D(layer, inChannels, weights);
    case 'Activation':
      return new KerasActivation(layer);
    case 'BatchNormalization':
      return new KerasBatchNormalization(layer, inChannels, weights);
    default:
      throw unsupported(layer, 'this layer class is not supported (only InputLayer, Conv3D, Activation, BatchNormalization)');
  }
}

export interface TfjsExport {
  /** model.json: the imported topology unchanged, the manifest of the one shard. */
  json: TfjsModelJson;
  /** The shard's bytes, to be written beside model.json as `shardName`. */
  weights: Uint8Array;
  shardName: string;
}

/**
 * The model in TF.js' layers-model format with its current weights (after fine-tuning, say), as
 * `tf.loadLayersModel` and brainchop read it: one weight shard.
 */
export async function exportTfjsModel(model: TfjsModel, shardName = 'group1-shard1of1.bin'): Promise<TfjsExport> {
  const named = (await Promise.all(model.layers.map((l) => l.kerasWeights()))).flat();
  const { manifest, data } = writeWeights(named, shardName);
  return { json: { ...model.json, weightsManifest: manifest }, weights: data, shardName };
}
