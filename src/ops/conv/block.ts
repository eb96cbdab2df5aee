// The software family's block path for conv3d and convTranspose3d (kernels/conv/block.wgsl): when
// the stride equals the kernel size, with no padding or dilation, the kernel's blocks tile the
// volume without overlap and every pass is a matrix product per voxel block. The register kernel
// spends most of its time there on strided taps (and, transposed, on one dispatch per stride
// phase); path.ts runs this family for such passes on software adapters.
import { getContext } from '../../device/context.js';
import { kernelConstant } from '../../device/kernel-info.js';
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
import { groupSize } from './register-tiles.js';
import { checkBindable, isBlockGeometry, type ConvGeometry, type Triple } from './shape.js';
import { shapeSize } from '../../core/shape.js';

/**
 * Register tiles of kernels/conv/block.wgsl: `rows` tile rows (gather: output channels; scatter:
 * output channels × taps; weightGrad: big-tensor channels × taps) times 4·XV voxels along W (XV up
 * to maxXV) and HT rows (HT·XV up to maxVec4s), as the register family's tiles; weightGrad takes gradA
 * small-tensor channels per invocation and enough chunks of rows for gradInvocations invocations.
 */
export const blockTiles = { rows: 16, maxXV: 4, maxVec4s: 8, gradA: 8, gradInvocations: 256, WG: 64 };
/** Sizes of the kernel's fixed register arrays, read from its WGSL. */
const limit = (name: string): number => kernelConstant('conv/block', name);
const kernelLimits = {
  rows: limit('MAXM'),
  XV: limit('MAXXV'),
  HT: limit('MAXHT'),
  KW: limit('MAXKW'),
  span: limit('MAXSPAN'),
  A: limit('MAXA'),
};

/** The block when g is one the kernel takes (all taps of a block fit a tile), else null. */
function blockOf(g: ConvGeometry): Triple | null {
  const k = g.kernel;
  return isBlockGeometry(g) && shapeSize(k) <= kernelLimits.rows && k[2] <= kernelLimits.KW ? k : null;
}

/** Whether the kernel takes this pass (a transposed convolve with bias must cover the whole output). */
function applies(p: ConvPass): boolean {
  if (!blockOf(p.geometry)) return false;
  return (
    p.kind === 'weightGrad' ||
    !(p.transposed && p.bias) ||
    p.src.shape.slice(2).every((s, i) => s * p.geometry.kernel[i]! === p.outSpatial[i])
  );
}

/** XV (quads along W) and HT (rows) for a small tensor of rows `height` × `width`. */
function positionTile(height: number, width: number, kw: number): { XV: number; HT: number } {
  const maxXV = Math.min(blockTiles.maxXV, kernelLimits.XV, Math.floor(kernelLimits.span / kw));
  const padded = (xv: number): number => Math.ceil(width / (4 * xv)) * xv;
  let XV = 1;
  for (let xv = 2; xv <= maxXV && 4 * (xv - 1) < width; xv++) if (padded(xv) <= padded(XV)) XV = xv;
  const HT = Math.max(1, Math.min(Math.floor(blockTiles.maxVec4s / XV), height, kernelLimits.HT));
  return { XV, HT };
}

/** Both tensors' rows 16-byte aligned: the kernel's vec4 paths. */
const aligned = (small: readonly number[], big: readonly number[]): number => (small[2]! % 4 === 0 && big[2]! % 4 === 0 ? 1 : 0);

/**
 * A convolve pass on the block path. Forward it gathers each output voxel from its input block;
 * transposed it scatters each input voxel onto its output block, outputs no block covers left 0
 * (only without bias).
 */
