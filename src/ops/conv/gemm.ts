// The implicit-GEMM family (kernels/conv/gemm.wgsl), for hardware adapters: every conv pass as a
// matrix product tiled in workgroup memory. Forward and transposed passes are M = output voxels
// (batch included) × N = output channels × K = source channels · taps; the transposed pass with the
// stride equal to the kernel scatters each source voxel onto its block instead (M = source voxels,
// N = output channels · taps, K = source channels); the weight gradient is M = lhs channels ×
// N = src channels · taps × K = lhs voxels. Where the output tiles alone would leave the GPU idle
// (deep stages: few voxels, many channels), K is split over workgroups and the partial sums added
// by a second pass in a fixed order: deterministic, no atomics. In the mixed precision the same core
// takes its inner product on tensor cores (kernels/conv/gemm-mma.wgsl: f16 operands, f32 sums).
import { getContext, type Context } from '../../device/context.js';
import { empty, type Tensor } from '../../tensor.js';
import type { Variant } from '../../tuning/tuner.js';
import { zeros } from '../creation.js';
import { chunking, sumChunks } from './grad-chunks.js';
import { checkBindable, isBlockGeometry, type ConvGeometry } from './shape.js';
import { shapeSize } from '../../shape.js';

/**
 * A tile of the GEMM kernels: WM × WN invocations, each accumulating TM × TN outputs (on tensor
 * cores: each writing them out), so a workgroup covers BM = WM·TM by BN = WN·TN; BK is the K slice
 * staged per step.
 */
export interface GemmTile extends Variant {
  family: 'gemm';
  /** f16 subgroup-matrix products on tensor cores (kernel conv/gemm-mma) instead of f32 FMAs. */
  mma: boolean;
  TM: number;
  TN: number;
  WM: number;
  WN: number;
  BK: number;
}

export const gemmTile = (TM: number, TN: number, WM: number, WN: number, BK: number, mma = false): GemmTile => ({
  name: `${mma ? 'mma' : 'gemm'}${WM * TM}x${WN * TN}.t${TM}x${TN}.k${BK}`,
  family: 'gemm',
  mma,
  TM,
  TN,
  WM,
  WN,
  BK,
});

/** Elements of the kernels' workgroup arrays (f32 tiles padded by 4 floats a row; f16 tiles and f32 results unpadded). */
const sharedFloats = { A: 2112, B: 1984 };
const mmaShared = { A: 2048, B: 2048, C: 4096 };

/** Why the kernel cannot run tile t for a weight gradient (operands staged along k) or another pass (along m and n), or null. */
function tileProblem(t: GemmTile, weightGrad: boolean): string | null {
  const { TM, TN, WM, WN, BK } = t;
  const WGS = WM * WN;
  const [BM, BN] = [WM * TM, WN * TN];
  if (![4, 8].includes(TM) || ![4, 8].includes(TN)) return 'must have TM and TN of 4 or 8';
  if (t.mma) {
    const subgroups = WGS / 32;
    const matrices = (BM / 16) * (BN / 16);
    if (!Number.isInteger(subgroups)) return 'must have a multiple of 32 invocations (whole subgroups)';
    if (BM % 16 || BN % 16 || BK % 16) return 'must have BM, BN and BK multiples of 16 (the subgroup matrices)';
    if (matrices % subgroups || matrices / subgroups > 8) return 'must give each subgroup the same number of 16×16 result matrices, at most 8';
    if (BM * BK > mmaShared.A || BN * BK > mmaShared.B || BM * BN > mmaShared.C) return 'must fit the workgroup arrays';
  }
  if (!Number.isInteger(WM) || !Number.isInteger(WN) || WM < 1 || WN < 1 || WGS > 256) return 'must have at most 256 invocations';
  if (!Number.isInteger(BK) || BK < 1 || WGS % BK !== 0) return 'must have BK dividing the invocations';
  // Each invocation stages whole columns: a divisor of the invocations wide, or up to 4 columns.
  const staged = (cols: number): boolean => WGS % cols === 0 || (cols % WGS === 0 && cols <= 4 * WGS);
  if (!weightGrad && (!staged(BM) || !staged(BN))) return 'must have BM and BN dividing the invocations, or up to 4 times as many';
  if (!t.mma && (BK * (BM + 4) > sharedFloats.A || BK * (BN + 4) > sharedFloats.B)) return 'must fit the workgroup arrays';
  return null;
}

