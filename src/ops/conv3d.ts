// conv3d, and the two GPU passes every 3D convolution pass is made of (kernels/conv3d.wgsl):
// - convolve(): a correlation, forward (conv3d forward, convTranspose3d input gradient) or
//   transposed (conv3d input gradient, convTranspose3d forward), the latter run as one stride-1
//   correlation per stride phase so no invocation wastes work on taps that miss it;
// - weightGrad(): the correlation of the small tensor with the big one that gives either op's
//   weight gradient, split over chunks of rows and summed in a second pass.
import { record } from '../autograd.js';
import { getContext, type Context } from '../device/context.js';
import { empty, type Tensor } from '../tensor.js';
import { tuned } from '../tuning/tuned.js';
import { blockConvolve, blockWeightGrad } from './conv-block.js';
import { checkBindable, conv3dShape, type Conv3dOptions, type ConvGeometry } from './conv-shape.js';
import { checkConvolveTile, checkGradTile, convolveKey, convolveTiles, crop, gradKey, gradTiles, groupSize, kernelLimits, softwareTrialVoxels, type ConvolveTile, type GradTile } from './conv-tiles.js';
import { chunking, sumChunks } from './grad-chunks.js';
import { sum } from './reduce.js';

/** Enough weightGrad invocations to keep every core busy; more only adds partial sums. */
const gradInvocations = 4096;

/** How one spatial dimension of a `convolve` dispatch maps output positions to source taps. */
interface DimPlan {
  /** Output positions outPhase + outStride·q for q < count. */
  count: number;
  outStride: number;
  outPhase: number;
  /** Source position q·srcStride + srcOffset + t·srcDil for tap t < taps... */
  srcStride: number;
  srcOffset: number;
  srcDil: number;
  taps: number;
  /** ...which is kernel tap tapBase + t·tapStep. */
  tapBase: number;
  tapStep: number;
}

