// Step decay of the learning rate: lr = initial · gamma^floor(iteration / stepSize). The paper
// divides by 10 every 25,000 iterations.
import type { Optimizer } from './optimizer.js';
import { LRScheduler } from './scheduler.js';

export class StepLR extends LRScheduler {
  constructor(
    optimizer: Optimizer,
    readonly options: { stepSize: number; gamma?: number },
  ) {
    super(optimizer);
    if (!(options.stepSize >= 1)) throw new Error(`StepLR: stepSize must be at least 1, got ${options.stepSize}`);
  }

  protected lrAt(iteration: number): number {
    return this.initialLr * (this.options.gamma ?? 0.1) ** Math.floor(iteration / this.options.stepSize);
  }
}
