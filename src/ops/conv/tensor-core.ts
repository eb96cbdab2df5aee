// The tensor-core family (kernels/conv/mma.wgsl): the mixed precision's convolution as an implicit
// GEMM laid out for tensor cores. Before the GEMM, a memory-bound pass copies the source to f16
// channels-last (channels padded to 8) and another repacks the weights to f16 [N][K], K ordered
// (kd, kh, kw, c); the GEMM then gathers 16-byte vectors, stages them twice-buffered in padded
// workgroup rows and multiplies 16×16×16 fragments, each subgroup reusing its FM A and FN B
// fragments across an FM × FN block of results. It runs the forward pass (any stride) and the
// transposed pass of stride-1 convs (conv3d's input gradient: the forward with flipped,
// in↔out-swapped weights and padding dilation·(k − 1) − padding); the strided transposed passes and
// the weight gradients stay on the older tensor-core GEMM (gemm.ts's mmaFamily).
// On a device without subgroup matrices the same kernel runs emulated (parts/mma-emulated.wgsl):
// for tests only, never chosen (the family applies only in the mixed precision).
import { getContext, type Context } from '../../device/context.js';
import { shapeSize } from '../../shape.js';
import { empty, type Tensor } from '../../tensor.js';
import { outChannels, outShape, type ConvFamily, type ConvPass, type ConvVariant, type ConvolvePass } from './family.js';
import { chunking, sumChunks } from './grad-chunks.js';
import { checkBindable, isBlockGeometry, type ConvGeometry } from './shape.js';

/** A tile: SG_M × SG_N subgroups of 32 invocations, each owning FM × FN fragments of 16 × 16 results. */
export interface TensorCoreTile extends ConvVariant {
  family: 'tensor-core';
  FM: number;
  FN: number;
  SG_M: number;
  SG_N: number;
}

export const tensorCoreTile = (FM: number, FN: number, SG_M: number, SG_N: number): TensorCoreTile => ({
  name: `tc${16 * FM * SG_M}x${16 * FN * SG_N}.f${FM}x${FN}`,
  family: 'tensor-core',
  FM,
  FN,
  SG_M,
  SG_N,
});

/** K per step and the padded row of a staged operand, in halfs (kernels/conv/mma.wgsl's BK, ROW). */
const BK = 32;
const ROW = 40;

/** Bytes of workgroup memory tile t takes: two stages of both operand tiles, and 1 KiB of f32 scratch per subgroup. */
export const tensorCoreBytes = (t: TensorCoreTile): number => 2 * 16 * (t.FM * t.SG_M + t.FN * t.SG_N) * ROW * 2 + t.SG_M * t.SG_N * 1024;

/** Why the kernel cannot run tile t on this context, or null. */
export function tileProblem(t: TensorCoreTile, ctx: Context): string | null {
  const WGS = 32 * t.SG_M * t.SG_N;
  const [BM, BN] = [16 * t.FM * t.SG_M, 16 * t.FN * t.SG_N];
  if (![2, 4].includes(t.FM) || ![1, 2].includes(t.FN)) return 'must have FM of 2 or 4 and FN of 1 or 2 (the generated kernels)';
  if (!Number.isInteger(t.SG_M) || !Number.isInteger(t.SG_N) || t.SG_M < 1 || t.SG_N < 1 || WGS > 256) return 'must have at most 8 subgroups';
  const loads = [(BM * 4) / WGS, (BN * 4) / WGS];
  if (loads.some((l) => !Number.isInteger(l) || l < 1 || l > 8)) return 'must give each invocation 1 to 8 whole 16-byte loads of each operand a step';
  if (t.FN > t.SG_M) return 'must have FN at most SG_M (the bias rows fit the scratch)';
  const bytes = tensorCoreBytes(t);
  const limit = ctx.limits.maxComputeWorkgroupStorageSize;
  if (bytes > limit) return `needs ${bytes} bytes of workgroup memory (the adapter's: ${limit})`;
  return null;
}

