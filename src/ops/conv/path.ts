// The conv passes, and choosePath's answer to which kernel family and variant runs each: the one
// place that decides. Every conv op is made of three passes (conv3d.ts, conv-transpose3d.ts):
// - convolve(), a correlation: forward (conv3d forward, convTranspose3d's input gradient) or
//   transposed (conv3d's input gradient, convTranspose3d forward);
// - weightGrad(), the correlation of the small tensor with the big one that gives either op's
//   weight gradient;
// - biasGrad(), a channel sum.
// The families: 'gpu' adapters run the implicit GEMM (gemm.ts) for every pass; 'software' ones run
// register tiles without workgroup memory (register.ts), or the block path (block.ts) where the
// stride equals the kernel. Which tile of its family a pass gets is the tuner's cached winner for
// the pass's shape class, else the family's default (autotune measures the candidates).
import type { Context } from '../../device/context.js';
import { getContext } from '../../device/context.js';
import type { Tensor } from '../../tensor.js';
import { tuned, type Tunable } from '../../tuning/tuned.js';
import { shapeClass, type TuneKey, type Variant } from '../../tuning/tuner.js';
import { sum } from '../reduce.js';
import { blockConvolve, blockConvolves, blockGrads, blockWeightGrad } from './block.js';
import { convolveGemm, gemmConvolve, gemmDefault, gemmRuns, gemmTiles, mmaTiles, gemmWeightGrad, weightGradGemm, type GemmShape, type GemmTile } from './gemm.js';
import { registerConvolve, registerWeightGrad } from './register.js';
import { convolveTiles, gradTiles, type ConvolveTile, type GradTile } from './register-tiles.js';
import { isBlockGeometry, type ConvGeometry } from './shape.js';
import { shapeSize } from '../../shape.js';

/** The software block path: no variants, its tile follows from the kernel. */
export interface BlockPath extends Variant {
  family: 'block';
}
export type ConvolvePath = BlockPath | ConvolveTile | GemmTile;
export type GradPath = BlockPath | GradTile | GemmTile;

const blockPath: BlockPath = { name: 'block', family: 'block' };

const pow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/**
 * The GEMM tiles worth timing for a shape: its default, then up to three more that the shape fills
 * (a tile over twice the rounded-up M or N mostly computes padding).
 */
export function gemmCandidates(s: GemmShape, weightGrad: boolean, mma = false): GemmTile[] {
  const first = gemmDefault(s, weightGrad, mma);
  const fits = (t: GemmTile): boolean => t !== first && gemmRuns(t, weightGrad) && t.WM * t.TM <= 2 * pow2(s.M) && t.WN * t.TN <= 2 * pow2(s.N);
  return [first, ...(mma ? mmaTiles : gemmTiles).filter(fits).slice(0, 3)];
}

/** The family in tuner keys: 'software', 'gpu', or 'mma' (the GEMM kernels on tensor cores). */
const keyFamily = (ctx: Context): string => (ctx.kernels === 'gpu' && ctx.precision === 'mixed' ? 'mma' : ctx.kernels);

/**
 * Which family and variant runs a pass: on 'software' kernels the block path where it applies,
 * else the tuned register tile; on 'gpu' kernels the tuned GEMM tile, with the register family's
 * default among the candidates where its general kernel applies; in the mixed precision the tuned
 * tensor-core tile.
 */
export function choosePath<V extends Variant>(
  ctx: Context,
  pass: { block: boolean; gemm: GemmShape; weightGrad: boolean; key: TuneKey; register: readonly V[]; trial: Tunable<V | GemmTile>['trial'] },
): V | GemmTile | BlockPath {
  if (ctx.kernels === 'software') return pass.block ? blockPath : tuned(ctx, { key: pass.key, candidates: pass.register, trial: pass.trial });
  const mma = ctx.precision === 'mixed';
  const candidates: (V | GemmTile)[] = [...gemmCandidates(pass.gemm, pass.weightGrad, mma), ...(pass.block || mma ? [] : pass.register.slice(0, 1))];
  return tuned(ctx, { key: pass.key, candidates, trial: pass.trial });
}

