// The tensor-core family (kernels/conv/mma.wgsl): the mixed precision's convolution as an implicit
// GEMM laid out for tensor cores. Before the GEMM, a memory-bound pass copies the source to f16
// channels-last (channels padded to 8) and another repacks the weights to f16 [N][K], K ordered
// (kd, kh, kw, c); the GEMM then gathers 16-byte vectors, stages them twice-buffered in padded
// workgroup rows (B, in `direct` tiles, is read as fragments straight from storage instead) and
// multiplies 16×16×16 fragments, each subgroup reusing its FM A and FN B fragments across an
// FM × FN block of results. It runs every pass: the forward (any stride); the transposed passes
// (conv3d's input gradient, convTranspose3d's forward) as one forward GEMM per output phase
// (phases.ts: voxels ≡ r mod stride, each a stride-1 conv on the taps that reach it, in↔out-swapped;
// stride 1 is one phase, the whole kernel flipped), its rows written to every stride-th voxel; and
// every weight gradient (lhs copied to f16 [channel][sample, voxel] as B, the taps and source
// channels as M). Phases rather than one GEMM over all taps with a divisibility test per gathered
// element: the inner loop stays the forward's, and a stride-2 pass does 1/8 of the multiplies.
// A convolve pass may end in PReLU (+ residual) fused into its output writes (runPrelu, for
// conv3dPrelu: V-Net's residual stages), where K is not split.
// On a device without subgroup matrices the same kernel runs emulated (parts/mma-emulated.wgsl):
// for tests only, never chosen (the family applies only in the mixed precision).
import { getContext, type Context } from '../../device/context.js';
import { kernelConstant, workgroupBytes } from '../../device/kernel-info.js';
import { shapeSize } from '../../core/shape.js';
import { empty, type Tensor } from '../../core/tensor.js';
import {
  outChannels,
  outShape,
  type ConvFamily,
  type ConvPass,
  type ConvVariant,
  type ConvolvePass,
  type PreluEpilogue,
  type PreluResult,
  type WeightGradPass,
  preluAfter,
} from './family.js';
import { chunking, sumChunks } from './grad-chunks.js';
import { forwardPhase, transposedPhases, type Phase } from './phases.js';
import { checkBindable, gemmGeometry, type ConvGeometry } from './shape.js';

/**
 * A tile: SG_M × SG_N subgroups of 32 invocations, each owning FM × FN fragments of 16 × 16 results;
 * B staged in workgroup memory, or (direct) its fragments loaded straight from storage.
 */
export interface TensorCoreTile extends ConvVariant {
  family: 'tensor-core';
  FM: number;
  FN: number;
  SG_M: number;
  SG_N: number;
  direct: boolean;
}

export const tensorCoreTile = (FM: number, FN: number, SG_M: number, SG_N: number, direct = false): TensorCoreTile => ({
  name: `tc${16 * FM * SG_M}x${16 * FN * SG_N}.f${FM}x${FN}${direct ? '.bdirect' : ''}`,
  family: 'tensor-core',
  FM,
  FN,
  SG_M,
  SG_N,
  direct,
});

/** K per step, as kernels/conv/mma.wgsl states it (alike in every variant). */
const BK = kernelConstant('conv/mma-emulated-4-1-staged', 'BK');

/** The generated kernel that runs tile t (kernels/conv/mma.wgsl's variants), on tensor cores or emulated. */
const kernelOf = (t: TensorCoreTile, native: boolean): string =>
  `conv/mma-${native ? 'native' : 'emulated'}-${t.FM}-${t.FN}-${t.direct ? 'direct' : 'staged'}`;

/** The override constants of tile t's dispatches (the kernel derives its tile sizes from them). */
const tileConstants = (t: TensorCoreTile): Record<string, number> => ({ SG_M: t.SG_M, SG_N: t.SG_N, WGS: 32 * t.SG_M * t.SG_N });

/**
 * Bytes of workgroup memory tile t takes, on tensor cores or emulated (where a direct tile also keeps
 * each subgroup's B fragments), as its kernel's workgroup arrays state them.
 */
export const tensorCoreBytes = (t: TensorCoreTile, emulated = false): number => workgroupBytes(kernelOf(t, !emulated), tileConstants(t));

