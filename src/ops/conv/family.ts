// A conv pass as one record, and the interface every conv kernel family implements. Each conv op is
// made of passes (conv3d.ts, conv-transpose3d.ts): a convolve pass, a correlation either forward
// (conv3d forward, convTranspose3d's input gradient) or transposed (conv3d's input gradient,
// convTranspose3d forward), and a weight-gradient pass. path.ts holds the table of families and
// chooses which one runs a pass; a family is one file here (and its WGSL in kernels/conv/).
import type { Context } from '../../device/context.js';
import type { Tensor } from '../../core/tensor.js';
import { preluForward } from '../prelu.js';
import type { Variant } from '../../tuning/tuner.js';
import type { ConvGeometry } from './shape.js';

/**
 * out [N, Cout, ...outSpatial] from src [N, Cin, ...]: forward, weight [Cout, Cin, k] (conv3d's
 * layout); transposed, weight [Cin, Cout, k] (convTranspose3d's).
 */
export interface ConvolvePass {
  readonly kind: 'convolve';
  /** The user-facing op, named in every error. */
  readonly op: string;
  readonly src: Tensor;
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly outSpatial: readonly number[];
  readonly geometry: ConvGeometry;
  readonly transposed: boolean;
}

/**
 * grad[a, b, k] = Σ_{n, o} lhs[n, a, o] · src[n, b, o·stride − padding + k·dilation]: conv3d's
 * weight gradient (lhs = output gradient, src = x) and convTranspose3d's (lhs = x, src = output
 * gradient), in the weight layout [a, b, k] of each.
 */
export interface WeightGradPass {
  readonly kind: 'weightGrad';
  readonly op: string;
  readonly lhs: Tensor;
  readonly src: Tensor;
  readonly geometry: ConvGeometry;
}

export type ConvPass = ConvolvePass | WeightGradPass;

/**
 * PReLU of a convolve pass's output (+ residual, of the output's shape), slope per output channel or
 * one shared: the end of a V-Net residual stage, fused into a family's output writes where it can.
 * keepInput: the caller will need the PReLU's input for its backward.
 */
export interface PreluEpilogue {
  readonly alpha: Tensor;
  readonly residual: Tensor | null;
  readonly keepInput: boolean;
}

/** A fused pass's activation, and (where asked) the PReLU's input as x (+ residual) for its backward. */
export interface PreluResult {
  out: Tensor;
  input: { x: Tensor; residual: Tensor | null } | null;
}

/** The epilogue applied to a pass's output x by the PReLU kernel, where it is not fused (x is freed unless kept). */
export function preluAfter(op: string, x: Tensor, e: PreluEpilogue): PreluResult {
  const out = preluForward(op, x, e.residual, e.alpha);
  if (e.keepInput) return { out, input: { x, residual: e.residual } };
  x.dispose();
  return { out, input: null };
}

/** A variant of a family: its tile (or none), named uniquely for the tuner, tagged with the family that runs it. */
export interface ConvVariant extends Variant {
  readonly family: string;
}

/**
 * A conv kernel family. path.ts asks `applies` which families can run a pass, takes the first
 * one's `default` untuned and the tuned winner among its `candidates` once autotune has measured
 * them, and hands the variant to that family's `run`.
 */
export interface ConvFamily<V extends ConvVariant = ConvVariant> {
  /** The `family` its variants carry. */
  readonly name: string;
  /** Whether its kernels take this pass on this context (kernel kind, precision, geometry, tile limits). */
  applies(pass: ConvPass, ctx: Context): boolean;
  /** The variant it runs untuned (the browser demo never tunes). */
  default(pass: ConvPass, ctx: Context): V;
  /** The variants worth timing for this pass, its default first. */
  candidates(pass: ConvPass, ctx: Context): readonly V[];
  /** Runs the pass with a variant of this family (checked against the kernel's limits: a bad tile throws, naming the op). */
  run(pass: ConvPass, variant: V): Tensor;
  /** Runs a convolve pass with a PReLU epilogue, where the family fuses one (path.ts composes the others). */
  runPrelu?(pass: ConvolvePass, variant: V, epilogue: PreluEpilogue): PreluResult;
}

/** The output channels of a convolve pass. */
export const outChannels = (p: ConvolvePass): number => p.weight.shape[p.transposed ? 1 : 0]!;

/** The output shape of a convolve pass. */
export const outShape = (p: ConvolvePass): number[] => [p.src.shape[0]!, outChannels(p), ...p.outSpatial];