/** What stays exact in a conv key: kernel size and stride change the kernel's work per voxel. */
function geometryClass(g: ConvGeometry): Record<string, string> {
  return { k: g.kernel.join('x'), stride: g.stride.join('x'), dil: g.dilation.join('x') };
}

/**
 * The candidate sets' version, part of every conv key: a cache measured over other candidates is
 * measured again.
 */
const candidateSet = 2;

/**
 * convolve's key: the family, channels, output voxels (batch included: the work is linear in them)
 * and row width bucketed; geometry and direction exact.
 */
export function convolveKey(adapter: string, family: string, src: readonly number[], outChannels: number, outSpatial: readonly number[], g: ConvGeometry, transposed: boolean): TuneKey {
  const sizes = { cin: src[1]!, cout: outChannels, voxels: src[0]! * shapeSize(outSpatial), w: outSpatial[2]! };
  return { adapter, op: `conv.convolve.${family}.v${candidateSet}`, shapeClass: shapeClass(sizes, { ...geometryClass(g), t: transposed ? 1 : 0 }) };
}

/** weightGrad's key: the family, both channel counts, the rows summed over (lhs voxels) and width, geometry exact. */
export function gradKey(adapter: string, family: string, lhs: readonly number[], src: readonly number[], g: ConvGeometry): TuneKey {
  const sizes = { a: lhs[1]!, b: src[1]!, voxels: lhs[0]! * shapeSize(lhs.slice(2)), w: lhs[4]! };
  return { adapter, op: `conv.weightGrad.${family}.v${candidateSet}`, shapeClass: shapeClass(sizes, geometryClass(g)) };
}

/**
 * Output voxels a timed copy of a pass keeps on a software adapter, where timing a paper-size conv
 * takes seconds per run. Tiles split channels, rows (H) and positions (W), never depth, and every
 * kernel's cost is linear in depth, so the copy drops batch entries and then depth planes: whole
 * H×W planes keep their cache behaviour, and the grid stays tens of workgroups. Small passes (and
 * so the small-volume workgroup rule) are timed as they are.
 */
export const softwareTrialVoxels = 32768;

export interface Crop {
  batch: number;
  /** Depth of the side whose voxels count (convolve: the output; weightGrad: lhs). */
  depth: number;
  /** The other side's depth, cut in proportion. */
  otherDepth: number;
}

/** The batch and depths of a pass's timed copy, at most `maxVoxels` (batch · depth · plane). */
export function crop(batch: number, depth: number, plane: number, otherDepth: number, maxVoxels: number): Crop {
  const sample = depth * plane;
  if (batch * sample <= maxVoxels) return { batch, depth, otherDepth };
  if (sample <= maxVoxels) return { batch: Math.floor(maxVoxels / sample), depth, otherDepth };
  const d = Math.max(1, Math.floor(maxVoxels / plane));
  return { batch: 1, depth: d, otherDepth: Math.max(1, Math.min(otherDepth, Math.ceil((otherDepth * d) / depth))) };
}

const trialVoxels = (ctx: Context): number => (ctx.describe().isSoftware ? softwareTrialVoxels : Infinity);

/** The variant convolve() dispatches for these arguments (see choosePath). */
function convolvePath(ctx: Context, op: string, src: Tensor, weight: Tensor, bias: Tensor | null, outSpatial: readonly number[], g: ConvGeometry, transposed: boolean): ConvolvePath {
  const Cout = weight.shape[transposed ? 1 : 0]!;
  return choosePath(ctx, {
    block: ctx.kernels === 'software' ? blockConvolves(src.shape, outSpatial, g, transposed, !!bias) : isBlockGeometry(g),
    gemm: convolveGemm(src.shape, Cout, outSpatial, g, transposed),
    weightGrad: false,
    key: convolveKey(ctx.adapterId, keyFamily(ctx), src.shape, Cout, outSpatial, g, transposed),
    register: convolveTiles,
    trial: () => {
      const [N, C, SD] = src.shape as [number, number, number];
      const c = crop(N, outSpatial[0]!, outSpatial[1]! * outSpatial[2]!, SD, trialVoxels(ctx));
      const s = [c.batch, C, c.otherDepth, ...src.shape.slice(3)];
      const out = [c.depth, ...outSpatial.slice(1)];
      return {
        label: `${op} ${transposed ? 'transposed ' : ''}convolve [${src.shape.join(', ')}] → ${Cout} × ${outSpatial.join('×')}, kernel ${g.kernel.join('×')}, stride ${g.stride.join('×')}${c.batch * c.depth < N * outSpatial[0]! ? ` (timed on [${s.join(', ')}] → ${out.join('×')})` : ''}`,
        inputs: bias ? [s, weight.shape, bias.shape] : [s, weight.shape],
        run: ([x, w, b], v) => convolve(op, x!, w!, b ?? null, out, g, transposed, v),
      };
    },
  });
}