/** Why the kernel cannot run tile t on this context, or null. */
export function tileProblem(t: TensorCoreTile, ctx: Context): string | null {
  const WGS = 32 * t.SG_M * t.SG_N;
  const [BM, BN] = [16 * t.FM * t.SG_M, 16 * t.FN * t.SG_N];
  // The generated kernels (kernels/conv/mma.wgsl's @variants less its @skips).
  const generated = t.FM === 4 ? [1, 2, 4].includes(t.FN) : t.FM === 2 && [1, 2].includes(t.FN) && !t.direct;
  if (!generated) return 'must have 4 × 1, 4 × 2 or 4 × 4 fragments, or 2 × 1 or 2 × 2 with B staged (the generated kernels)';
  if (!Number.isInteger(t.SG_M) || !Number.isInteger(t.SG_N) || t.SG_M < 1 || t.SG_N < 1 || WGS > 256)
    return 'must have at most 8 subgroups';
  const loads = [(BM * 4) / WGS, (BN * 4) / WGS];
  if (loads.some((l) => !Number.isInteger(l) || l < 1 || l > 8))
    return 'must give each invocation 1 to 8 whole 16-byte loads of each operand a step';
  const bytes = tensorCoreBytes(t, ctx.precision !== 'mixed');
  const limit = ctx.limits.maxComputeWorkgroupStorageSize;
  if (bytes > limit) return `needs ${bytes} bytes of workgroup memory (the adapter's: ${limit})`;
  return null;
}

function checkTile(op: string, t: TensorCoreTile, ctx: Context): void {
  const problem = tileProblem(t, ctx);
  if (problem) throw new Error(`${op}: tensor-core tile ${t.name} ${problem}`);
}

/** The tiles, by size (BM × BN). */
const tiles = {
  t128x128: tensorCoreTile(4, 2, 2, 4), // 8 subgroups, 48 KiB
  t128x128f4: tensorCoreTile(4, 4, 2, 2), // 4 subgroups of 64 × 64 (ONNX Runtime's shape), 48 KiB
  t128x64: tensorCoreTile(4, 2, 2, 2), // 4 subgroups
  t128x32: tensorCoreTile(4, 1, 2, 2), // 4 subgroups
  t128x16: tensorCoreTile(4, 1, 2, 1), // 2 subgroups
  t64x64: tensorCoreTile(2, 2, 2, 2), // 4 subgroups
  t64x32: tensorCoreTile(2, 2, 2, 1), // 2 subgroups
  t64x16: tensorCoreTile(4, 1, 1, 1), // 1 subgroup
  t32x16: tensorCoreTile(2, 1, 1, 1), // 1 subgroup
  // B fragments straight from storage (ONNX Runtime's matmul reads A so): half the staging, and room for more workgroups.
  t128x128direct: tensorCoreTile(4, 4, 2, 2, true), // 4 subgroups
  t128x64direct: tensorCoreTile(4, 2, 2, 2, true), // 4 subgroups
  t128x32direct: tensorCoreTile(4, 1, 2, 2, true), // 4 subgroups
  t64x16direct: tensorCoreTile(4, 1, 1, 1, true), // 1 subgroup
} as const;

/**
 * The tiles autotune tries, widest reuse first: 128 rows, as many columns as N needs, 4 × 2 or
 * 4 × 1 fragments a subgroup (an A fragment reused over 2 columns, a B fragment over 4 rows), and
 * 64 × 64 with 2 × 2 where workgroup memory is short.
 */
export const tensorCoreTiles: readonly TensorCoreTile[] = Object.values(tiles);

/** Whether tile t runs here and suits N columns (a tile over twice as wide mostly computes padding). */
export const tensorCoreFits = (t: TensorCoreTile, N: number, ctx: Context): boolean =>
  tileProblem(t, ctx) === null && 16 * t.FN * t.SG_N <= 2 * Math.max(16, N);

/** N of the pass's GEMM: output channels, or the weight gradient's lhs channels. */
const gemmColumns = (p: ConvPass): number => (p.kind === 'convolve' ? outChannels(p) : p.lhs.shape[1]!);

/**
 * The untuned tile, from the 5³ stages on an H200 (BENCHMARKS.md): as many columns as N needs (16 to
 * 128) and 128 rows, but 32 × 16 for 16 columns (a 1-subgroup workgroup: 1.7× the 128-row one, the
 * many small workgroups hide the gathers' latency better); 64 × 64 where workgroup memory is short,
 * else 32 × 16 (the kernel's override defaults, the least workgroup memory: what init requires of an
 * adapter for the mixed precision, src/device/precision.ts).
 */
