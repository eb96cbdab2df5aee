// The register family (kernels/conv/register.wgsl), shaped for software adapters, for both kinds of
// pass (family.ts):
// - convolve: a correlation, forward or transposed, the latter run as one stride-1 correlation per
//   stride phase so no invocation wastes work on taps that miss it;
// - weightGrad: the correlation of the small tensor with the big one, split over chunks of rows and
//   summed in a second pass.
import { getContext } from '../../device/context.js';
import { empty, type Tensor } from '../../core/tensor.js';
import { outChannels, outShape, type ConvFamily, type ConvolvePass, type WeightGradPass } from './family.js';
import { chunking, sumChunks } from './grad-chunks.js';
import {
  checkConvolveTile,
  checkGradTile,
  convolveTiles,
  gradTiles,
  groupSize,
  kernelLimits,
  type ConvolveTile,
  type GradTile,
} from './register-tiles.js';
import { checkBindable, type ConvGeometry } from './shape.js';

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
  return [
    {
      count: outSize,
      outStride: 1,
      outPhase: 0,
      srcStride: g.stride[i]!,
      srcOffset: -g.padding[i]!,
      srcDil: g.dilation[i]!,
      taps: g.kernel[i]!,
      tapBase: 0,
      tapStep: 1,
    },
  ];
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
    plans.push({
      count,
      outStride: s,
      outPhase: r,
      srcStride: 1,
      srcOffset: e0 - (taps - 1) * dil,
      srcDil: dil,
      taps,
      tapBase: k0 + (taps - 1) * step,
      tapStep: -step,
    });
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

/** A convolve pass on register tiles. */
function registerConvolve(p: ConvolvePass, t: ConvolveTile): Tensor {
  const { op, src, weight, bias, outSpatial, geometry: g, transposed } = p;
  const ctx = getContext();
  checkConvolveTile(op, t);
  const [N, C] = [src.shape[0]!, src.shape[1]!];
  const Cout = outChannels(p);
  const K = g.kernel[0] * g.kernel[1] * g.kernel[2];
  const shape = outShape(p);
  checkBindable(op, 'output', shape);
  const out = empty(shape);
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
          kernel: 'conv/register',
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
          invocations: packedSize,
        });
        const { XV, fast } = positionTile(srcSize[2]!, pw, t.maxXV);
        // Narrow rows fill the tile with more rows instead.
        const HT = Math.max(1, Math.min(Math.floor(t.maxVec4s / XV), ph.count, kernelLimits.HT));
        const wTiles = Math.ceil(pw.count / (4 * XV));
        const tiles = Math.ceil(ph.count / HT);
        const total = N * blocks * pd.count * tiles * wTiles;
        ctx.dispatch({
          op,
          kernel: 'conv/register',
          entry: 'convolve',
          bindings: { src, packed, bias, out },
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
          invocations: total,
        });
        packed.dispose();
      }
    }
  }
  return out;
}

/** A weight-gradient pass on register tiles. */
function registerWeightGrad({ op, lhs, src, geometry: g }: WeightGradPass, t: GradTile): Tensor {
  const ctx = getContext();
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
    kernel: 'conv/register',
    entry: 'weightGrad',
    bindings: { lhs, src, partial },
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
    invocations: total,
  });
  return sumChunks(partial, weightShape);
}

/** The software adapters' general family: register tiles for any pass, tuned among a few. */
export const registerFamily: ConvFamily<ConvolveTile | GradTile> = {
  name: 'register',
  applies: () => true,
  default: (p) => (p.kind === 'convolve' ? convolveTiles[0]! : gradTiles[0]!),
  candidates: (p) => (p.kind === 'convolve' ? convolveTiles : gradTiles),
  // A tile of the other pass's kind fails the tile check, naming the field it lacks.
  run: (p, t) => (p.kind === 'convolve' ? registerConvolve(p, t as ConvolveTile) : registerWeightGrad(p, t as GradTile)),
};
