// Adam with PyTorch's defaults (betas 0.9/0.999, eps 1e-8) and bias correction.
// kernels/adam.wgsl updates parameters and both moments in place.
import { runElementwise } from '../ops/util.js';
import type { Tensor } from '../core/tensor.js';
import { Optimizer } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
}

export class Adam extends Optimizer {
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;

  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super('Adam', params, options.lr ?? 1e-3);
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
  }

  protected update(param: Tensor, grad: Tensor, index: number): void {
    const [beta1, beta2] = this.betas;
    const t = this.stepCount;
    runElementwise(
      'Adam.step',
      'adam',
      'step',
      param.size,
      { param, grad, m: this.buffer(index, 'exp_avg'), v: this.buffer(index, 'exp_avg_sq') },
      {
        n: param.size,
        lr: this.lr,
        beta1,
        beta2,
        eps: this.eps,
        weightDecay: this.weightDecay,
        correction1: 1 - beta1 ** t,
        correction2: 1 - beta2 ** t,
      },
    );
  }
}
