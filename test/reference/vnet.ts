// A float64 V-Net forward pass composed from the reference ops (conv, PReLU, concat, softmax, Dice),
// written from the paper's Fig. 2 as src/nn/vnet.ts builds it: residual stages (convs, PReLU between
// them, then PReLU of the sum with the stage input), 2×2×2 stride-2 down- and up-convolutions with
// PReLU, and skips concatenated before each decoder stage. Parameters come by their state-dict names.
import type { VNet, VNetOptions } from '../../src/nn/vnet.js';
import { concat } from '../core/reference.js';
import { prelu, softmax } from './activations.js';
import { conv3dOutShape, conv3dRef, convTranspose3dOutShape, convTranspose3dRef, type ConvCase, type Shape5, type Triple } from './conv.js';
import { diceLoss, oneHot } from './losses.js';

/** A parameter's values, with its shape. */
export interface RefParam {
  shape: readonly number[];
  data: Float64Array;
}

export type RefParams = ReadonlyMap<string, RefParam>;

interface Activation {
  data: Float64Array;
  shape: Shape5;
}

type Config = Required<Omit<VNetOptions, 'seed'>>;

const triple = (n: number): Triple => [n, n, n];

function param(params: RefParams, name: string): RefParam {
  const p = params.get(name);
  if (!p) throw new Error(`reference V-Net: no parameter ${name}`);
  return p;
}

function conv(params: RefParams, name: string, x: Activation, padding: number, stride: number): Activation {
  const w = param(params, `${name}.weight`);
  const c: ConvCase = { xShape: x.shape, wShape: w.shape as Shape5, stride: triple(stride), padding: triple(padding), dilation: triple(1) };
  return { data: conv3dRef(c, x.data, w.data, params.get(`${name}.bias`)?.data), shape: conv3dOutShape(c) };
}

function upConv(params: RefParams, name: string, x: Activation): Activation {
  const w = param(params, `${name}.weight`);
  const c: ConvCase = { xShape: x.shape, wShape: w.shape as Shape5, stride: triple(2), padding: triple(0), dilation: triple(1) };
  return { data: convTranspose3dRef(c, x.data, w.data, params.get(`${name}.bias`)?.data), shape: convTranspose3dOutShape(c) };
}

function act(params: RefParams, name: string, x: Activation): Activation {
  return { data: prelu(x.data, param(params, `${name}.weight`).data, x.shape), shape: x.shape };
}

/** n convolutions, PReLU after each but the last, then PReLU(h + residual). */
function residualStage(params: RefParams, name: string, x: Activation, residual: Activation, n: number, k: number): Activation {
  let h = x;
  for (let i = 0; i < n; i++) {
    h = conv(params, `${name}.conv${i}`, h, (k - 1) / 2, 1);
    if (i < n - 1) h = act(params, `${name}.prelu${i}`, h);
  }
  return act(params, `${name}.prelu`, { data: h.data.map((v, i) => v + residual.data[i]!), shape: h.shape });
}

/** The input's channels repeated up to `channels` (the first stage's residual). */
function replicate(x: Activation, channels: number): Activation {
  const [n, inCh, ...spatial] = x.shape;
  const voxels = spatial[0] * spatial[1] * spatial[2];
  const data = new Float64Array(n * channels * voxels);
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < channels; c++) {
      const from = (s * inCh + (c % inCh)) * voxels;
      data.set(x.data.subarray(from, from + voxels), (s * channels + c) * voxels);
    }
  }
  return { data, shape: [n, channels, ...spatial] };
}

/** V-Net's logits [N, numClasses, D, H, W] for x [N, inChannels, D, H, W]. */
export function vnetLogitsRef(config: Config, params: RefParams, x: Activation): Activation {
  const k = config.kernelSize;
  const levels = config.encoderConvs.length;
  const skips: Activation[] = [];
  let h = x;
  config.encoderConvs.forEach((n, level) => {
    const residual = level === 0 ? replicate(x, config.baseChannels) : h;
    h = residualStage(params, `enc${level + 1}`, h, residual, n, k);
    if (level < levels - 1) {
      skips.push(h);
      h = act(params, `down${level + 1}.prelu`, conv(params, `down${level + 1}.conv`, h, 0, 2));
    }
  });
  config.decoderConvs.forEach((n, i) => {
    const level = levels - 2 - i;
    const up = act(params, `up${level + 1}.prelu`, upConv(params, `up${level + 1}.conv`, h));
    const joined = concat([up.data, skips[level]!.data], [up.shape, skips[level]!.shape], 1);
    const j: Activation = { data: joined.data, shape: joined.shape as Shape5 };
    h = residualStage(params, `dec${level + 1}`, j, j, n, k);
  });
  if (config.head === 'conv5') h = act(params, 'headPrelu', conv(params, 'head', h, (k - 1) / 2, 1));
  return conv(params, 'classifier', h, 0, 1);
}

/** Softmax probabilities over the classes. */
export function vnetForwardRef(config: Config, params: RefParams, x: Activation): Activation {
  const logits = vnetLogitsRef(config, params, x);
  return { data: softmax(logits.data, logits.shape, 1), shape: logits.shape };
}

/** diceLoss(vnet.forward(x), labels) with the op's defaults (mean over the batch of 1 − mean Dice of the classes but 0; eps 1e-6). */
export function vnetDiceLossRef(config: Config, params: RefParams, x: Activation, labels: ArrayLike<number>): number {
  const p = vnetForwardRef(config, params, x);
  const [batch, channels, d, hh, w] = p.shape;
  const shape = { batch, channels, voxels: d * hh * w };
  const classes = Array.from({ length: channels - 1 }, (_, i) => i + 1);
  const losses = diceLoss(p.data, oneHot(labels, shape), shape, classes, 1e-6);
  return losses.reduce((a, b) => a + b, 0) / batch;
}

/** A model's parameters read back as float64, by name. */
export async function paramsOf(model: VNet): Promise<Map<string, RefParam>> {
  const out = new Map<string, RefParam>();
  for (const [name, p] of model.namedParameters()) out.set(name, { shape: p.shape, data: Float64Array.from(await p.toArray()) });
  return out;
}
