// A learning-rate schedule (PyTorch's LRScheduler): the optimizer's lr as a function of the number of
// steps taken, from the lr it had when the schedule was made. fit() steps it once per iteration; a
// resumed run sets `iteration` to the checkpoint's before training.
import type { Optimizer } from './optimizer.js';

export abstract class LRScheduler {
  readonly initialLr: number;
  iteration = 0;

  constructor(readonly optimizer: Optimizer) {
    this.initialLr = optimizer.lr;
  }

  /** Call once per iteration, after optimizer.step(). */
  step(): void {
    this.iteration++;
    this.optimizer.lr = this.lrAt(this.iteration);
  }

  protected abstract lrAt(iteration: number): number;
}
