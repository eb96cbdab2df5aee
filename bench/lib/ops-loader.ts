// Ops are loaded by name at run time, so the harness runs (and type-checks) while some ops are not
// written yet: a missing module is a skipped case with a note, not a crash.
import type { Tensor } from '../../src/tensor.js';
import type { Optimizer } from '../../src/optim/optimizer.js';
import type { VNet } from '../../src/nn/vnet.js';

/** The signatures the bench relies on (the ops' own option types are wider). */
export interface OpModules {
  conv3d: (x: Tensor, w: Tensor, bias: Tensor | null, options: { stride?: number; padding?: number; dilation?: number }) => Tensor;
  convTranspose3d: (x: Tensor, w: Tensor, bias: Tensor | null, options: { stride?: number; padding?: number; outputPadding?: number }) => Tensor;
  prelu: (x: Tensor, alpha: Tensor) => Tensor;
  softmax: (x: Tensor, dim: number) => Tensor;
  diceLoss: (input: Tensor, labels: Tensor, options?: { softmax?: boolean }) => Tensor;
  crossEntropy: (logits: Tensor, labels: Tensor, options?: { weight?: Tensor }) => Tensor;
}

/** Which file under src/ops/ holds each op. */
export const opFiles: Record<keyof OpModules, string> = {
  conv3d: 'conv/conv3d',
  convTranspose3d: 'conv/conv-transpose3d',
  prelu: 'prelu',
  softmax: 'softmax',
  diceLoss: 'dice-loss',
  crossEntropy: 'cross-entropy',
};

export class MissingOp extends Error {}

const cache = new Map<string, Promise<Record<string, unknown>>>();

function importFile(path: string): Promise<Record<string, unknown>> {
  let p = cache.get(path);
  if (!p) {
    // A computed specifier: neither tsc nor the bundler resolves it ahead of time.
    p = import(/* @vite-ignore */ path) as Promise<Record<string, unknown>>;
    cache.set(path, p);
  }
  return p;
}

/** ERR_MODULE_NOT_FOUND as MissingOp naming the absent source file; anything else is rethrown. */
function missing(e: unknown, what: string): Error {
  if ((e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') return e as Error;
  const path = /Cannot find module '([^']+)'/.exec((e as Error).message)?.[1] ?? '(unknown file)';
  return new MissingOp(`${what}${path.replace(/^.*\/src\//, 'src/').replace(/\.js$/, '.ts')} not present yet`);
}

/** The op, or MissingOp when its file (or a file it imports) does not exist yet. */
export async function loadOp<K extends keyof OpModules>(name: K): Promise<OpModules[K]> {
  const file = opFiles[name];
  let mod: Record<string, unknown>;
  try {
    mod = await importFile(`../../src/ops/${file}.js`);
  } catch (e) {
    throw missing(e, '');
  }
  const fn = mod[name];
  if (typeof fn !== 'function') throw new MissingOp(`src/ops/${file}.ts has no export '${name}' yet`);
  return fn as OpModules[K];
}

export interface VNetModules {
  VNet: typeof VNet;
  /** Typed here: src/nn/train-step.ts imports every loss, so it type-checks only once they all exist. */
  trainStep: (model: VNet, optimizer: Optimizer, image: Tensor, labels: Tensor) => Tensor;
}

/** The V-Net module and training step (they import every op, so they load only once all exist). */
export async function loadVNet(): Promise<VNetModules> {
  try {
    const nn = await importFile('../../src/nn/vnet.js');
    const step = await importFile('../../src/nn/train-step.js');
    return { VNet: nn.VNet as VNetModules['VNet'], trainStep: step.trainStep as VNetModules['trainStep'] };
  } catch (e) {
    throw missing(e, 'V-Net needs ');
  }
}
