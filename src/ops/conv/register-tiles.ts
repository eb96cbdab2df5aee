// The register-tile variants of kernels/conv/register.wgsl that the software family chooses from
// (override constants COT, XV, HT, WG, KHT). The passes dispatch the tuner's cached winner for their
// key, else the first tile of each list: the heuristic that held before tuning existed.
import { kernelConstant } from '../../device/kernel-info.js';
import type { ConvVariant } from './family.js';

/**
 * Sizes of the kernel's fixed register arrays, read from its WGSL: tiles stay within them, and the
 * fast paths apply only where the row segment and taps fit.
 */
const limit = (name: string): number => kernelConstant('conv/register', name);
export const kernelLimits = {
  COT: limit('MAXCO'),
  XV: limit('MAXXV'),
  HT: limit('MAXHT'),
  KHT: limit('MAXKHT'),
  rowVec4s: limit('MAXV'),
  gradTaps: limit('MAXTW'),
};

/**
 * `convolve`: COT output channels × HT rows × 4·XV positions along W per invocation (XV fit to the
 * row, up to maxXV; HT·XV up to maxVec4s), WG invocations per workgroup at most (see groupSize).
 */
export interface ConvolveTile extends ConvVariant {
  family: 'register';
  COT: number;
  maxXV: number;
  maxVec4s: number;
  WG: number;
}

/** `weightGrad`: COT lhs channels × KHT × kW taps per invocation. */
export interface GradTile extends ConvVariant {
  family: 'register';
  COT: number;
  KHT: number;
  WG: number;
}

const convolveTile = (COT: number, maxXV: number, WG: number): ConvolveTile => ({
  name: `COT${COT}.XV${maxXV}.WG${WG}`,
  family: 'register',
  COT,
  maxXV,
  maxVec4s: 8,
  WG,
});
const gradTile = (COT: number, KHT: number, WG: number): GradTile => ({
  name: `COT${COT}.KHT${KHT}.WG${WG}`,
  family: 'register',
  COT,
  KHT,
  WG,
});

/**
 * Three candidates, because autotune times each on the machine (seconds per shape on llvmpipe).
 * First the default: on llvmpipe big tiles win even though they spill (a spill is a plain stack
 * access, a storage load a loop over the SIMD lanes): 16 channels × 8 vec4s beat 8 × 4 by ~25%.
 * The others are the ones sweeps on llvmpipe found faster at some V-Net shape: narrower rows with
 * smaller workgroups where a volume gives few of them (1.76× at 64 ch @ 8³), 8 channels (dx).
 */
export const convolveTiles: readonly ConvolveTile[] = [convolveTile(16, 4, 64), convolveTile(16, 2, 32), convolveTile(8, 4, 64)];

/**
 * weightGrad peaks lower (8 × 5 × 5 scalars by default): its accumulators grow with the taps, not
 * the positions. Sweeps on llvmpipe found 4 channels faster at small volumes (1.5–1.6× at 64 ch @
 * 8³) and 16 at large ones (1.34× at 16 ch @ 32³).
 */
export const gradTiles: readonly GradTile[] = [gradTile(8, 5, 64), gradTile(4, 5, 64), gradTile(16, 5, 64)];

/** Workgroups a dispatch should have at least: one per core of a 2-core machine. */
const minWorkgroups = 2;

/**
 * The tile's workgroup size, halved (down to 8, one SIMD row of llvmpipe) while a small volume would
 * leave fewer than `minWorkgroups`: llvmpipe runs a workgroup on one thread, so at 64 channels of
 * 8³ WG 64 gave one workgroup and left a core idle (WG 32 measured 1.7× faster there). Every
 * convolve tile keeps this rule, so its WG is an upper bound.
 */
export function groupSize(invocations: number, wg: number): number {
  let size = wg;
  while (size > 8 && Math.ceil(invocations / size) < minWorkgroups) size /= 2;
  return size;
}

function check(op: string, name: string, v: number, ok: boolean, want: string): void {
  if (!ok) throw new Error(`${op}: tile ${name} must be ${want}, got ${v}`);
}

const upTo = (op: string, name: string, v: number, max: number): void =>
  check(op, name, v, Number.isInteger(v) && v >= 1 && v <= max, `an integer from 1 to ${max}`);

function checkCot(op: string, cot: number): void {
  check(
    op,
    'COT',
    cot,
    Number.isInteger(cot) && cot % 4 === 0 && cot >= 4 && cot <= kernelLimits.COT,
    `a multiple of 4 from 4 to ${kernelLimits.COT}`,
  );
}

/** The kernel's register arrays have fixed sizes: a tile beyond them would be silently wrong. */
export function checkConvolveTile(op: string, t: ConvolveTile): void {
  checkCot(op, t.COT);
  upTo(op, 'maxXV', t.maxXV, kernelLimits.XV);
  upTo(op, 'maxVec4s', t.maxVec4s, Infinity);
  upTo(op, 'WG', t.WG, Infinity);
}

export function checkGradTile(op: string, t: GradTile): void {
  checkCot(op, t.COT);
  upTo(op, 'KHT', t.KHT, kernelLimits.KHT);
  upTo(op, 'WG', t.WG, Infinity);
}
