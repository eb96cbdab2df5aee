// V-Net (Milletari, Navab, Ahmadi 2016): a fully convolutional encoder-decoder for volumes with
// residual stages, strided convolutions instead of pooling, and concatenated skip connections.
import { concat } from '../ops/concat.js';
import { expand } from '../ops/expand.js';
import { softmax } from '../ops/softmax.js';
import { formatShape, type Tensor } from '../core/tensor.js';
import { Conv3d, ConvTranspose3d, PReLU } from './layers.js';
import { Module } from './module.js';

export interface VNetOptions {
  /** Input channels (1 for MRI). */
  inChannels?: number;
  /** Output classes, background included (2 in the paper). */
  numClasses?: number;
  /** Channels of the first stage; each lower stage doubles them (16 in the paper). */
  baseChannels?: number;
  /** 5×5×5 convolutions per encoder stage, top to bottom (the bottom stage included). */
  encoderConvs?: readonly number[];
  /** Convolutions per decoder stage, bottom to top. */
  decoderConvs?: readonly number[];
  /** Kernel size of the stage convolutions (5 in the paper); must be odd. */
  kernelSize?: number;
  /**
   * Output head: 'conv5' (default) is a k×k×k conv to the class count + PReLU, then a 1×1×1 conv,
   * as in the public implementations; '1x1' is the paper's single 1×1×1 conv (Table 1's "Output").
   */
  head?: 'conv5' | '1x1';
  /** Seed for the weight initialisation. */
  seed?: number;
}

/** Conv counts of the paper's Fig. 2 and of the original Caffe prototxt. */
export const vnetPresets = {
  paper: { encoderConvs: [1, 2, 3, 3, 3], decoderConvs: [3, 3, 2, 1] },
  caffe: { encoderConvs: [1, 1, 2, 3, 3], decoderConvs: [3, 2, 1, 1] },
} as const;

/** n convolutions at constant width, PReLU after each but the last; then + residual, PReLU. */
class ResidualStage extends Module {
  private convs: Conv3d[] = [];
  private acts: PReLU[] = [];
  private out: PReLU;
  constructor(inChannels: number, channels: number, n: number, k: number, seed: () => number) {
    super();
    for (let i = 0; i < n; i++) {
      this.convs.push(
        this.addModule(`conv${i}`, new Conv3d(i === 0 ? inChannels : channels, channels, k, { padding: (k - 1) / 2, seed: seed() })),
      );
      if (i < n - 1) this.acts.push(this.addModule(`prelu${i}`, new PReLU(channels)));
    }
    this.out = this.addModule('prelu', new PReLU(channels));
  }
  forward(x: Tensor, residual: Tensor = x): Tensor {
    let h = x;
    // Each conv and its PReLU as one op (fused into the conv's writes on tensor cores); the last adds
    // the residual before its PReLU (the sum is never stored).
    this.convs.forEach((c, i) => {
      h = i < this.acts.length ? c.forwardPrelu(h, this.acts[i]!) : c.forwardPrelu(h, this.out, residual);
    });
    return h;
  }
}

/** 2×2×2 stride-2 convolution (down) or transposed convolution (up), then PReLU. */
class Resample extends Module {
  private conv: Conv3d | ConvTranspose3d;
  private act: PReLU;
  constructor(dir: 'down' | 'up', inChannels: number, outChannels: number, seed: number) {
    super();
    const Layer = dir === 'down' ? Conv3d : ConvTranspose3d;
    this.conv = this.addModule('conv', new Layer(inChannels, outChannels, 2, { stride: 2, seed }));
    this.act = this.addModule('prelu', new PReLU(outChannels));
  }
  forward(x: Tensor): Tensor {
    return this.conv instanceof Conv3d ? this.conv.forwardPrelu(x, this.act) : this.act.forward(this.conv.forward(x));
  }
}

export class VNet extends Module {
  readonly config: Required<Omit<VNetOptions, 'seed'>>;
  private encoder: ResidualStage[] = [];
  private down: Resample[] = [];
  private up: Resample[] = [];
  private decoder: ResidualStage[] = [];
  private headConv: Conv3d | null = null;
  private headAct: PReLU | null = null;
  private classifier: Conv3d;

  constructor(options: VNetOptions = {}) {
    super();
    const c = {
      inChannels: options.inChannels ?? 1,
      numClasses: options.numClasses ?? 2,
      baseChannels: options.baseChannels ?? 16,
      encoderConvs: [...(options.encoderConvs ?? vnetPresets.paper.encoderConvs)],
      decoderConvs: [...(options.decoderConvs ?? vnetPresets.paper.decoderConvs)],
      kernelSize: options.kernelSize ?? 5,
      head: options.head ?? 'conv5',
    };
    checkConfig(c);
    this.config = c;
    let s = options.seed ?? 1;
    const seed = () => s++;
    const width = (level: number) => c.baseChannels * 2 ** level;
    const levels = c.encoderConvs.length;
    c.encoderConvs.forEach((n, level) => {
      const inCh = level === 0 ? c.inChannels : width(level);
      this.encoder.push(this.addModule(`enc${level + 1}`, new ResidualStage(inCh, width(level), n, c.kernelSize, seed)));
      if (level < levels - 1)
        this.down.push(this.addModule(`down${level + 1}`, new Resample('down', width(level), width(level + 1), seed())));
    });
    // Decoder stage at level l works at 2·width(l) (half from the up-conv, half from the skip).
    c.decoderConvs.forEach((n, i) => {
      const level = levels - 2 - i;
      const below = i === 0 ? width(levels - 1) : 2 * width(level + 1);
      this.up.push(this.addModule(`up${level + 1}`, new Resample('up', below, width(level), seed())));
      this.decoder.push(this.addModule(`dec${level + 1}`, new ResidualStage(2 * width(level), 2 * width(level), n, c.kernelSize, seed)));
    });
    const top = 2 * width(0);
    if (c.head === 'conv5') {
      this.headConv = this.addModule(
        'head',
        new Conv3d(top, c.numClasses, c.kernelSize, { padding: (c.kernelSize - 1) / 2, seed: seed() }),
      );
      this.headAct = this.addModule('headPrelu', new PReLU(c.numClasses));
    }
    this.classifier = this.addModule('classifier', new Conv3d(c.head === 'conv5' ? c.numClasses : top, c.numClasses, 1, { seed: seed() }));
  }