function checkTile(op: string, t: TensorCoreTile, ctx: Context): void {
  const problem = tileProblem(t, ctx);
  if (problem) throw new Error(`${op}: tensor-core tile ${t.name} ${problem}`);
}

/**
 * The tiles autotune tries, widest reuse first: 128 rows, as many columns as N needs, 4 × 2 or
 * 4 × 1 fragments a subgroup (an A fragment reused over 2 columns, a B fragment over 4 rows), and
 * 64 × 64 with 2 × 2 for short M.
 */
export const tensorCoreTiles: readonly TensorCoreTile[] = [
  tensorCoreTile(4, 2, 2, 4), // 128 × 128, 8 subgroups, 48 KiB
  tensorCoreTile(4, 2, 2, 2), // 128 × 64, 4 subgroups
  tensorCoreTile(4, 1, 2, 2), // 128 × 32, 4 subgroups
  tensorCoreTile(4, 1, 2, 1), // 128 × 16, 2 subgroups
  tensorCoreTile(2, 2, 2, 2), // 64 × 64, 4 subgroups
  tensorCoreTile(2, 2, 2, 1), // 64 × 32, 2 subgroups
  tensorCoreTile(2, 1, 1, 1), // 32 × 16, 1 subgroup
];

const byName = new Map(tensorCoreTiles.map((t) => [t.name, t]));

/** Whether the family runs this pass: convolve passes, forward or of stride 1 (see the file header). */
const takes = (p: ConvPass): boolean => p.kind === 'convolve' && (!p.transposed || (p.geometry.stride.every((s) => s === 1) && !isBlockGeometry(p.geometry)));

/** The untuned tile: as many columns as N needs (16 to 128), 128 rows; the widest tile this adapter's workgroup memory holds. */
function defaultTile(p: ConvolvePass, ctx: Context): TensorCoreTile {
  const N = outChannels(p);
  const name = N <= 16 ? 'tc128x16.f4x1' : N <= 32 ? 'tc128x32.f4x1' : N <= 64 ? 'tc128x64.f4x2' : 'tc128x128.f4x2';
  const wanted = byName.get(name)!;
  return tileProblem(wanted, ctx) ? byName.get('tc64x64.f2x2')! : wanted;
}

/** Workgroups that keep a large GPU busy; fewer output tiles than this split K. */
const targetWorkgroups = 512;

const vec4 = (v: readonly number[], last = 0): number[] => [v[0]!, v[1]!, v[2]!, last];

/** The pass as a forward conv: the transposed pass of stride 1 reads flipped, swapped weights with the complementary padding. */
function asForward(g: ConvGeometry, transposed: boolean): ConvGeometry {
  if (!transposed) return g;
  return { ...g, padding: g.padding.map((p, i) => g.dilation[i]! * (g.kernel[i]! - 1) - p) as unknown as ConvGeometry['padding'] };
}

function layout(ctx: Context, op: string, entry: 'channelsLast' | 'packWeights', x: Tensor, halfs: number, params: Record<string, number>): Tensor {
  const packed = empty([halfs / 2]);
  const total = halfs / 8;
  const all = { total, C: 0, cp: 0, spatial: 0, K: 0, strideC: 0, strideN: 0, flip: 0, ...params };
  ctx.dispatch({ op, kernel: 'conv/mma-layout', entry, bindings: { x, packed }, params: all, workgroups: ctx.grid(total, 64) });
  return packed;
}

