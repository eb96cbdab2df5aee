// The implicit-GEMM family (kernels/conv/gemm.wgsl), for hardware adapters: every conv pass as a
// matrix product tiled in workgroup memory. Forward and transposed passes are M = output voxels
// (batch included) × N = output channels × K = source channels · taps; the transposed pass with the
// stride equal to the kernel scatters each source voxel onto its block instead (M = source voxels,
// N = output channels · taps, K = source channels); the weight gradient is M = lhs channels ×
// N = src channels · taps × K = lhs voxels. Where the output tiles alone would leave the GPU idle
// (deep stages: few voxels, many channels), K is split over workgroups and the partial sums added
// by a second pass in a fixed order: deterministic, no atomics. (The mixed precision has its own
// family, laid out for tensor cores: tensor-core.ts.)
import { getContext, type Context } from '../../device/context.js';
import { kernelConstant, workgroupArrays } from '../../device/kernel-info.js';
import { empty, type Tensor } from '../../core/tensor.js';
import { zeros } from '../creation.js';
import {
  outChannels,
  outShape,
  type ConvFamily,
  type ConvolvePass,
  type ConvPass,
  type ConvVariant,
  type WeightGradPass,
} from './family.js';
import { chunking, sumChunks } from './grad-chunks.js';
import { checkBindable, gemmConstants, isBlockGeometry, offsets4, size4, type ConvGeometry } from './shape.js';
import { shapeSize } from '../../core/shape.js';

/**
 * A tile of the GEMM kernel: WM × WN invocations, each accumulating TM × TN outputs, so a workgroup
 * covers BM = WM·TM by BN = WN·TN; BK is the K slice staged per step.
 */
export interface GemmTile extends ConvVariant {
  readonly family: 'gemm';
  readonly TM: number;
  readonly TN: number;
  readonly WM: number;
  readonly WN: number;
  readonly BK: number;
}

export const gemmTile = (TM: number, TN: number, WM: number, WN: number, BK: number): GemmTile => ({
  name: `gemm${WM * TM}x${WN * TN}.t${TM}x${TN}.k${BK}`,
  family: 'gemm',
  TM,
  TN,
  WM,
  WN,
  BK,
});

/** Scalars of the kernel's workgroup arrays As, Bs: f32 tiles padded by 4 floats a row. */
const shared = workgroupArrays('conv/gemm');

/** Why the kernel cannot run tile t for a weight gradient (operands staged along k) or another pass (along m and n), or null. */
function tileProblem(t: GemmTile, weightGrad: boolean): string | null {
  const { TM, TN, WM, WN, BK } = t;
  const WGS = WM * WN;
  const [BM, BN] = [WM * TM, WN * TN];
  if (![4, 8].includes(TM) || ![4, 8].includes(TN)) return 'must have TM and TN of 4 or 8';
  if (!Number.isInteger(WM) || !Number.isInteger(WN) || WM < 1 || WN < 1 || WGS > 256) return 'must have at most 256 invocations';
  if (!Number.isInteger(BK) || BK < 1 || WGS % BK !== 0) return 'must have BK dividing the invocations';
  // Each invocation stages whole columns: a divisor of the invocations wide, or up to MAXREPS columns.
  const reps = kernelConstant('conv/gemm', 'MAXREPS');
  const staged = (cols: number): boolean => WGS % cols === 0 || (cols % WGS === 0 && cols <= reps * WGS);
  if (!weightGrad && (!staged(BM) || !staged(BN))) return `must have BM and BN dividing the invocations, or up to ${reps} times as many`;
  if (BK * (BM + 4) > shared.As! || BK * (BN + 4) > shared.Bs!) return 'must fit the workgroup arrays';
  return null;
}

/** The kernel's loaders and register arrays hold only some tiles; any other would be silently wrong. */
export function checkGemmTile(op: string, t: GemmTile, weightGrad: boolean): void {
  const problem = tileProblem(t, weightGrad);
  if (problem) throw new Error(`${op}: GEMM tile ${t.name} ${problem}${weightGrad ? ' (weight gradient)' : ''}`);
}

/** Whether the kernel runs tile t for this pass. */
export const gemmRuns = (t: GemmTile, weightGrad: boolean): boolean => tileProblem(t, weightGrad) === null;