/** The kernel's loaders and register arrays hold only some tiles; any other would be silently wrong. */
export function checkGemmTile(op: string, t: GemmTile, weightGrad: boolean): void {
  const problem = tileProblem(t, weightGrad);
  if (problem) throw new Error(`${op}: GEMM tile ${t.name} ${problem}${weightGrad ? ' (weight gradient)' : ''}`);
}

/** Whether the kernel runs tile t for this pass. */
export const gemmRuns = (t: GemmTile, weightGrad: boolean): boolean => tileProblem(t, weightGrad) === null;

/**
 * The tiles autotune tries on hardware adapters, default first per shape (see gemmDefault): the
 * 32×32 / 4×4 tile TF.js and ONNX Runtime use, and wider ones that reuse each staged value more.
 */
export const gemmTiles: readonly GemmTile[] = [
  gemmTile(8, 4, 16, 16, 16), // 128 × 64
  gemmTile(8, 8, 16, 16, 8), // 128 × 128
  gemmTile(4, 4, 16, 16, 16), // 64 × 64
  gemmTile(4, 4, 32, 8, 16), // 128 × 32
  gemmTile(4, 4, 32, 4, 16), // 128 × 16
  gemmTile(4, 4, 8, 8, 16), // 32 × 32
  gemmTile(4, 8, 4, 16, 8), // 16 × 128
  gemmTile(4, 8, 8, 16, 8), // 32 × 128
  gemmTile(4, 8, 16, 16, 8), // 64 × 128
];

/**
 * The tensor-core tiles (the mixed precision): whole subgroups of 32 invocations, each owning 2 to
 * 4 of the 16×16 result matrices, K in slices of 32 (16 where the A tile would not fit).
 */
export const mmaTiles: readonly GemmTile[] = [
  gemmTile(8, 4, 8, 16, 32, true), // 64 × 64, 4 subgroups
  gemmTile(4, 4, 16, 16, 32, true), // 64 × 64, 8 subgroups: half the loads per invocation
  gemmTile(4, 4, 32, 8, 16, true), // 128 × 32, 8 subgroups
  gemmTile(8, 4, 8, 8, 32, true), // 64 × 32, 2 subgroups
  gemmTile(4, 8, 8, 8, 32, true), // 32 × 64, 2 subgroups
  gemmTile(4, 4, 16, 4, 32, true), // 64 × 16, 2 subgroups
  gemmTile(4, 4, 4, 16, 32, true), // 16 × 64, 2 subgroups
];

const byName = new Map([...gemmTiles, ...mmaTiles].map((t) => [t.name, t]));
const tile = (name: string): GemmTile => byName.get(name)!;

/**
 * The untuned choice (the browser demo never tunes), from autotune's winners on an H200 (see
 * BENCHMARKS.md): a tile as wide as N needs (16, 32, 64 or 128 columns), 128 rows tall; 64 × 64
 * where K is short (the 2³/2 and 1³ convolutions: bigger tiles leave too few workgroups); weight
 * gradients, with few rows (channels) and very long K, flat 32 × 128 tiles up to 32 channels.
 */
export function gemmDefault(s: GemmShape, weightGrad: boolean, mma = false): GemmTile {
  const { M, N, K } = s;
  if (mma) return mmaDefault(s, weightGrad);
  if (weightGrad) return tile(M <= 32 ? 'gemm32x128.t4x8.k8' : M <= 64 ? 'gemm64x64.t4x4.k16' : 'gemm128x64.t8x4.k16');
  if (M <= 32) return tile('gemm32x32.t4x4.k16');
  if (N <= 16) return tile('gemm128x16.t4x4.k16');
  if (N <= 32) return tile('gemm128x32.t4x4.k16');
  if (K <= 1024) return tile('gemm64x64.t4x4.k16');
  return tile(N <= 64 ? 'gemm128x64.t8x4.k16' : 'gemm128x128.t8x8.k8');
}

