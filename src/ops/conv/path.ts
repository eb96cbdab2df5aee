// Which conv kernel family runs a pass, and with which variant: the one place that decides. The
// families (family.ts's interface, one file each) are listed in a table per kind of context; a pass
// runs on the first family of its context's row that applies, with the tuner's cached winner among
// that family's candidates for the pass's shape class, else the family's default (autotune measures
// the candidates). Every conv op is made of three passes (conv3d.ts, conv-transpose3d.ts):
// convolve(), weightGrad() and biasGrad().
import { getContext, type Context } from '../../device/context.js';
import type { Tensor } from '../../core/tensor.js';
import { convolveKey, convolveTrial, gradKey, gradTrial } from '../../tuning/conv.js';
import { tuned, type Trial } from '../../tuning/tuned.js';
import { sum } from '../reduce.js';
import { blockFamily } from './block.js';
import {
  outChannels,
  preluAfter,
  type ConvFamily,
  type ConvolvePass,
  type ConvPass,
  type ConvVariant,
  type PreluEpilogue,
  type PreluResult,
  type WeightGradPass,
} from './family.js';
import { gemmFamily } from './gemm.js';
import { registerFamily } from './register.js';
import { tensorCoreFamily } from './tensor-core.js';
import { isBlockGeometry } from './shape.js';

export type { ConvVariant } from './family.js';

/** Every family, found by the `family` its variants carry when a caller (a test) fixes the variant. */
const families: readonly ConvFamily[] = [blockFamily, registerFamily, gemmFamily, tensorCoreFamily];

interface Row {
  /** The families that may run a pass, first choice first: the first that applies runs it. */
  runs: readonly ConvFamily[];
  /** Families whose default joins the candidates of the one that runs, where it applies and `where` holds. */
  offers: readonly { family: ConvFamily; where(pass: ConvPass): boolean }[];
}

/** The kinds of context, by the name tuner keys give them: their conv kernels, and on 'gpu' kernels the precision. */
type ContextKind = 'software' | 'gpu' | 'mma';

/** The families each kind of context chooses among. */
const table: Record<ContextKind, Row> = {
  // Software adapters: register tiles without workgroup memory, or the block path where the
  // stride equals the kernel (it has no variants, so such passes are not tuned).
  software: { runs: [blockFamily, registerFamily], offers: [] },
  // Hardware adapters: the implicit GEMM in workgroup memory, timed against the register family's
  // default where the stride is not the kernel.
  gpu: { runs: [gemmFamily], offers: [{ family: registerFamily, where: (p) => !isBlockGeometry(p.geometry) }] },
  // The mixed precision: the tensor-core family, every pass (init checks that its tiles fit).
  mma: { runs: [tensorCoreFamily], offers: [] },
};

const kindOf = (ctx: Context): ContextKind => (ctx.kernels === 'gpu' && ctx.precision === 'mixed' ? 'mma' : ctx.kernels);

/** The variant a pass runs on this context (see the file header); a pass with one candidate is not tuned. */
export function choose(pass: ConvPass, ctx: Context = getContext()): ConvVariant {
  const kind = kindOf(ctx);
  const row = table[kind];
  const family = row.runs.find((f) => f.applies(pass, ctx));
  if (!family) throw new Error(`${pass.op}: no conv kernel family takes this ${pass.kind} pass on ${kind} kernels`);
  const offered = row.offers.filter((o) => o.where(pass) && o.family.applies(pass, ctx)).map((o) => o.family.default(pass, ctx));
  const candidates = [...family.candidates(pass, ctx), ...offered];
  if (candidates.length === 1) return candidates[0]!;
  const key =
    pass.kind === 'convolve'
      ? convolveKey(ctx.adapterId, kind, pass.src.shape, outChannels(pass), pass.outSpatial, pass.geometry, pass.transposed)
      : gradKey(ctx.adapterId, kind, pass.lhs.shape, pass.src.shape, pass.geometry);
  return tuned(ctx, { key, candidates, trial: () => trialOf(pass, ctx) });
}

/** The pass autotune times: a cut-down copy of this one on random inputs (src/tuning/conv.ts). */
function trialOf(pass: ConvPass, ctx: Context): Trial<ConvVariant> {
  if (pass.kind === 'weightGrad') {
    const t = gradTrial(ctx, pass.op, pass.lhs.shape, pass.src.shape, pass.geometry);
    return { ...t, run: ([lhs, src], v) => run({ ...pass, lhs: lhs!, src: src! }, v) };
  }
  const shapes = { src: pass.src.shape, weight: pass.weight.shape, bias: pass.bias?.shape ?? null, outChannels: outChannels(pass) };
  const t = convolveTrial(ctx, pass.op, { ...pass, ...shapes });
  return {
    label: t.label,
    inputs: t.inputs,
    run: ([src, weight, bias], v) => run({ ...pass, src: src!, weight: weight!, bias: bias ?? null, outSpatial: t.outSpatial }, v),
  };
}

function familyOf(pass: ConvPass, variant: ConvVariant): ConvFamily {
  const family = families.find((f) => f.name === variant.family);
  if (!family)
    throw new Error(`${pass.op}: unknown conv kernel family '${variant.family}' (have: ${families.map((f) => f.name).join(', ')})`);
  return family;
}

const run = (pass: ConvPass, variant: ConvVariant): Tensor => familyOf(pass, variant).run(pass, variant);

/** A convolve pass (family.ts), without autograd; the variant is choose()'s unless given. */
export function convolve(pass: Omit<ConvolvePass, 'kind'>, variant?: ConvVariant): Tensor {
  const p: ConvolvePass = { kind: 'convolve', ...pass };
  return run(p, variant ?? choose(p));
}

/**
 * A convolve pass then PReLU (+ residual) (family.ts's PreluEpilogue), without autograd: fused into
 * the pass where its family does that, else the PReLU kernel after it. The variant is choose()'s unless given.
 */
export function convolvePrelu(pass: Omit<ConvolvePass, 'kind'>, epilogue: PreluEpilogue, variant?: ConvVariant): PreluResult {
  const p: ConvolvePass = { kind: 'convolve', ...pass };
  const v = variant ?? choose(p);
  const family = familyOf(p, v);
  return family.runPrelu ? family.runPrelu(p, v, epilogue) : preluAfter(p.op, family.run(p, v), epilogue);
}

/** A weight-gradient pass (family.ts), without autograd; the variant is choose()'s unless given. */
export function weightGrad(pass: Omit<WeightGradPass, 'kind'>, variant?: ConvVariant): Tensor {
  const p: WeightGradPass = { kind: 'weightGrad', ...pass };
  return run(p, variant ?? choose(p));
}

/** Sum of the output gradient per channel: the bias gradient of either convolution. */
export function biasGrad(g: Tensor): Tensor {
  return sum(g, [0, 2, 3, 4]);
}
