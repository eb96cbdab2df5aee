export { Optimizer } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, type AdamOptions } from './adam.js';
export { StepLR } from './step-lr.js';
export { CosineAnnealingLR } from './cosine-lr.js';
export { LRScheduler } from './scheduler.js';