function defaultTile(p: ConvPass, ctx: Context): TensorCoreTile {
  const N = gemmColumns(p);
  const wanted = N <= 16 ? tiles.t32x16 : N <= 32 ? tiles.t128x32 : N <= 64 ? tiles.t128x64 : tiles.t128x128;
  return [wanted, tiles.t64x64].find((t) => tileProblem(t, ctx) === null) ?? tiles.t32x16;
}

/** Invocations that keep a large GPU busy (512 workgroups of 256); fewer output tiles than that take split K. */
const targetInvocations = 512 * 256;

/** packWeights' sub-kernel members, which the other layouts leave unread. */
const unusedSubKernel = { sub: [0, 0, 0, 0], kernel: [0, 0, 0, 0], tapFirst: [0, 0, 0, 0], tapStep: [0, 0, 0, 0] };

/** An f16 copy of x in one of conv/mma-layout's layouts, `halfs` long (a multiple of 8). */
function layout(
  ctx: Context,
  op: string,
  entry: 'channelsLast' | 'packWeights' | 'planar',
  x: Tensor,
  halfs: number,
  params: Record<string, number | readonly number[]>,
): Tensor {
  const packed = empty([halfs / 2]);
  const total = halfs / 8;
  const all = { total, C: 0, cp: 0, spatial: 0, K: 0, strideC: 0, strideN: 0, rows: 0, ...unusedSubKernel, ...params };
  ctx.dispatch({ op, kernel: 'conv/mma-layout', entry, bindings: { x, packed }, params: all, invocations: total });
  return packed;
}

/** Rows of B to allocate for N columns: N, or for a direct tile every row its last column tile loads. */
const rowsOf = (t: TensorCoreTile, N: number): number => (t.direct ? Math.ceil(N / (16 * t.FN * t.SG_N)) * 16 * t.FN * t.SG_N : N);

/** The source as f16 channels-last, channels padded to cp. */
function channelsLast(ctx: Context, op: string, src: Tensor, cp: number): Tensor {
  const voxels = shapeSize(src.shape.slice(2));
  checkBindable(op, 'f16 channels-last source', [(src.shape[0]! * voxels * cp) / 2]);
  return layout(ctx, op, 'channelsLast', src, src.shape[0]! * voxels * cp, { C: src.shape[1]!, cp, spatial: voxels });
}

/** Where the GEMM's rows land in each output plane (kernels/conv/mma.wgsl's rowShape, rowStep): by default in order. */
interface RowMap {
  plane: number;
  shape: readonly number[];
  step: readonly number[];
}

/** One GEMM of kernels/conv/mma.wgsl: its sizes, operands and output (one [chunks, ...] buffer where K is split). */
interface MmaGemm {
  op: string;
  entry: 'forward' | 'weightGrad';
  M: number;
  N: number;
  K: number;
  /** Output elements per K chunk. */
  size: number;
  cp: number;
  /** Output rows per group (forward: voxels per sample; weightGrad: M). */
  outRows: number;
  kValid: number;
  geometry: ConvGeometry;
  srcSpatial: readonly number[];
  outSpatial: readonly number[];
  bindings: { src: Tensor; wt: Tensor; bias: Tensor | null };
  rows?: RowMap;
  /** The fused PReLU epilogue (one K chunk), and where the PReLU's input is kept. */
  epilogue?: { e: PreluEpilogue; pre: Tensor | null };
}

/** How a GEMM's K is split: k per chunk, and the chunks of the output buffer. */
interface Split {
  kChunk: number;
  chunks: number;
}

/** Output tiles of a GEMM on tile t. */
const tilesOf = (t: TensorCoreTile, M: number, N: number): number =>
  Math.ceil(M / (16 * t.FM * t.SG_M)) * Math.ceil(N / (16 * t.FN * t.SG_N));

/** K chunks where `tiles` output tiles alone would leave the GPU idle, for the longest K of them. */
function splitOf(ctx: Context, t: TensorCoreTile, K: number, size: number, tiles: number): Split {
  const { chunkRows, chunks } = chunking(ctx, K / BK, size, tiles, targetInvocations / (32 * t.SG_M * t.SG_N));
  return { kChunk: chunkRows * BK, chunks };
}

