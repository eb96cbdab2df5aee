// What the tuner needs from a conv pass (src/ops/conv/path.ts): its keys, and the cut-down copy of it
// that autotune times. Plain shapes only, so this stays below the ops.
import type { Context } from '../device/context.js';
import { shapeSize } from '../core/shape.js';
import { shapeClass, type TuneKey } from './tuner.js';

/** The geometry of a conv pass as keys and labels see it (src/ops/conv/shape.ts's ConvGeometry). */
export interface KeyGeometry {
  readonly kernel: readonly number[];
  readonly stride: readonly number[];
  readonly dilation: readonly number[];
}

/** What stays exact in a conv key: kernel size and stride change the kernel's work per voxel. */
function geometryClass(g: KeyGeometry): Record<string, string> {
  return { k: g.kernel.join('x'), stride: g.stride.join('x'), dil: g.dilation.join('x') };
}

/**
 * The candidate sets' version, part of every conv key: a cache measured over other candidates is
 * measured again.
 */
const candidateSet = 4;

/**
 * convolve's key: the family, channels, output voxels (batch included: the work is linear in them)
 * and row width bucketed; geometry and direction exact.
 */
export function convolveKey(
  adapter: string,
  family: string,
  src: readonly number[],
  outChannels: number,
  outSpatial: readonly number[],
  g: KeyGeometry,
  transposed: boolean,
): TuneKey {
  const sizes = { cin: src[1]!, cout: outChannels, voxels: src[0]! * shapeSize(outSpatial), w: outSpatial[2]! };
  return {
    adapter,
    op: `conv.convolve.${family}.v${candidateSet}`,
    shapeClass: shapeClass(sizes, { ...geometryClass(g), t: transposed ? 1 : 0 }),
  };
}

/** weightGrad's key: the family, both channel counts, the rows summed over (lhs voxels) and width, geometry exact. */
export function gradKey(adapter: string, family: string, lhs: readonly number[], src: readonly number[], g: KeyGeometry): TuneKey {
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
const softwareTrialVoxels = 32768;

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

const geometryLabel = (g: KeyGeometry): string => `kernel ${g.kernel.join('×')}, stride ${g.stride.join('×')}`;

/** A convolve pass's timed copy: the log's label, the input shapes (src, weight, bias if any) and the copy's output size. */
export function convolveTrial(
  ctx: Context,
  op: string,
  p: {
    src: readonly number[];
    weight: readonly number[];
    bias: readonly number[] | null;
    outChannels: number;
    outSpatial: readonly number[];
    geometry: KeyGeometry;
    transposed: boolean;
  },
): { label: string; inputs: (readonly number[])[]; outSpatial: number[] } {
  const [N, C, SD] = p.src as [number, number, number];
  const c = crop(N, p.outSpatial[0]!, p.outSpatial[1]! * p.outSpatial[2]!, SD, trialVoxels(ctx));
  const s = [c.batch, C, c.otherDepth, ...p.src.slice(3)];
  const out = [c.depth, ...p.outSpatial.slice(1)];
  const cut = c.batch * c.depth < N * p.outSpatial[0]! ? ` (timed on [${s.join(', ')}] → ${out.join('×')})` : '';
  return {
    label:
      `${op} ${p.transposed ? 'transposed ' : ''}convolve [${p.src.join(', ')}] → ${p.outChannels} × ` +
      `${p.outSpatial.join('×')}, ${geometryLabel(p.geometry)}${cut}`,
    inputs: p.bias ? [s, p.weight, p.bias] : [s, p.weight],
    outSpatial: out,
  };
}

/** A weight-gradient pass's timed copy: the log's label and the input shapes (lhs, src). */
export function gradTrial(
  ctx: Context,
  op: string,
  lhs: readonly number[],
  src: readonly number[],
  g: KeyGeometry,
): { label: string; inputs: (readonly number[])[] } {
  const [N, A, GD, GH, GW] = lhs as [number, number, number, number, number];
  const c = crop(N, GD, GH * GW, src[2]!, trialVoxels(ctx));
  const l = [c.batch, A, c.depth, GH, GW];
  const s = [c.batch, src[1]!, c.otherDepth, ...src.slice(3)];
  const cut = c.batch * c.depth < N * GD ? ` (timed on [${l.join(', ')}] ⋆ [${s.join(', ')}])` : '';
  return { label: `${op} weightGrad [${lhs.join(', ')}] ⋆ [${src.join(', ')}], ${geometryLabel(g)}${cut}`, inputs: [l, s] };
}
