// Keras layers as voxgpu Modules, channels first. A TF.js tensor [N, D, H, W, C] is voxgpu's
// [N, C, D, H, W] with the same D, H, W order, so voxel (d, h, w) of one is voxel (d, h, w) of the
// other; weights are stored PyTorch's way and converted from and to Keras' layout on the edges.
import { elu, gelu, sigmoid } from '../ops/activations.js';
import { narrow } from '../ops/concat.js';
import { conv3d } from '../ops/conv/conv3d.js';
import type { Triple } from '../ops/conv/shape.js';
import { relu } from '../ops/map.js';
import { batchNorm } from '../ops/norm.js';
import { softmax } from '../ops/softmax.js';
import { tensor, type Tensor } from '../core/tensor.js';
import { Module } from '../nn/module.js';
import type { KerasLayerJson, KerasWeight } from './tfjs-format.js';

/** The error for a layer or setting voxgpu does not run: it names the layer, its class and the setting. */
export function unsupported(layer: KerasLayerJson, what: string): Error {
  return new Error(`importTfjsModel: layer "${layerName(layer)}" (${layer.class_name}): ${what}`);
}

export function layerName(layer: KerasLayerJson): string {
  return String(layer.config?.name ?? layer.name ?? '?');
}

type Activation = (x: Tensor) => Tensor;

/** Keras activations by the name model.json gives them; softmax is over the channels (Keras' last axis). */
const activations: Record<string, Activation> = {
  linear: (x) => x,
  relu,
  elu: (x) => elu(x, 1),
  gelu: (x) => gelu(x, 'none'),
  gelu_new: (x) => gelu(x, 'tanh'),
  sigmoid,
  softmax: (x) => softmax(x, 1),
};

function activationOf(layer: KerasLayerJson): { name: string; apply: Activation } {
  const name = layer.config.activation ?? 'linear';
  const apply = typeof name === 'string' ? activations[name] : undefined;
  if (!apply)
    throw unsupported(layer, `activation ${JSON.stringify(name)} is not supported (supported: ${Object.keys(activations).join(', ')})`);
  return { name: name as string, apply };
}

/** A Keras layer turned Module: its Keras weights (for export) and whether it ends in a softmax. */
export abstract class KerasModule extends Module {
  constructor(readonly keras: KerasLayerJson) {
    super();
  }
  get name(): string {
    return layerName(this.keras);
  }
  /** The layer's output channels given its input's. */
  abstract outChannels(inChannels: number): number;
  /** Its weights in Keras' names and layout, in Keras' order. */
  abstract kerasWeights(): Promise<[string, KerasWeight][]>;
  /** Whether its last step is a softmax, which logits() leaves out. */
  endsInSoftmax = false;
  /**
   * The output without a final softmax (what the Dice and cross-entropy losses take). Along the axes
   * marked in `cut` (D, H, W), `x` already holds exactly the planes `reach()` names, zeros outside
   * the volume, so the layer pads nothing there: how a tile of a large volume runs (tfjs-tiles.ts).
   */
  abstract logits(x: Tensor, cut?: readonly boolean[]): Tensor;
  forward(x: Tensor): Tensor {
    return this.forwardCut(x);
  }
  forwardCut(x: Tensor, cut?: readonly boolean[]): Tensor {
    const y = this.logits(x, cut);
    return this.endsInSoftmax ? softmax(y, 1) : y;
  }
  /**
   * Per axis: output plane z reads input planes z − before … z − before + span; `pad` is added in all
   * (output = input + pad − span).
   */
  reach(): Reach {
    return { before: [0, 0, 0], span: [0, 0, 0], pad: [0, 0, 0] };
  }
}

export interface Reach {
  before: Triple;
  span: Triple;
  pad: Triple;
}