/** The f32 tiles, by size (BM × BN), and where two share a size, by invocation tile. */
const f32Tiles = {
  t128x64: gemmTile(8, 4, 16, 16, 16),
  t128x128: gemmTile(8, 8, 16, 16, 8),
  t64x64: gemmTile(4, 4, 16, 16, 16),
  t128x32: gemmTile(4, 4, 32, 8, 16),
  t128x16: gemmTile(4, 4, 32, 4, 16),
  t32x32: gemmTile(4, 4, 8, 8, 16),
  t16x128: gemmTile(4, 8, 4, 16, 8),
  t32x128: gemmTile(4, 8, 8, 16, 8),
  t64x128: gemmTile(4, 8, 16, 16, 8),
} as const;

/**
 * The tiles autotune tries on hardware adapters, default first per shape (see gemmDefault): the
 * 32×32 / 4×4 tile TF.js and ONNX Runtime use, and wider ones that reuse each staged value more.
 */
export const gemmTiles: readonly GemmTile[] = Object.values(f32Tiles);

/**
 * The untuned choice (the browser demo never tunes), from autotune's winners on an H200 (see
 * BENCHMARKS.md): a tile as wide as N needs (16, 32, 64 or 128 columns), 128 rows tall; 64 × 64
 * where K is short (the 2³/2 and 1³ convolutions: bigger tiles leave too few workgroups); weight
 * gradients, with few rows (channels) and very long K, flat 32 × 128 tiles up to 32 channels.
 */
export function gemmDefault(s: GemmShape, weightGrad: boolean): GemmTile {
  const { M, N, K } = s;
  const t = f32Tiles;
  if (weightGrad) return M <= 32 ? t.t32x128 : M <= 64 ? t.t64x64 : t.t128x64;
  if (M <= 32) return t.t32x32;
  if (N <= 16) return t.t128x16;
  if (N <= 32) return t.t128x32;
  if (K <= 1024) return t.t64x64;
  return N <= 64 ? t.t128x64 : t.t128x128;
}

const pow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/**
 * The GEMM tiles worth timing for a shape: its default, then up to three more that the shape fills
 * (a tile over twice the rounded-up M or N mostly computes padding).
 */
export function gemmCandidates(s: GemmShape, weightGrad: boolean): GemmTile[] {
  const first = gemmDefault(s, weightGrad);
  const fits = (t: GemmTile): boolean =>
    t !== first && gemmRuns(t, weightGrad) && t.WM * t.TM <= 2 * pow2(s.M) && t.WN * t.TN <= 2 * pow2(s.N);
  return [first, ...gemmTiles.filter(fits).slice(0, 3)];
}

/** Workgroups that keep a large GPU busy; fewer output tiles than this split K. */
const targetWorkgroups = 512;

/** The GEMM sizes of a pass: what the tuner keys on and the default tile is chosen from. */
export interface GemmShape {
  M: number;
  N: number;
  K: number;
}

/** The GEMM of a pass (see the file header). */
export function gemmShape(p: ConvPass): GemmShape {
  const taps = shapeSize(p.geometry.kernel);
  if (p.kind === 'weightGrad')
    return { M: p.lhs.shape[1]!, N: p.src.shape[1]! * taps, K: p.lhs.shape[0]! * shapeSize(p.lhs.shape.slice(2)) };
  const [N, C] = [p.src.shape[0]!, p.src.shape[1]!];
  if (scatters(p)) return { M: N * shapeSize(p.src.shape.slice(2)), N: outChannels(p) * taps, K: C };
  return { M: N * shapeSize(p.outSpatial), N: outChannels(p), K: C * taps };
}

/** The transposed pass with the stride equal to the kernel scatters each source voxel onto its block. */
const scatters = (p: ConvolvePass): boolean => p.transposed && isBlockGeometry(p.geometry);

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

/** One dispatch of the GEMM kernel: a pass's entry point, tile, GEMM, tensors and its own parameters (its struct in gemm-core.wgsl, after
 * the Gemm sizes this fills). */
interface GemmDispatch {
  op: string;
  entry: 'forward' | 'transposed' | 'scatter' | 'weightGrad';
  tile: GemmTile;
  shape: GemmShape;
  grid: Grid;
  geometry: ConvGeometry;
  bindings: Record<string, Tensor | null>;
  params: Record<string, number | readonly number[]>;
  bias: boolean;
}