  /** The spatial sizes must be multiples of this (one halving per down-convolution). */
  get sizeMultiple(): number {
    return 2 ** (this.config.encoderConvs.length - 1);
  }

  /** Softmax probabilities [N, numClasses, D, H, W] for x [N, inChannels, D, H, W]. */
  forward(x: Tensor): Tensor {
    return softmax(this.logits(x), 1);
  }

  /** Class scores before the softmax (for cross-entropy training). */
  logits(x: Tensor): Tensor {
    this.checkInput(x);
    const skips: Tensor[] = [];
    let h = x;
    this.encoder.forEach((stage, level) => {
      // Stage 1's residual is the input replicated to the stage width (the paper's element-wise sum).
      const residual = level === 0 ? replicate(x, this.config.baseChannels) : h;
      h = stage.forward(h, residual);
      if (level < this.down.length) {
        skips.push(h);
        h = this.down[level]!.forward(h);
      }
    });
    this.decoder.forEach((stage, i) => {
      const joined = concat([this.up[i]!.forward(h), skips[skips.length - 1 - i]!], 1);
      h = stage.forward(joined);
    });
    if (this.headConv) h = this.headConv.forwardPrelu(h, this.headAct!);
    return this.classifier.forward(h);
  }

  private checkInput(x: Tensor): void {
    const c = this.config;
    if (x.rank !== 5 || x.shape[1] !== c.inChannels) {
      throw new Error(`VNet: input must be [N, ${c.inChannels}, D, H, W], got ${formatShape(x.shape)}`);
    }
    const m = this.sizeMultiple;
    const spatial = x.shape.slice(2);
    if (spatial.some((d) => d % m !== 0)) {
      const nearest = spatial.map((d) => Math.max(m, Math.round(d / m) * m));
      throw new Error(
        `VNet: spatial size ${spatial.join('×')} must be divisible by ${m} (${c.encoderConvs.length - 1} halvings); nearest ` +
          `valid size: ${nearest.join('×')}`,
      );
    }
  }
}

/** The input copied to `channels` channels (inChannels must divide it). */
function replicate(x: Tensor, channels: number): Tensor {
  const inCh = x.shape[1]!;
  if (inCh === channels) return x;
  if (inCh === 1) return expand(x, [x.shape[0]!, channels, ...x.shape.slice(2)]);
  return concat(new Array<Tensor>(channels / inCh).fill(x), 1);
}

function checkConfig(c: Required<Omit<VNetOptions, 'seed'>>): void {
  const levels = c.encoderConvs.length;
  if (levels < 2 || c.decoderConvs.length !== levels - 1) {
    throw new Error(`VNet: decoderConvs needs one entry per encoder stage but the bottom (${levels - 1}), got ${c.decoderConvs.length}`);
  }
  if ([...c.encoderConvs, ...c.decoderConvs].some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error('VNet: every stage needs at least one convolution');
  }
  if (c.kernelSize % 2 !== 1) throw new Error(`VNet: kernelSize must be odd to keep sizes ('same' padding), got ${c.kernelSize}`);
  if (c.baseChannels % c.inChannels !== 0) {
    throw new Error(`VNet: baseChannels (${c.baseChannels}) must be a multiple of inChannels (${c.inChannels}) for the input residual`);
  }
  if (c.numClasses < 2) throw new Error(`VNet: numClasses must be at least 2 (background included), got ${c.numClasses}`);
}

export interface StageField {
  stage: string;
  /** Input size of the stage for a given network input size, per axis scale (1 = full resolution). */
  scale: number;
  receptiveField: number;
}

/**
 * Theoretical receptive field (in voxels, per axis) after each stage: r grows by (k−1)·j per
 * convolution, where j is the stage's stride in input voxels. Reproduces the paper's Table 1.
 */
export function receptiveField(model: VNet): StageField[] {
  const c = model.config;
  const k = c.kernelSize;
  const out: StageField[] = [];
  let r = 1;
  let j = 1;
  c.encoderConvs.forEach((n, level) => {
    if (level > 0) {
      r += j; // 2×2×2 down-convolution: (2 − 1)·j
      j *= 2;
    }
    r += n * (k - 1) * j;
    out.push({ stage: `L-Stage ${level + 1}`, scale: 1 / j, receptiveField: r });
  });
  c.decoderConvs.forEach((n, i) => {
    j /= 2;
    r += j; // 2×2×2 transposed convolution
    r += n * (k - 1) * j;
    out.push({ stage: `R-Stage ${c.encoderConvs.length - 1 - i}`, scale: 1 / j, receptiveField: r });
  });
  if (c.head === 'conv5') r += k - 1;
  out.push({ stage: 'Output', scale: 1, receptiveField: r });
  return out;
}
