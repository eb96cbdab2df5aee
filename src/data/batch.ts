// The batches fit() trains on: the types that the GPU batch producer and the consumer
// (fit) share, kept with a producer (batches-gpu.ts) so that data does not import from training.
import type { Tensor } from '../core/tensor.js';

/** A batch on the host: image [N, Cin, D, H, W] and labels [N, D, H, W] (class indices). */
export interface HostBatch {
  image: Float32Array;
  labels: ArrayLike<number>;
  shape: readonly [number, number, number, number, number];
}

/** A batch already on the GPU (e.g. augmented there: gpuBatchIterator); fit disposes it after its step. */
export interface DeviceBatch {
  /** [N, Cin, D, H, W]. */
  image: Tensor;
  /** [N, D, H, W] class indices. */
  labels: Tensor;
}
