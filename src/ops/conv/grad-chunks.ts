// The weight-gradient kernels (register.wgsl's and block.wgsl's `weightGrad`) reduce over the rows
// of the output gradient: each invocation sums one chunk of rows into a partial, and the partials
// are summed afterwards; the GEMM kernels split K the same way. One chunking rule and one final sum
// for all.
import type { Context } from '../../device/context.js';
import type { Tensor } from '../../core/tensor.js';
import { sum } from '../reduce.js';

/**
 * Rows per chunk for `tiles` tiles of a gradient of `size` values: as many chunks as give about
 * `invocations` invocations (enough to keep every core busy; more only adds partial sums), within a
 * quarter of one storage binding for the partials.
 */
export function chunking(
  ctx: Context,
  rows: number,
  size: number,
  tiles: number,
  invocations: number,
): { chunkRows: number; chunks: number } {
  const maxChunks = Math.max(1, Math.floor(ctx.limits.maxStorageBufferBindingSize / 4 / (4 * size)));
  const chunkRows = Math.max(1, Math.ceil(rows / Math.min(maxChunks, Math.ceil(invocations / tiles))));
  return { chunkRows, chunks: Math.max(1, Math.ceil(rows / chunkRows)) };
}

/** The gradient of `shape` from its [chunks, size] partials (which this frees). */
export function sumChunks(partial: Tensor, shape: readonly number[]): Tensor {
  const summed = partial.shape[0] === 1 ? partial : sum(partial, 0);
  const grad = summed.withShape(shape);
  partial.dispose();
  summed.dispose();
  return grad;
}