function blockConvolve(p: ConvolvePass): Tensor {
  const { op, src, weight, bias, outSpatial, transposed } = p;
  const k = blockOf(p.geometry)!;
  const K = shapeSize(k);
  const C = src.shape[1]!;
  const Cout = outChannels(p);
  const small = transposed ? src.shape.slice(2) : outSpatial;
  const big = transposed ? outSpatial : src.shape.slice(2);
  const covered = small.every((s, i) => s * k[i]! === big[i]);
  const shape = outShape(p);
  checkBindable(op, 'output', shape);
  const out = transposed && !covered ? zeros(shape) : empty(shape);
  const ctx = getContext();
  const CT = Math.min(transposed ? Math.floor(blockTiles.rows / K) : blockTiles.rows, kernelLimits.rows, Cout);
  // scatter reads the tile's weights, CT·K of one source channel, as a run of vec4s where aligned.
  const WVEC = transposed && (Cout * K) % 4 === 0 && (CT * K) % 4 === 0 ? 1 : 0;
  const ALIGNED = aligned(small, big);
  const { XV, HT } = positionTile(small[1]!, small[2]!, k[2]);
  const blocks = Math.ceil(Cout / CT);
  const tiles = Math.ceil(small[1]! / HT);
  const wTiles = Math.ceil(small[2]! / (4 * XV));
  const total = shape[0]! * blocks * small[0]! * tiles * wTiles;
  const WG = groupSize(total, blockTiles.WG);
  ctx.dispatch({
    op,
    kernel: 'conv/block',
    entry: transposed ? (ALIGNED ? 'scatter' : 'scatterElements') : 'gather',
    bindings: transposed ? { small: src, weight, bias, out } : { big: src, weight, bias, out },
    params: { total, channels: C, outChannels: Cout, blocks, tiles, wTiles, small: [...small, 0], big: [...big, 0] },
    constants: { WG, KD: k[0], KH: k[1], KW: k[2], CT, XV, HT, ALIGNED, WVEC, BIAS: bias ? 1 : 0 },
    invocations: total,
  });
  return out;
}

/**
 * A weight-gradient pass on the block path (lhs the small tensor, src the big one): a reduction over
 * voxels, split into chunks of rows that keep every core busy, then summed.
 */
function blockWeightGrad({ op, lhs, src, geometry }: WeightGradPass): Tensor {
  const k = blockOf(geometry)!;
  const K = shapeSize(k);
  const ctx = getContext();
  const [N, A] = [lhs.shape[0]!, lhs.shape[1]!];
  const B = src.shape[1]!;
  const small = lhs.shape.slice(2);
  const big = src.shape.slice(2);
  const AT = Math.min(blockTiles.gradA, kernelLimits.A, A);
  const CT = Math.min(Math.floor(blockTiles.rows / K), B);
  const bBlocks = Math.ceil(B / CT);
  const tiles = Math.ceil(A / AT) * bBlocks;
  const size = A * B * K;
  const rows = N * small[0]! * small[1]!;
  const { chunkRows, chunks } = chunking(ctx, rows, size, tiles, blockTiles.gradInvocations);
  const partial = empty([chunks, size]);
  const total = tiles * chunks;
  const WG = groupSize(total, blockTiles.WG);
  ctx.dispatch({
    op,
    kernel: 'conv/block',
    entry: 'weightGrad',
    bindings: { small: lhs, big: src, partial },
    params: { total, rows, chunkRows, tiles, aChannels: A, bChannels: B, bBlocks, small: [...small, 0], big: [...big, 0] },
    constants: { WG, KD: k[0], KH: k[1], KW: k[2], CT, AT, ALIGNED: aligned(small, big) },
    invocations: total,
  });
  return sumChunks(partial, [A, B, ...k]);
}

/** The block path has no variants: its tile follows from the kernel. */
export interface BlockVariant extends ConvVariant {
  readonly family: 'block';
}

const only: BlockVariant = { name: 'block', family: 'block' };

export const blockFamily: ConvFamily<BlockVariant> = {
  name: 'block',
  applies,
  default: () => only,
  candidates: () => [only],
  run(p) {
    const g = p.geometry;
    if (!applies(p))
      throw new Error(
        `${p.op}: the block path does not take kernel [${g.kernel.join(', ')}], stride [${g.stride.join(', ')}], padding ` +
          `[${g.padding.join(', ')}], dilation [${g.dilation.join(', ')}]`,
      );
    return p.kind === 'convolve' ? blockConvolve(p) : blockWeightGrad(p);
  },
};