/** Weights by name, each used once; a missing one or one of the wrong shape is an error naming it. */
export class WeightSource {
  private readonly used = new Set<string>();
  constructor(private readonly weights: ReadonlyMap<string, KerasWeight>) {}
  take(layer: KerasLayerJson, suffix: string, shape: readonly number[]): KerasWeight {
    const name = `${layerName(layer)}/${suffix}`;
    const w = this.weights.get(name);
    if (!w) throw unsupported(layer, `weight "${name}" is missing from the weights manifest`);
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
      throw unsupported(layer, `weight "${name}" has shape [${w.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    this.used.add(name);
    return w;
  }
  /** Names in the manifest that no layer took. */
  unused(): string[] {
    return [...this.weights.keys()].filter((n) => !this.used.has(n));
  }
}

function triple(layer: KerasLayerJson, key: string, fallback: number): Triple {
  const v = layer.config[key] ?? fallback;
  const t = typeof v === 'number' ? [v, v, v] : v;
  if (!Array.isArray(t) || t.length !== 3 || t.some((x) => !Number.isInteger(x) || x < 1))
    throw unsupported(layer, `${key} ${JSON.stringify(v)} is not three positive integers`);
  return [t[0], t[1], t[2]];
}

function checkChannelsLast(layer: KerasLayerJson): void {
  const format = layer.config.data_format ?? 'channels_last';
  if (format !== 'channels_last') throw unsupported(layer, `data_format ${JSON.stringify(format)} is not supported (only "channels_last")`);
}

/** Keras [kD, kH, kW, in, out] → PyTorch [out, in, kD, kH, kW], and back with `toKeras`. */
function permuteKernel(src: Float32Array, k: Triple, cin: number, cout: number, toKeras: boolean): Float32Array {
  const out = new Float32Array(src.length);
  const taps = k[0] * k[1] * k[2];
  for (let t = 0; t < taps; t++) {
    for (let i = 0; i < cin; i++) {
      for (let o = 0; o < cout; o++) {
        const keras = (t * cin + i) * cout + o;
        const torch = (o * cin + i) * taps + t;
        if (toKeras) out[keras] = src[torch]!;
        else out[torch] = src[keras]!;
      }
    }
  }
  return out;
}

/**
 * Conv3D, stride 1, with its own activation. `same` padding is TF's: (k − 1)·dilation in all, the
 * smaller half before; when that total is odd (an even kernel) the conv pads the larger half on both
 * sides and drops the first output plane.
 */
export class KerasConv3D extends KerasModule {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  private readonly kernel: Triple;
  private readonly dilation: Triple;
  private readonly total: Triple;
  private readonly activation: { name: string; apply: Activation };
  readonly filters: number;

  constructor(
    keras: KerasLayerJson,
    readonly inChannels: number,
    weights: WeightSource,
  ) {
    super(keras);
    const c = keras.config;
    checkChannelsLast(keras);
    this.kernel = triple(keras, 'kernel_size', 1);
    this.dilation = triple(keras, 'dilation_rate', 1);
    const strides = triple(keras, 'strides', 1);
    if (strides.some((s) => s !== 1)) throw unsupported(keras, `strides ${JSON.stringify(c.strides)} are not supported (only 1)`);
    if ((c.groups ?? 1) !== 1) throw unsupported(keras, `groups ${JSON.stringify(c.groups)} is not supported (only 1)`);
    if (c.padding !== 'same' && c.padding !== 'valid')
      throw unsupported(keras, `padding ${JSON.stringify(c.padding)} is not supported (only "same" or "valid")`);
    this.filters = c.filters as number;
    if (!Number.isInteger(this.filters) || this.filters < 1)
      throw unsupported(keras, `filters ${JSON.stringify(c.filters)} is not a positive integer`);
    this.activation = activationOf(keras);
    this.endsInSoftmax = this.activation.name === 'softmax';
    this.total = this.kernel.map((k, i) => (c.padding === 'same' ? (k - 1) * this.dilation[i]! : 0)) as unknown as Triple;
    const kernel = weights.take(keras, 'kernel', [...this.kernel, inChannels, this.filters]);
    const torch = permuteKernel(kernel.data, this.kernel, inChannels, this.filters, false);
    this.weight = this.addParameter('weight', tensor(torch, [this.filters, inChannels, ...this.kernel]));
    const useBias = c.use_bias ?? true;
    this.bias = useBias ? this.addParameter('bias', tensor(weights.take(keras, 'bias', [this.filters]).data, [this.filters])) : null;
  }

  outChannels(): number {
    return this.filters;
  }

  override reach(): Reach {
    const span = this.kernel.map((k, i) => (k - 1) * this.dilation[i]!) as unknown as Triple;
    return { before: this.total.map((t) => Math.floor(t / 2)) as unknown as Triple, span, pad: this.total };
  }

  logits(x: Tensor, cut: readonly boolean[] = []): Tensor {
    const padding = this.total.map((t, i) => (cut[i] ? 0 : Math.ceil(t / 2))) as unknown as Triple;
    let y = conv3d(x, this.weight, this.bias, { padding, dilation: this.dilation });
    this.total.forEach((t, i) => {
      if (!cut[i] && t % 2 === 1) y = narrow(y, 2 + i, 1, y.shape[2 + i]! - 1);
    });
    return this.endsInSoftmax ? y : this.activation.apply(y);
  }

  async kerasWeights(): Promise<[string, KerasWeight][]> {
    const kernel = permuteKernel(await this.weight.toArray(), this.kernel, this.inChannels, this.filters, true);
    const out: [string, KerasWeight][] = [
      [`${this.name}/kernel`, { shape: [...this.kernel, this.inChannels, this.filters], data: kernel }],
    ];
    if (this.bias) out.push([`${this.name}/bias`, { shape: [this.filters], data: await this.bias.toArray() }]);
    return out;
  }
}

/** An Activation layer. */
export class KerasActivation extends KerasModule {
  private readonly activation: { name: string; apply: Activation };
  constructor(keras: KerasLayerJson) {
    super(keras);
    this.activation = activationOf(keras);
    this.endsInSoftmax = this.activation.name === 'softmax';
  }
  outChannels(inChannels: number): number {
    return inChannels;
  }
  logits(x: Tensor): Tensor {
    return this.endsInSoftmax ? x : this.activation.apply(x);
  }
  async kerasWeights(): Promise<[string, KerasWeight][]> {
    return [];
  }
}

/**
 * BatchNormalization in inference mode, in training too: y = γ (x − μ) / √(σ² + ε) + β with the
 * moving statistics frozen (Keras' advice for fine-tuning; these models fold BatchNorm into the
 * convs at export anyway). γ and β train; μ and σ² are buffers (running_mean, running_var, as
 * PyTorch names them), kept as they were imported.
 */
export class KerasBatchNormalization extends KerasModule {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  private readonly eps: number;

  constructor(
    keras: KerasLayerJson,
    readonly channels: number,
    weights: WeightSource,
  ) {
    super(keras);
    const c = keras.config;
    const axis = Array.isArray(c.axis) && c.axis.length === 1 ? c.axis[0] : (c.axis ?? -1);
    if (axis !== -1 && axis !== 4) throw unsupported(keras, `axis ${JSON.stringify(c.axis)} is not supported (only the channels, -1 or 4)`);
    this.eps = (c.epsilon as number | undefined) ?? 1e-3;
    const vector = (suffix: string) => tensor(weights.take(keras, suffix, [channels]).data, [channels]);
    this.weight = (c.scale ?? true) ? this.addParameter('weight', vector('gamma')) : null;
    this.bias = (c.center ?? true) ? this.addParameter('bias', vector('beta')) : null;
    this.runningMean = this.addBuffer('running_mean', vector('moving_mean'));
    this.runningVar = this.addBuffer('running_var', vector('moving_variance'));
  }

  outChannels(inChannels: number): number {
    return inChannels;
  }

  logits(x: Tensor): Tensor {
    return batchNorm(x, {
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      weight: this.weight,
      bias: this.bias,
      eps: this.eps,
      training: false,
    });
  }

  async kerasWeights(): Promise<[string, KerasWeight][]> {
    const v = async (suffix: string, t: Tensor): Promise<[string, KerasWeight]> => [
      `${this.name}/${suffix}`,
      { shape: [this.channels], data: await t.toArray() },
    ];
    const out: [string, KerasWeight][] = [];
    if (this.weight) out.push(await v('gamma', this.weight));
    if (this.bias) out.push(await v('beta', this.bias));
    out.push(await v('moving_mean', this.runningMean), await v('moving_variance', this.runningVar));
    return out;
  }
}