function tensorCoreConvolve(p: ConvolvePass, t: TensorCoreTile): Tensor {
  const { op, src, weight, bias, outSpatial, transposed } = p;
  const ctx = getContext();
  checkTile(op, t, ctx);
  if (!takes(p)) throw new Error(`${op}: the tensor-core family runs forward passes and stride-1 transposed ones, not a transposed pass of stride ${p.geometry.stride.join('×')}`);
  const g = asForward(p.geometry, transposed);
  const [batch, C] = [src.shape[0]!, src.shape[1]!];
  const J = outChannels(p);
  const shape = outShape(p);
  checkBindable(op, 'output', shape);
  const taps = shapeSize(g.kernel);
  const cp = Math.ceil(C / 8) * 8;
  const K = Math.ceil((taps * cp) / BK) * BK;
  const srcSpatial = src.shape.slice(2);
  const srcVoxels = shapeSize(srcSpatial);
  const V = shapeSize(outSpatial);
  const M = batch * V;
  checkBindable(op, 'f16 channels-last source', [batch * srcVoxels * cp]);
  const xh = layout(ctx, op, 'channelsLast', src, batch * srcVoxels * cp, { C, cp, spatial: srcVoxels });
  const strides = transposed ? { strideC: J * taps, strideN: taps, flip: 1 } : { strideC: taps, strideN: C * taps, flip: 0 };
  const wh = layout(ctx, op, 'packWeights', weight, J * K, { C, cp, spatial: taps, K, ...strides });
  const [BM, BN] = [16 * t.FM * t.SG_M, 16 * t.FN * t.SG_N];
  const mTiles = Math.ceil(M / BM);
  const nTiles = Math.ceil(J / BN);
  const size = shapeSize(shape);
  const { chunkRows, chunks } = chunking(ctx, K / BK, size, mTiles * nTiles, targetWorkgroups);
  const out = empty(chunks > 1 ? [chunks, size] : shape);
  const y = Math.ceil(mTiles / ctx.limits.maxComputeWorkgroupsPerDimension);
  const x = Math.ceil(mTiles / y);
  const native = ctx.precision === 'mixed';
  ctx.dispatch({
    op,
    kernel: `conv/mma-${native ? 'native' : 'emulated'}-${t.FM}-${t.FN}`,
    entry: 'forward',
    bindings: { src: xh, wt: wh, bias: bias ?? wh, out },
    params: {
      M,
      N: J,
      K,
      kChunk: chunkRows * BK,
      cp,
      mTilesX: x,
      nTiles,
      chunkSize: size,
      wholeRows: V % 16 === 0 ? 1 : 0,
      srcSize: vec4(srcSpatial, srcVoxels),
      outSize: vec4(outSpatial, V),
      padding: vec4(g.padding),
      dilation: vec4(g.dilation),
    },
    constants: {
      SG_M: t.SG_M,
      SG_N: t.SG_N,
      WGS: 32 * t.SG_M * t.SG_N,
      KD: g.kernel[0],
      KH: g.kernel[1],
      KW: g.kernel[2],
      SD: g.stride[0],
      SH: g.stride[1],
      SW: g.stride[2],
      BIAS: bias ? 1 : 0,
    },
    workgroups: [x, y, nTiles * chunks],
  });
  xh.dispose();
  wh.dispose();
  return chunks > 1 ? sumChunks(out, shape) : out;
}

/** The mixed precision's tensor-core convolutions for the passes it takes (see the file header). */
export const tensorCoreFamily: ConvFamily<TensorCoreTile> = {
  name: 'tensor-core',
  applies: (p, ctx) => ctx.precision === 'mixed' && takes(p) && tileProblem(defaultTile(p as ConvolvePass, ctx), ctx) === null,
  default: (p, ctx) => defaultTile(p as ConvolvePass, ctx),
  candidates: (p, ctx) => {
    const first = defaultTile(p as ConvolvePass, ctx);
    const N = outChannels(p as ConvolvePass);
    const fits = (t: TensorCoreTile): boolean => t !== first && tileProblem(t, ctx) === null && 16 * t.FN * t.SG_N <= 2 * Math.max(16, N);
    return [first, ...tensorCoreTiles.filter(fits).slice(0, 3)];
  },
  run: (p, t) => {
    if (p.kind !== 'convolve') throw new Error(`${p.op}: the tensor-core family has no weight-gradient pass yet`);
    return tensorCoreConvolve(p, t);
  },
};