function dispatchGemm(ctx: Context, d: GemmDispatch): void {
  const { tile: t, shape: s, grid: gr, geometry: g } = d;
  const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
  const y = Math.ceil(gr.mTiles / maxDim);
  const x = Math.ceil(gr.mTiles / y);
  ctx.dispatch({
    op: d.op,
    kernel: 'conv/gemm',
    entry: d.entry,
    bindings: d.bindings,
    params: { M: s.M, N: s.N, K: s.K, kChunk: gr.kChunk, mTilesX: x, nTiles: gr.nTiles, ...d.params },
    constants: {
      TM: t.TM,
      TN: t.TN,
      WM: t.WM,
      WN: t.WN,
      WGS: t.WM * t.WN,
      BK: t.BK,
      ...gemmConstants(g),
      BIAS: d.bias ? 1 : 0,
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
    invocations: total,
  });
  return packed;
}

/** A convolve pass as a GEMM (see the file header). */
function gemmConvolve(p: ConvolvePass, t: GemmTile): Tensor {
  const { op, src, weight, bias, outSpatial, geometry: g, transposed } = p;
  checkGemmTile(op, t, false);
  const ctx = getContext();
  const C = src.shape[1]!;
  const J = outChannels(p);
  const shape = outShape(p);
  checkBindable(op, 'output', shape);
  const s = gemmShape(p);
  const srcSpatial = src.shape.slice(2);
  const common = { op, tile: t, shape: s, geometry: g, bias: !!bias };
  if (scatters(p)) {
    const covered = srcSpatial.every((d, i) => d * g.kernel[i]! === outSpatial[i]);
    const out = covered ? empty(shape) : zeros(shape);
    const gr = { mTiles: Math.ceil(s.M / (t.WM * t.TM)), nTiles: Math.ceil(s.N / (t.WN * t.TN)), chunks: 1, kChunk: s.K };
    const params = { chunkSize: 0, channels: C, outChannels: J, srcSize: size4(srcSpatial), outSize: size4(outSpatial) };
    dispatchGemm(ctx, { ...common, entry: 'scatter', grid: gr, bindings: { src, weight, packed: weight, bias, out }, params });
    return out;
  }
  const size = shapeSize(shape);
  const gr = grid(ctx, s, t, size);
  const packed = repack(ctx, op, weight, C, J, shapeSize(g.kernel), transposed);
  const out = empty(gr.chunks > 1 ? [gr.chunks, size] : shape);
  const params = { chunkSize: size, channels: C, srcSize: size4(srcSpatial), outSize: size4(outSpatial), ...offsets4(g) };
  dispatchGemm(ctx, {
    ...common,
    entry: transposed ? 'transposed' : 'forward',
    grid: gr,
    bindings: { src, packed, weight, bias, out },
    params,
  });
  packed.dispose();
  return gr.chunks > 1 ? sumChunks(out, shape) : out;
}

/** A weight-gradient pass as a GEMM, summed over K chunks. */
function gemmWeightGrad(p: WeightGradPass, t: GemmTile): Tensor {
  const { op, lhs, src, geometry: g } = p;
  checkGemmTile(op, t, true);
  const ctx = getContext();
  const [A, B] = [lhs.shape[1]!, src.shape[1]!];
  const s = gemmShape(p);
  const size = s.M * s.N;
  const gr = grid(ctx, s, t, size);
  const partial = empty([gr.chunks, size]);
  const params = {
    chunkSize: size,
    srcChannels: B,
    srcSize: size4(src.shape.slice(2)),
    lhsSize: size4(lhs.shape.slice(2)),
    ...offsets4(g),
  };
  dispatchGemm(ctx, {
    op,
    entry: 'weightGrad',
    tile: t,
    shape: s,
    grid: gr,
    geometry: g,
    bindings: { lhs, src, out: partial },
    params,
    bias: false,
  });
  return sumChunks(partial, [A, B, ...g.kernel]);
}

const run = (p: ConvPass, t: GemmTile): Tensor => (p.kind === 'convolve' ? gemmConvolve(p, t) : gemmWeightGrad(p, t));

/** The hardware adapters' family: the implicit GEMM in workgroup memory, f32 FMAs. */
export const gemmFamily: ConvFamily<GemmTile> = {
  name: 'gemm',
  applies: () => true,
  default: (p) => gemmDefault(gemmShape(p), p.kind === 'weightGrad'),
  candidates: (p) => gemmCandidates(gemmShape(p), p.kind === 'weightGrad'),
  run,
};