function forwardPlan(outSize: number, g: ConvGeometry, i: number): DimPlan[] {
  return [{ count: outSize, outStride: 1, outPhase: 0, srcStride: g.stride[i]!, srcOffset: -g.padding[i]!, srcDil: g.dilation[i]!, taps: g.kernel[i]!, tapBase: 0, tapStep: 1 }];
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * The transposed correlation out[i] = Σ src[m]·w[k] over i = m·s − p + k·d, split by the phase
 * r = i mod s: in phase r only the taps with (r + p − k·d) ≡ 0 (mod s) contribute, every (s/gcd)-th
 * one, and m = q + (r + p − k·d)/s is a stride-1 correlation over q = (i − r)/s with the taps
 * reversed (so the source dilation d/gcd is positive).
 */
function transposedPlan(outSize: number, g: ConvGeometry, i: number): DimPlan[] {
  const [s, p, d, K] = [g.stride[i]!, g.padding[i]!, g.dilation[i]!, g.kernel[i]!];
  const plans: DimPlan[] = [];
  for (let r = 0; r < Math.min(s, outSize); r++) {
    const count = Math.ceil((outSize - r) / s);
    let k0 = 0;
    while (k0 < K && (((r + p - k0 * d) % s) + s) % s !== 0) k0++;
    const step = s / gcd(s, d);
    const taps = k0 < K ? Math.ceil((K - k0) / step) : 0;
    const dil = d / gcd(s, d);
    const e0 = (r + p - k0 * d) / s;
    plans.push({ count, outStride: s, outPhase: r, srcStride: 1, srcOffset: e0 - (taps - 1) * dil, srcDil: dil, taps, tapBase: k0 + (taps - 1) * step, tapStep: -step });
  }
  return plans;
}

const mod4 = (v: number): number => ((v % 4) + 4) % 4;

/** Override constants of the aligned fast path for one W plan, or null when it does not apply. */
function fastRow(srcW: number, w: DimPlan, xv: number): Record<string, number> | null {
  const offmod = mod4(w.srcOffset);
  const nv = Math.ceil((offmod + (4 * xv - 1) * w.srcStride + (w.taps - 1) * w.srcDil + 1) / 4);
  if (srcW % 4 !== 0 || w.taps < 1 || nv > kernelLimits.rowVec4s) return null;
  return { ROW: 1, TW: w.taps, SWI: w.srcStride, DWI: w.srcDil, OFFMOD: offmod, NV: nv };
}

/** The widest position tile that wastes least on the row's end, on the fast path where it fits. */
function positionTile(srcW: number, w: DimPlan, maxXV: number): { XV: number; fast: Record<string, number> | null } {
  const padded = (xv: number): number => Math.ceil(w.count / (4 * xv)) * xv;
  let best = { XV: 1, fast: fastRow(srcW, w, 1) };
  for (let XV = 2; XV <= maxXV && 4 * (XV - 1) < w.count; XV++) {
    const fast = fastRow(srcW, w, XV);
    if ((fast || !best.fast) && padded(XV) <= padded(best.XV)) best = { XV, fast };
  }
  return best;
}

const vec4 = (a: number, b: number, c: number, d = 0): number[] => [a, b, c, d];

const trialVoxels = (ctx: Context): number => (ctx.describe().isSoftware ? softwareTrialVoxels : Infinity);

/** convolve's tile request: the tuner's winner for this shape class, else the default tile. */
function convolveTile(ctx: Context, op: string, src: Tensor, weight: Tensor, bias: Tensor | null, outSpatial: readonly number[], g: ConvGeometry, transposed: boolean): ConvolveTile {
  const Cout = weight.shape[transposed ? 1 : 0]!;
  return tuned(ctx, {
    key: convolveKey(ctx.adapterId, src.shape, Cout, outSpatial, g, transposed),
    candidates: convolveTiles,
    trial: () => {
      const [N, C, SD] = src.shape as [number, number, number];
      const c = crop(N, outSpatial[0]!, outSpatial[1]! * outSpatial[2]!, SD, trialVoxels(ctx));
      const s = [c.batch, C, c.otherDepth, ...src.shape.slice(3)];
      const out = [c.depth, ...outSpatial.slice(1)];
      return {
        label: `${op} ${transposed ? 'transposed ' : ''}convolve [${src.shape.join(', ')}] → ${Cout} × ${outSpatial.join('×')}, kernel ${g.kernel.join('×')}, stride ${g.stride.join('×')}${c.batch * c.depth < N * outSpatial[0]! ? ` (timed on [${s.join(', ')}] → ${out.join('×')})` : ''}`,
        inputs: bias ? [s, weight.shape, bias.shape] : [s, weight.shape],
        run: ([x, w, b], tile) => convolve(op, x!, w!, b ?? null, out, g, transposed, tile),
      };
    },
  });
}

/**
 * out [N, Cout, ...outSpatial] from src [N, Cin, ...]: forward, weight [Cout, Cin, k] (conv3d's
 * layout); transposed, weight [Cin, Cout, k] (convTranspose3d's). Without autograd. The tile is
 * the tuner's choice unless given.
 */
export function convolve(
  op: string,
  src: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  outSpatial: readonly number[],
  g: ConvGeometry,
  transposed: boolean,
  tile?: ConvolveTile,
): Tensor {
  const block = blockConvolve(op, src, weight, bias, outSpatial, g, transposed);
  if (block) return block;
  const ctx = getContext();
  const t = tile ?? convolveTile(ctx, op, src, weight, bias, outSpatial, g, transposed);
  checkConvolveTile(op, t);
  const [N, C] = [src.shape[0]!, src.shape[1]!];
  const Cout = weight.shape[transposed ? 1 : 0]!;
  const K = g.kernel[0] * g.kernel[1] * g.kernel[2];
  const outShape = [N, Cout, ...outSpatial];
  checkBindable(op, 'output', outShape);
  const out = empty(outShape);
  const { WG } = t;
  const COT = Math.min(t.COT, Math.max(4, Math.ceil(Cout / 4) * 4));
  const blocks = Math.ceil(Cout / COT);
  const plans = [0, 1, 2].map((i) => (transposed ? transposedPlan : forwardPlan)(outSpatial[i]!, g, i));
  const srcSize = src.shape.slice(2);
  for (const pd of plans[0]!) {
    for (const ph of plans[1]!) {
      for (const pw of plans[2]!) {
        const dims = [pd, ph, pw];
        const taps = dims.map((p) => p.taps);
        const packedSize = blocks * COT * C * taps[0]! * taps[1]! * taps[2]!;
        const packed = empty([Math.max(packedSize, 4)]);
        ctx.dispatch({
          op,
          kernel: 'conv3d',
          entry: 'repack',
          bindings: { weight, packed },
          params: {
            total: packedSize,
            channels: C,
            outChannels: Cout,
            strideOut: transposed ? K : C * K,
            strideIn: transposed ? Cout * K : K,
            taps: vec4(taps[0]!, taps[1]!, taps[2]!),
            kernel: vec4(g.kernel[0], g.kernel[1], g.kernel[2]),
            tapBase: vec4(pd.tapBase, ph.tapBase, pw.tapBase),
            tapStep: vec4(pd.tapStep, ph.tapStep, pw.tapStep),
          },
          constants: { COT, WG },
          workgroups: ctx.grid(packedSize, WG),
        });
        const { XV, fast } = positionTile(srcSize[2]!, pw, t.maxXV);
        // Narrow rows fill the tile with more rows instead.
        const HT = Math.max(1, Math.min(Math.floor(t.maxVec4s / XV), ph.count, kernelLimits.HT));
        const wTiles = Math.ceil(pw.count / (4 * XV));
        const tiles = Math.ceil(ph.count / HT);
        const total = N * blocks * pd.count * tiles * wTiles;
        ctx.dispatch({
          op,
          kernel: 'conv3d',
          entry: 'convolve',
          bindings: { src, src4: src, packed4: packed, bias: bias ?? packed, out },
          params: {
            total,
            channels: C,
            outChannels: Cout,
            blocks,
            tiles,
            srcSize: vec4(srcSize[0]!, srcSize[1]!, srcSize[2]!, Math.floor(srcSize[2]! / 4)),
            outSize: vec4(outSpatial[0]!, outSpatial[1]!, outSpatial[2]!),
            count: vec4(pd.count, ph.count, pw.count, wTiles),
            taps: vec4(taps[0]!, taps[1]!, taps[2]!),
            outStride: vec4(pd.outStride, ph.outStride, pw.outStride),
            outPhase: vec4(pd.outPhase, ph.outPhase, pw.outPhase),
            srcStride: vec4(pd.srcStride, ph.srcStride, pw.srcStride),
            srcOffset: vec4(pd.srcOffset, ph.srcOffset, pw.srcOffset),
            srcDil: vec4(pd.srcDil, ph.srcDil, pw.srcDil),
          },
          constants: { COT, XV, HT, WG: groupSize(total, WG), BIAS: bias ? 1 : 0, ...(fast ?? { ROW: 0 }) },
          workgroups: ctx.grid(total, groupSize(total, WG)),
        });
        packed.dispose();
      }
    }
  }
  return out;
}

/** weightGrad's tile request: the tuner's winner for this shape class, else the default tile. */
function gradTile(ctx: Context, op: string, lhs: Tensor, src: Tensor, g: ConvGeometry): GradTile {
  return tuned(ctx, {
    key: gradKey(ctx.adapterId, lhs.shape, src.shape, g),
    candidates: gradTiles,
    trial: () => {
      const [N, A, GD, GH, GW] = lhs.shape as [number, number, number, number, number];
      const c = crop(N, GD, GH * GW, src.shape[2]!, trialVoxels(ctx));
      const l = [c.batch, A, c.depth, GH, GW];
      const s = [c.batch, src.shape[1]!, c.otherDepth, ...src.shape.slice(3)];
      return {
        label: `${op} weightGrad [${lhs.shape.join(', ')}] ⋆ [${src.shape.join(', ')}], kernel ${g.kernel.join('×')}, stride ${g.stride.join('×')}${c.batch * c.depth < N * GD ? ` (timed on [${l.join(', ')}] ⋆ [${s.join(', ')}])` : ''}`,
        inputs: [l, s],
        run: ([x, y], tile) => weightGrad(op, x!, y!, g, tile),
      };
    },
  });
}

/**
 * grad[a, b, k] = Σ_{n, o} lhs[n, a, o] · src[n, b, o·stride − padding + k·dilation]: conv3d's
 * weight gradient (lhs = output gradient, src = x) and convTranspose3d's (lhs = x, src = output
 * gradient), in the weight layout [a, b, k] of each. Without autograd. The tile is the tuner's
 * choice unless given.
 */
export function weightGrad(op: string, lhs: Tensor, src: Tensor, g: ConvGeometry, tile?: GradTile): Tensor {
  const block = blockWeightGrad(op, lhs, src, g);
  if (block) return block;
  const ctx = getContext();
  const t = tile ?? gradTile(ctx, op, lhs, src, g);
  checkGradTile(op, t);
  const [N, A] = [lhs.shape[0]!, lhs.shape[1]!];
  const B = src.shape[1]!;
  const [GD, GH, GW] = lhs.shape.slice(2) as [number, number, number];
  const [SD, SH, SW] = src.shape.slice(2) as [number, number, number];
  const [KD, KH, KW] = g.kernel;
  const weightShape = [A, B, KD, KH, KW];
  const size = A * B * KD * KH * KW;
  const { WG } = t;
  const COT = Math.min(t.COT, Math.max(4, Math.ceil(A / 4) * 4));
  const KHT = Math.min(KH, t.KHT);
  const w: DimPlan = forwardPlan(0, g, 2)[0]!;
  const fast = GW % 4 === 0 && KW <= kernelLimits.gradTaps ? fastRow(SW, w, 1) : null;
  const tapTiles = KD * (fast ? Math.ceil(KH / KHT) : KH * KW);
  const aBlocks = Math.ceil(A / COT);
  const tiles = B * tapTiles * aBlocks;
  const rows = N * GD * GH;
  const { chunkRows, chunks } = chunking(ctx, rows, size, tiles, gradInvocations);
  const partial = empty([chunks, size]);
  const total = tiles * chunks;
  ctx.dispatch({
    op,
    kernel: 'conv3d',
    entry: 'weightGrad',
    bindings: { lhs, lhs4: lhs, src, src4: src, partial },
    params: {
      total,
      rows,
      chunkRows,
      tapTiles,
      lhsSize: vec4(A, GD, GH, GW),
      srcSize: vec4(B, SD, SH, SW),
      kernel: vec4(KD, KH, KW, aBlocks),
      stride: vec4(...g.stride),
      padding: vec4(...g.padding),
      dilation: vec4(...g.dilation),
    },
    constants: { COT, WG, ...(fast ? { ...fast, KHT } : { ROW: 0 }) },
    workgroups: ctx.grid(total, WG),
  });
  return sumChunks(partial, weightShape);
}

/** Sum of the output gradient per channel: the bias gradient of either convolution. */
export function biasGrad(g: Tensor): Tensor {
  return sum(g, [0, 2, 3, 4]);
}

/**
 * 3D convolution like torch.nn.functional.conv3d: x [N, Cin, D, H, W], weight
 * [Cout, Cin, kD, kH, kW], bias [Cout] or none. Gradients for x, weight and bias.
 */
export function conv3d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv3dOptions = {}): Tensor {
  const b = bias ?? null;
  const { geometry, outShape } = conv3dShape(x, weight, b, options);
  const out = convolve('conv3d', x, weight, b, outShape.slice(2), geometry, false);
  const inputs = b ? [x, weight, b] : [x, weight];
  return record('conv3d', inputs, out, (g) => [
    x.requiresGrad ? convolve('conv3d', g, weight, null, x.shape.slice(2), geometry, true) : null,
    weight.requiresGrad ? weightGrad('conv3d', g, x, geometry) : null,
    b?.requiresGrad ? biasGrad(g) : null,
  ]);
}
