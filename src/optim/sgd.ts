// Stochastic gradient descent with momentum (the paper: lr 1e-4, momentum 0.99), PyTorch semantics.
// kernels/sgd.wgsl updates parameters and momentum buffers in place.
import { runElementwise } from '../ops/util.js';
import type { Tensor } from '../core/tensor.js';
import { Optimizer } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;

  constructor(params: Iterable<Tensor>, options: SGDOptions) {
    super('SGD', params, options.lr);
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new Error('SGD: nesterov momentum requires a momentum and zero dampening');
    }
  }

  protected update(param: Tensor, grad: Tensor, index: number): void {
    const base = { n: param.size, lr: this.lr, weightDecay: this.weightDecay };
    if (this.momentum === 0) {
      runElementwise(
        'SGD.step',
        'sgd',
        'plain',
        param.size,
        { param, grad },
        { ...base, momentum: 0, dampening: 0, nesterov: 0, first: 0 },
      );
      return;
    }
    const first = !this.state.has(`${index}.momentum`);
    const buf = this.buffer(index, 'momentum');
    runElementwise(
      'SGD.step',
      'sgd',
      'momentum',
      param.size,
      { param, grad, buf },
      {
        ...base,
        momentum: this.momentum,
        dampening: this.dampening,
        nesterov: this.nesterov ? 1 : 0,
        first: first ? 1 : 0,
      },
    );
  }
}
