// Layers with PyTorch's constructor arguments and parameter names (weight, bias), so state
// dicts translate name for name.
import { conv3d } from '../ops/conv/conv3d.js';
import { conv3dPrelu } from '../ops/conv/conv3d-prelu.js';
import { convTranspose3d } from '../ops/conv/conv-transpose3d.js';
import type { Conv3dOptions, ConvTranspose3dOptions, Size3 } from '../ops/conv/shape.js';
import { prelu } from '../ops/prelu.js';
import { full, zeros } from '../ops/creation.js';
import type { Tensor } from '../core/tensor.js';
import { msraAverage } from './init.js';
import { Module } from './module.js';

function triple(k: Size3): [number, number, number] {
  return typeof k === 'number' ? [k, k, k] : [k[0], k[1], k[2]];
}

export interface Conv3dArgs extends Conv3dOptions {
  bias?: boolean;
  seed?: number;
}

export interface ConvTranspose3dArgs extends ConvTranspose3dOptions {
  bias?: boolean;
  seed?: number;
}

/** Weight (MSRA-average init, `weightShape`) and optional zero bias; subclasses pick the op. */
abstract class ConvLayer<O extends Conv3dArgs> extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(
    weightShape: number[],
    readonly outChannels: number,
    readonly options: O,
  ) {
    super();
    this.weight = this.addParameter('weight', msraAverage(weightShape, options.seed));
    this.bias = options.bias === false ? null : this.addParameter('bias', zeros([outChannels]));
  }
}

/** Like torch.nn.Conv3d: weight [out, in, kD, kH, kW]. */
export class Conv3d extends ConvLayer<Conv3dArgs> {
  constructor(
    readonly inChannels: number,
    outChannels: number,
    kernelSize: Size3,
    options: Conv3dArgs = {},
  ) {
    super([outChannels, inChannels, ...triple(kernelSize)], outChannels, options);
  }
  forward(x: Tensor): Tensor {
    return conv3d(x, this.weight, this.bias, this.options);
  }
  /** prelu(this conv of x (+ residual), act's slopes) as one op (conv3dPrelu: fused on tensor cores). */
  forwardPrelu(x: Tensor, act: PReLU, residual: Tensor | null = null): Tensor {
    return conv3dPrelu(x, this.weight, this.bias, act.weight, residual, this.options);
  }
}

/** Like torch.nn.ConvTranspose3d: weight [in, out, kD, kH, kW]. */
export class ConvTranspose3d extends ConvLayer<ConvTranspose3dArgs> {
  constructor(
    readonly inChannels: number,
    outChannels: number,
    kernelSize: Size3,
    options: ConvTranspose3dArgs = {},
  ) {
    super([inChannels, outChannels, ...triple(kernelSize)], outChannels, options);
  }
  forward(x: Tensor): Tensor {
    return convTranspose3d(x, this.weight, this.bias, this.options);
  }
}

/** Per-channel PReLU (numParameters = channels) or one shared slope (1), initial slope 0.25. */
export class PReLU extends Module {
  readonly weight: Tensor;
  constructor(numParameters = 1, init = 0.25) {
    super();
    this.weight = this.addParameter('weight', full([numParameters], init));
  }
  forward(x: Tensor): Tensor {
    return prelu(x, this.weight);
  }
}
