// Cosine annealing (PyTorch's CosineAnnealingLR, closed form): lr = etaMin + (initial − etaMin) ·
// (1 + cos(π · iteration / tMax)) / 2, from the optimizer's lr at iteration 0 down to etaMin at tMax.
// Unlike a step decay it ends a run with small, steadily shrinking updates, so the last weights are
// converged ones rather than wherever the last large step left them. Past tMax it rises again, as
// PyTorch's does.
import type { Optimizer } from './optimizer.js';
import { LRScheduler } from './scheduler.js';

export class CosineAnnealingLR extends LRScheduler {
  constructor(
    optimizer: Optimizer,
    readonly options: { tMax: number; etaMin?: number },
  ) {
    super(optimizer);
    if (!(options.tMax >= 1)) throw new Error(`CosineAnnealingLR: tMax must be at least 1, got ${options.tMax}`);
    if (!((options.etaMin ?? 0) >= 0)) throw new Error(`CosineAnnealingLR: etaMin must be a non-negative number, got ${options.etaMin}`);
  }

  protected lrAt(iteration: number): number {
    const etaMin = this.options.etaMin ?? 0;
    return etaMin + ((this.initialLr - etaMin) * (1 + Math.cos((Math.PI * iteration) / this.options.tMax))) / 2;
  }
}
