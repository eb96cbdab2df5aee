// Step decay of the learning rate: lr = initial · gamma^floor(iteration / stepSize). The paper
// divides by 10 every 25,000 iterations.
import type { Optimizer } from './optimizer.js';
import type { LRScheduler } from './scheduler.js';

export class StepLR implements LRScheduler {
  readonly initialLr: number;
  iteration = 0;

  constructor(
    readonly optimizer: Optimizer,
    readonly options: { stepSize: number; gamma?: number },
  ) {
    if (!(options.stepSize >= 1)) throw new Error(`StepLR: stepSize must be at least 1, got ${options.stepSize}`);
    this.initialLr = optimizer.lr;
  }

  step(): void {
    this.iteration++;
    this.optimizer.lr = this.initialLr * (this.options.gamma ?? 0.1) ** Math.floor(this.iteration / this.options.stepSize);
  }
}