/** Dispatches the GEMM into out ([split.chunks, size]). */
function dispatchGemm(ctx: Context, t: TensorCoreTile, d: MmaGemm, split: Split, out: Tensor): void {
  const geometry = gemmGeometry(d.geometry, d.srcSpatial, d.outSpatial);
  const [BM, BN] = [16 * t.FM * t.SG_M, 16 * t.FN * t.SG_N];
  const mTiles = Math.ceil(d.M / BM);
  const nTiles = Math.ceil(d.N / BN);
  const rows = d.rows ?? { plane: d.outRows, shape: [1, 1, d.outRows], step: [0, 0, 1, 0] };
  const ep = d.epilogue;
  const y = Math.ceil(mTiles / ctx.limits.maxComputeWorkgroupsPerDimension);
  const x = Math.ceil(mTiles / y);
  const native = ctx.precision === 'mixed';
  ctx.dispatch({
    op: d.op,
    kernel: kernelOf(t, native),
    entry: d.entry,
    bindings: {
      ...d.bindings,
      out,
      ...(t.direct ? { wt16: d.bindings.wt } : {}),
      alpha: ep?.e.alpha ?? null,
      residual: ep?.e.residual ?? null,
      pre: ep?.pre ?? null,
    },
    params: {
      M: d.M,
      N: d.N,
      K: d.K,
      kChunk: split.kChunk,
      cp: d.cp,
      mTilesX: x,
      nTiles,
      chunkSize: d.size,
      wholeRows: d.outRows % 16 === 0 && !d.rows ? 1 : 0,
      outRows: d.outRows,
      kValid: d.kValid,
      outPlane: rows.plane,
      rowShape: [...rows.shape, 0],
      rowStep: rows.step,
      ...geometry.params,
    },
    constants: {
      ...tileConstants(t),
      ...geometry.constants,
      BIAS: d.bindings.bias ? 1 : 0,
      PRELU: ep ? (ep.e.alpha.size === 1 ? 2 : 1) : 0,
      RESIDUAL: ep?.e.residual ? 1 : 0,
      KEEP_PRE: ep?.pre ? 1 : 0,
    },
    workgroups: [x, y, nTiles * split.chunks],
  });
}

/**
 * The weights as B of a phase ([N][K] f16, rows past J zero, all zero where no tap reaches it): its
 * sub-kernel's taps, read from weight [J][C][k] forward or [C][J][k] transposed.
 */
function packWeights(ctx: Context, p: ConvolvePass, t: TensorCoreTile, ph: Phase, cp: number, K: number): Tensor {
  const [C, J, taps] = [p.src.shape[1]!, outChannels(p), shapeSize(p.geometry.kernel)];
  return layout(ctx, p.op, 'packWeights', p.weight, rowsOf(t, J) * K, {
    C,
    cp,
    spatial: shapeSize(ph.geometry.kernel),
    K,
    rows: ph.reached ? J : 0,
    ...(p.transposed ? { strideC: J * taps, strideN: taps } : { strideC: taps, strideN: C * taps }),
    sub: [...ph.geometry.kernel, 0],
    kernel: [...p.geometry.kernel, 0],
    tapFirst: [...ph.tapFirst, 0],
    tapStep: [...ph.tapStep, 0],
  });
}

/**
 * A convolve pass: the forward as one GEMM, a transposed pass as one per output phase (phases.ts;
 * stride 1: one phase, outputs in place), each phase's rows landing on every stride-th output voxel,
 * all sharing one chunk count where K is split. With a PReLU epilogue (e), fused into the output
 * writes where K is not split (the PReLU's input written beside the output where kept), else applied
 * after the chunk sum.
 */
