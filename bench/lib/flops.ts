// FLOP and byte models. FLOPs count a multiply-add as 2 and count every tap of a padded convolution
// (the dense convention PyTorch profilers and papers use), so GFLOP/s compare across libraries.
// Bytes follow one model everywhere: each input tensor read once + each output written once, 4 B a
// value; what a kernel re-reads from cache or memory beyond that is its own inefficiency.

export type Dims3 = readonly [number, number, number];

export const vox = (s: Dims3): number => s[0] * s[1] * s[2];

export const fmtDims = (s: Dims3): string => s.join('×');

/**
 * Multiply-adds ×2 of a (transposed) convolution: one MAC per (output voxel of the direct conv,
 * output channel, input channel, tap). The two backward kernels have exactly the same MAC count
 * as the forward: each forward MAC contributes one MAC to dx and one to dw.
 */
export function convFlops(n: number, cin: number, cout: number, directOut: Dims3, k: number): number {
  return 2 * n * cin * cout * vox(directOut) * k ** 3;
}

export const bytesOf = (...sizes: number[]): number => 4 * sizes.reduce((a, b) => a + b, 0);

export interface VNetShape {
  inChannels: number;
  numClasses: number;
  baseChannels: number;
  encoderConvs: readonly number[];
  decoderConvs: readonly number[];
  kernelSize: number;
}

/**
 * Forward FLOPs of V-Net (src/nn/vnet.ts, 'conv5' head) on an input of `size`, convolutions only
 * (PReLU, adds, concat and softmax are < 1% of them). A training step is counted as 3× this:
 * forward + input gradient + weight gradient (the first conv's input gradient, which the step
 * skips, is under 1% of the total).
 */
export function vnetForwardFlops(c: VNetShape, size: Dims3, n = 1): number {
  const k = c.kernelSize;
  const width = (l: number) => c.baseChannels * 2 ** l;
  const at = (l: number): Dims3 => [size[0] >> l, size[1] >> l, size[2] >> l];
  const levels = c.encoderConvs.length;
  let f = 0;
  c.encoderConvs.forEach((convs, l) => {
    for (let i = 0; i < convs; i++) f += convFlops(n, i === 0 && l === 0 ? c.inChannels : width(l), width(l), at(l), k);
    if (l < levels - 1) f += convFlops(n, width(l), width(l + 1), at(l + 1), 2);
  });
  c.decoderConvs.forEach((convs, i) => {
    const l = levels - 2 - i;
    const below = i === 0 ? width(levels - 1) : 2 * width(l + 1);
    f += convFlops(n, below, width(l), at(l + 1), 2); // transposed: one MAC per input voxel and tap
    for (let j = 0; j < convs; j++) f += convFlops(n, 2 * width(l), 2 * width(l), at(l), k);
  });
  f += convFlops(n, 2 * width(0), c.numClasses, at(0), k); // head
  f += convFlops(n, c.numClasses, c.numClasses, at(0), 1); // classifier
  return f;
}