/**
 * The tensor-core default, from autotune's winners on an H200: 8 subgroups a workgroup (their
 * operand loads, not the tensor cores, bound these kernels), 128 × 32 tiles up to 32 output
 * channels (1.8–2.3× over 64 × 32 with 2 subgroups) and 64 × 64 beyond (1.2–1.4×); weight gradients
 * of few channels take flat tiles.
 */
function mmaDefault({ M, N }: GemmShape, weightGrad: boolean): GemmTile {
  if (weightGrad && M <= 16) return tile('mma16x64.t4x4.k32');
  if (weightGrad && M <= 32) return tile('mma64x64.t4x4.k32');
  if (weightGrad) return tile('mma64x64.t8x4.k32');
  return tile(N <= 32 ? 'mma128x32.t4x4.k16' : 'mma64x64.t4x4.k32');
}

/** Workgroups that keep a large GPU busy; fewer output tiles than this split K. */
const targetWorkgroups = 512;

/** The GEMM sizes of a pass: what the tuner keys on and the default tile is chosen from. */
export interface GemmShape {
  M: number;
  N: number;
  K: number;
}

/** The GEMM of a convolve pass (see the file header). */
export function convolveGemm(src: readonly number[], outChannels: number, outSpatial: readonly number[], g: ConvGeometry, transposed: boolean): GemmShape {
  const [N, C] = [src[0]!, src[1]!];
  const taps = shapeSize(g.kernel);
  if (transposed && isBlockGeometry(g)) return { M: N * shapeSize(src.slice(2)), N: outChannels * taps, K: C };
  return { M: N * shapeSize(outSpatial), N: outChannels, K: C * taps };
}

/** The GEMM of a weight gradient (see the file header). */
export function weightGradGemm(lhs: readonly number[], src: readonly number[], g: ConvGeometry): GemmShape {
  return { M: lhs[1]!, N: src[1]! * shapeSize(g.kernel), K: lhs[0]! * shapeSize(lhs.slice(2)) };
}

interface Grid {
  mTiles: number;
  nTiles: number;
  chunks: number;
  kChunk: number;
}

/** Output tiles, and K chunks where the tiles alone would leave the GPU idle. */
function grid(ctx: Context, s: GemmShape, t: GemmTile, outSize: number): Grid {
  const mTiles = Math.ceil(s.M / (t.WM * t.TM));
  const nTiles = Math.ceil(s.N / (t.WN * t.TN));
  const steps = Math.ceil(s.K / t.BK);
  const { chunkRows, chunks } = chunking(ctx, steps, outSize, mTiles * nTiles, targetWorkgroups);
  return { mTiles, nTiles, chunks, kChunk: chunkRows * t.BK };
}

const vec4 = (v: readonly number[], last = 0): number[] => [v[0]!, v[1]!, v[2]!, last];

function dispatchGemm(
  ctx: Context,
  op: string,
  entry: string,
  t: GemmTile,
  s: GemmShape,
  gr: Grid,
  g: ConvGeometry,
  bindings: Record<string, Tensor>,
  sizes: { channels: number; outChannels: number; src: readonly number[]; out: readonly number[]; chunkSize: number },
  bias: boolean,
): void {
  const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
  const y = Math.ceil(gr.mTiles / maxDim);
  const x = Math.ceil(gr.mTiles / y);
  ctx.dispatch({
    op,
    kernel: t.mma ? 'conv/gemm-mma' : 'conv/gemm',
    entry,
    bindings,
    params: {
      M: s.M,
      N: s.N,
      K: s.K,
      kChunk: gr.kChunk,
      channels: sizes.channels,
      outChannels: sizes.outChannels,
      chunkSize: sizes.chunkSize,
      mTilesX: x,
      nTiles: gr.nTiles,
      srcSize: vec4(sizes.src, shapeSize(sizes.src)),
      outSize: vec4(sizes.out, shapeSize(sizes.out)),
      padding: vec4(g.padding),
      dilation: vec4(g.dilation),
    },
    constants: {
      TM: t.TM,
      TN: t.TN,
      WM: t.WM,
      WN: t.WN,
      WGS: t.WM * t.WN,
      BK: t.BK,
      KD: g.kernel[0],
      KH: g.kernel[1],
      KW: g.kernel[2],
      SD: g.stride[0],
      SH: g.stride[1],
      SW: g.stride[2],
      BIAS: bias ? 1 : 0,
    },
    workgroups: [x, y, gr.nTiles * gr.chunks],
  });
}