/** The variant weightGrad() dispatches for these arguments (see choosePath). */
function gradPath(ctx: Context, op: string, lhs: Tensor, src: Tensor, g: ConvGeometry): GradPath {
  return choosePath(ctx, {
    block: ctx.kernels === 'software' ? blockGrads(g) : isBlockGeometry(g),
    gemm: weightGradGemm(lhs.shape, src.shape, g),
    weightGrad: true,
    key: gradKey(ctx.adapterId, keyFamily(ctx), lhs.shape, src.shape, g),
    register: gradTiles,
    trial: () => {
      const [N, A, GD, GH, GW] = lhs.shape as [number, number, number, number, number];
      const c = crop(N, GD, GH * GW, src.shape[2]!, trialVoxels(ctx));
      const l = [c.batch, A, c.depth, GH, GW];
      const s = [c.batch, src.shape[1]!, c.otherDepth, ...src.shape.slice(3)];
      return {
        label: `${op} weightGrad [${lhs.shape.join(', ')}] ⋆ [${src.shape.join(', ')}], kernel ${g.kernel.join('×')}, stride ${g.stride.join('×')}${c.batch * c.depth < N * GD ? ` (timed on [${l.join(', ')}] ⋆ [${s.join(', ')}])` : ''}`,
        inputs: [l, s],
        run: ([x, y], v) => weightGrad(op, x!, y!, g, v),
      };
    },
  });
}

/**
 * out [N, Cout, ...outSpatial] from src [N, Cin, ...]: forward, weight [Cout, Cin, k] (conv3d's
 * layout); transposed, weight [Cin, Cout, k] (convTranspose3d's). Without autograd. The variant is
 * choosePath's unless given.
 */
export function convolve(op: string, src: Tensor, weight: Tensor, bias: Tensor | null, outSpatial: readonly number[], g: ConvGeometry, transposed: boolean, path?: ConvolvePath): Tensor {
  const p = path ?? convolvePath(getContext(), op, src, weight, bias, outSpatial, g, transposed);
  if (p.family === 'block') return blockConvolve(op, src, weight, bias, outSpatial, g, transposed);
  if (p.family === 'gemm') return gemmConvolve(op, src, weight, bias, outSpatial, g, transposed, p);
  return registerConvolve(op, src, weight, bias, outSpatial, g, transposed, p);
}

/**
 * grad[a, b, k] = Σ_{n, o} lhs[n, a, o] · src[n, b, o·stride − padding + k·dilation]: conv3d's
 * weight gradient (lhs = output gradient, src = x) and convTranspose3d's (lhs = x, src = output
 * gradient), in the weight layout [a, b, k] of each. Without autograd. The variant is choosePath's
 * unless given.
 */
export function weightGrad(op: string, lhs: Tensor, src: Tensor, g: ConvGeometry, path?: GradPath): Tensor {
  const p = path ?? gradPath(getContext(), op, lhs, src, g);
  if (p.family === 'block') return blockWeightGrad(op, lhs, src, g);
  if (p.family === 'gemm') return gemmWeightGrad(op, lhs, src, g, p);
  return registerWeightGrad(op, lhs, src, g, p);
}

/** Sum of the output gradient per channel: the bias gradient of either convolution. */
export function biasGrad(g: Tensor): Tensor {
  return sum(g, [0, 2, 3, 4]);
}