function tensorCoreConvolve(p: ConvolvePass, t: TensorCoreTile, e: PreluEpilogue | null = null): PreluResult {
  const { op, src, bias, outSpatial } = p;
  const ctx = getContext();
  checkTile(op, t, ctx);
  const J = outChannels(p);
  const shape = outShape(p);
  checkBindable(op, 'output', shape);
  const cp = Math.ceil(src.shape[1]! / 8) * 8;
  const size = shapeSize(shape);
  const phases = p.transposed ? transposedPhases(p.geometry, outSpatial) : [forwardPhase(p.geometry, outSpatial)];
  const Ks = phases.map((ph) => Math.ceil((shapeSize(ph.geometry.kernel) * cp) / BK) * BK);
  const Ms = phases.map((ph) => src.shape[0]! * shapeSize(ph.outSpatial));
  const allTiles = Ms.reduce((n, M) => n + tilesOf(t, M, J), 0);
  const split = splitOf(ctx, t, Math.max(...Ks), size, allTiles);
  const out = empty([split.chunks, size]);
  const fused = e !== null && split.chunks === 1;
  const pre = fused && e.keepInput ? empty(shape) : null;
  const xh = channelsLast(ctx, op, src, cp);
  const [D, H, W] = outSpatial as [number, number, number];
  const [sd, sh, sw] = p.geometry.stride;
  phases.forEach((ph, i) => {
    const K = Ks[i]!;
    const wh = packWeights(ctx, p, t, ph, cp, K);
    const origin = (ph.origin[0] * H + ph.origin[1]) * W + ph.origin[2];
    const rows = phases.length === 1 ? undefined : { plane: D * H * W, shape: ph.outSpatial, step: [sd * H * W, sh * W, sw, origin] };
    const gemm = {
      op,
      entry: 'forward' as const,
      M: Ms[i]!,
      N: J,
      K,
      size,
      cp,
      outRows: shapeSize(ph.outSpatial),
      kValid: 0,
      geometry: ph.geometry,
      srcSpatial: src.shape.slice(2),
      outSpatial: ph.outSpatial,
      bindings: { src: xh, wt: wh, bias },
      rows,
      ...(fused ? { epilogue: { e, pre } } : {}),
    };
    dispatchGemm(ctx, t, gemm, { ...split, kChunk: Math.ceil(K / BK / split.chunks) * BK }, out);
    wh.dispose();
  });
  xh.dispose();
  const result = sumChunks(out, shape);
  if (!e) return { out: result, input: null };
  if (fused) return { out: result, input: pre && { x: pre, residual: null } };
  return preluAfter(op, result, e);
}

/**
 * The weight gradient grad[a, b, tap] = Σ_k lhs[a, k] · src[b, at k and tap] as a GEMM with m =
 * (tap, b) (padded to 16), n = a and k = (sample, lhs voxel), then reordered and summed over K chunks.
 */
function tensorCoreWeightGrad(p: WeightGradPass, t: TensorCoreTile): Tensor {
  const { op, lhs, src, geometry } = p;
  const ctx = getContext();
  checkTile(op, t, ctx);
  const [A, C] = [lhs.shape[1]!, src.shape[1]!];
  const taps = shapeSize(geometry.kernel);
  const cp = Math.ceil(C / 8) * 8;
  const M = Math.ceil((taps * cp) / 16) * 16;
  const outSpatial = lhs.shape.slice(2);
  const kValid = lhs.shape[0]! * shapeSize(outSpatial);
  const K = Math.ceil(kValid / BK) * BK;
  const xh = channelsLast(ctx, op, src, cp);
  checkBindable(op, 'f16 planar lhs', [(rowsOf(t, A) * K) / 2]);
  const lh = layout(ctx, op, 'planar', lhs, rowsOf(t, A) * K, { C: A, spatial: shapeSize(outSpatial), K, rows: kValid });
  const size = A * M;
  const gemm = {
    op,
    entry: 'weightGrad' as const,
    M,
    N: A,
    K,
    size,
    cp,
    outRows: M,
    kValid,
    geometry,
    srcSpatial: src.shape.slice(2),
    outSpatial,
  };
  const split = splitOf(ctx, t, K, size, tilesOf(t, M, A));
  const out = empty([split.chunks, size]);
  dispatchGemm(ctx, t, { ...gemm, bindings: { src: xh, wt: lh, bias: null } }, split, out);
  const chunks = split.chunks;
  xh.dispose();
  lh.dispose();
  const grad = empty([A, C, ...geometry.kernel]);
  const total = A * C * taps;
  const params = { total, C, cp, taps, M, chunks, chunkSize: size };
  ctx.dispatch({ op, kernel: 'conv/mma-layout', entry: 'weightGradOut', bindings: { x: out, grad }, params, invocations: total });
  out.dispose();
  return grad;
}

/** The mixed precision's tensor-core convolutions for the passes it takes (see the file header). */
export const tensorCoreFamily: ConvFamily<TensorCoreTile> = {
  name: 'tensor-core',
  applies: (p, ctx) => ctx.precision === 'mixed' && tileProblem(defaultTile(p, ctx), ctx) === null,
  default: defaultTile,
  candidates: (p, ctx) => {
    const first = defaultTile(p, ctx);
    const N = gemmColumns(p);
    return [first, ...tensorCoreTiles.filter((t) => t !== first && tensorCoreFits(t, N, ctx)).slice(0, 3)];
  },
  run: (p, t) => (p.kind === 'convolve' ? tensorCoreConvolve(p, t).out : tensorCoreWeightGrad(p, t)),
  runPrelu: tensorCoreConvolve,
};