/** The weights as the [K][N] matrix B of a forward or transposed pass. */
function repack(ctx: Context, op: string, weight: Tensor, C: number, J: number, taps: number, transposed: boolean): Tensor {
  const total = C * taps * J;
  const packed = empty([total]);
  ctx.dispatch({
    op,
    kernel: 'conv/gemm',
    entry: 'repack',
    bindings: { weight, packedOut: packed },
    params: { total, N: J, taps, strideC: transposed ? J * taps : taps, strideN: transposed ? taps : C * taps },
    workgroups: ctx.grid(total, 64),
  });
  return packed;
}

/**
 * convolve() on the GEMM family: out [N, Cout, ...outSpatial] from src [N, Cin, ...], weight in
 * conv3d's layout forward and convTranspose3d's transposed (see conv3d.ts).
 */
export function gemmConvolve(op: string, src: Tensor, weight: Tensor, bias: Tensor | null, outSpatial: readonly number[], g: ConvGeometry, transposed: boolean, t: GemmTile): Tensor {
  checkGemmTile(op, t, false);
  const ctx = getContext();
  const [N, C] = [src.shape[0]!, src.shape[1]!];
  const J = weight.shape[transposed ? 1 : 0]!;
  const outShape = [N, J, ...outSpatial];
  checkBindable(op, 'output', outShape);
  const s = convolveGemm(src.shape, J, outSpatial, g, transposed);
  const srcSpatial = src.shape.slice(2);
  if (transposed && isBlockGeometry(g)) {
    const covered = srcSpatial.every((d, i) => d * g.kernel[i]! === outSpatial[i]);
    const out = covered ? empty(outShape) : zeros(outShape);
    const gr = { mTiles: Math.ceil(s.M / (t.WM * t.TM)), nTiles: Math.ceil(s.N / (t.WN * t.TN)), chunks: 1, kChunk: s.K };
    dispatchGemm(ctx, op, 'scatter', t, s, gr, g, { src, weight, packed: weight, bias: bias ?? weight, out }, { channels: C, outChannels: J, src: srcSpatial, out: outSpatial, chunkSize: 0 }, !!bias);
    return out;
  }
  const size = shapeSize(outShape);
  const gr = grid(ctx, s, t, size);
  const packed = repack(ctx, op, weight, C, J, shapeSize(g.kernel), transposed);
  const out = empty(gr.chunks > 1 ? [gr.chunks, size] : outShape);
  dispatchGemm(
    ctx,
    op,
    transposed ? 'transposed' : 'forward',
    t,
    s,
    gr,
    g,
    { src, packed, weight, bias: bias ?? packed, out },
    { channels: C, outChannels: J, src: srcSpatial, out: outSpatial, chunkSize: size },
    !!bias,
  );
  packed.dispose();
  return gr.chunks > 1 ? sumChunks(out, outShape) : out;
}

/**
 * weightGrad() on the GEMM family: grad[a, b, k] = Σ_{n, o} lhs[n, a, o] · src[n, b, o·stride −
 * padding + k·dilation], summed over K chunks.
 */
export function gemmWeightGrad(op: string, lhs: Tensor, src: Tensor, g: ConvGeometry, t: GemmTile): Tensor {
  checkGemmTile(op, t, true);
  const ctx = getContext();
  const [A, B] = [lhs.shape[1]!, src.shape[1]!];
  const s = weightGradGemm(lhs.shape, src.shape, g);
  const size = s.M * s.N;
  const gr = grid(ctx, s, t, size);
  const partial = empty([gr.chunks, size]);
  dispatchGemm(ctx, op, 'weightGrad', t, s, gr, g, { lhs, src, out: partial }, { channels: B, outChannels: A, src: src.shape.slice(2), out: lhs.shape.slice(2), chunkSize: size }, false);
  return sumChunks(partial, [A, B, ...g.kernel]);
}
