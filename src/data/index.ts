/** Preprocessing, augmentation, synthetic data and batching; browser-safe (folder loading: loader-node.ts). */
export * from './random.js';
export * from './quantile.js';
export * from './interpolate.js';
export * from './resample.js';
export * from './conform.js';
export * from './crop.js';
export * from './intensity.js';
export * from './augment.js';
export * from './augment-gpu.js';
export * from './batches-gpu.js';
export * from './synthetic.js';
export * from './pairing.js';
export * from './loader.js';
