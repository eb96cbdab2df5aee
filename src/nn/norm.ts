// Normalisation layers with PyTorch's constructor arguments, defaults and state-dict names (weight,
// bias, running_mean, running_var, num_batches_tracked), so state dicts translate name for name.
import { full, zeros } from '../ops/creation.js';
import { batchNorm, groupNorm, instanceNorm } from '../ops/norm.js';
import { addScalarInPlace } from '../ops/raw.js';
import { formatShape, type Tensor } from '../core/tensor.js';
import { Module } from './module.js';

function checkInput(layer: string, x: Tensor, channels: number): void {
  if (x.rank !== 5) throw new Error(`${layer}: expected 5D input (N, C, D, H, W), got shape ${formatShape(x.shape)}`);
  if (x.shape[1] !== channels) throw new Error(`${layer}: expected ${channels} channels (numFeatures), got x ${formatShape(x.shape)}`);
}

export interface InstanceNormArgs {
  eps?: number;
  /** Learned per-channel weight (ones) and bias (zeros); PyTorch's default is false. */
  affine?: boolean;
}

/** Like torch.nn.InstanceNorm3d (batch statistics always: track_running_stats=False). */
export class InstanceNorm3d extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly eps: number;
  constructor(
    readonly numFeatures: number,
    { eps = 1e-5, affine = false }: InstanceNormArgs = {},
  ) {
    super();
    this.eps = eps;
    this.weight = affine ? this.addParameter('weight', full([numFeatures], 1)) : null;
    this.bias = affine ? this.addParameter('bias', zeros([numFeatures])) : null;
  }
  forward(x: Tensor): Tensor {
    checkInput('InstanceNorm3d', x, this.numFeatures);
    return instanceNorm(x, { weight: this.weight, bias: this.bias, eps: this.eps });
  }
}

export interface GroupNormArgs {
  eps?: number;
  /** Learned per-channel weight (ones) and bias (zeros); PyTorch's default is true. */
  affine?: boolean;
}

/** Like torch.nn.GroupNorm(numGroups, numChannels): any input [N, C, ...]. */
export class GroupNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly eps: number;
  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    { eps = 1e-5, affine = true }: GroupNormArgs = {},
  ) {
    super();
    if (!Number.isInteger(numGroups) || numGroups < 1 || numChannels % numGroups !== 0) {
      throw new Error(`GroupNorm: numChannels ${numChannels} must be divisible by numGroups, got ${numGroups}`);
    }
    this.eps = eps;
    this.weight = affine ? this.addParameter('weight', full([numChannels], 1)) : null;
    this.bias = affine ? this.addParameter('bias', zeros([numChannels])) : null;
  }
  forward(x: Tensor): Tensor {
    if (x.rank < 2 || x.shape[1] !== this.numChannels)
      throw new Error(`GroupNorm: expected input [N, ${this.numChannels}, ...], got shape ${formatShape(x.shape)}`);
    return groupNorm(x, this.numGroups, { weight: this.weight, bias: this.bias, eps: this.eps });
  }
}

export interface BatchNormArgs {
  eps?: number;
  /** Weight of the batch in the running statistics' update (PyTorch's default 0.1). */
  momentum?: number;
  affine?: boolean;
  /** Keep running statistics (and use them in eval mode); PyTorch's default is true. */
  trackRunningStats?: boolean;
}

/**
 * Like torch.nn.BatchNorm3d: batch statistics in training mode (updating running_mean and
 * running_var in place and counting num_batches_tracked), the running statistics in eval mode.
 * PyTorch's momentum=None (a cumulative average) is not supported.
 */
export class BatchNorm3d extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  readonly numBatchesTracked: Tensor | null;
  readonly eps: number;
  readonly momentum: number;
  constructor(
    readonly numFeatures: number,
    { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true }: BatchNormArgs = {},
  ) {
    super();
    this.eps = eps;
    this.momentum = momentum;
    this.weight = affine ? this.addParameter('weight', full([numFeatures], 1)) : null;
    this.bias = affine ? this.addParameter('bias', zeros([numFeatures])) : null;
    this.runningMean = trackRunningStats ? this.addBuffer('running_mean', zeros([numFeatures])) : null;
    this.runningVar = trackRunningStats ? this.addBuffer('running_var', full([numFeatures], 1)) : null;
    this.numBatchesTracked = trackRunningStats ? this.addBuffer('num_batches_tracked', zeros([])) : null;
  }
  forward(x: Tensor): Tensor {
    checkInput('BatchNorm3d', x, this.numFeatures);
    // Without running statistics, PyTorch uses the batch's in eval mode too.
    const training = this.training || !this.runningMean;
    const out = batchNorm(x, {
      weight: this.weight,
      bias: this.bias,
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      training,
      momentum: this.momentum,
      eps: this.eps,
    });
    if (this.training && this.numBatchesTracked) addScalarInPlace('BatchNorm3d', this.numBatchesTracked, 1);
    return out;
  }
}
