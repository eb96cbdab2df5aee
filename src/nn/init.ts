// Weight initialisation as in the original V-Net (Caffe's "msra" filler with
// variance_norm: AVERAGE): normal with std = sqrt(2 / ((fanIn + fanOut) / 2)).
import { randn } from '../ops/creation.js';
import type { Shape, Tensor } from '../core/tensor.js';
import { shapeSize } from '../core/shape.js';

/**
 * For conv weights [out, in, k...] fanIn = in·k³ and fanOut = out·k³ (Caffe: count/num and
 * count/channels); a transposed conv's [in, out, k...] layout swaps the roles, which the
 * average makes irrelevant.
 */
export function msraAverage(shape: Shape, seed?: number): Tensor {
  const receptive = shapeSize(shape.slice(2));
  const fanIn = shape[1]! * receptive;
  const fanOut = shape[0]! * receptive;
  return randn(shape, { std: Math.sqrt(4 / (fanIn + fanOut)), seed });
}
