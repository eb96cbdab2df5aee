// Op test vectors that run unchanged in Node (Dawn) and inside a browser page (navigator.gpu): fixed
// seeded inputs, forward outputs and gradients read back as plain numbers, so the two runtimes'
// results can be compared value for value. Sizes are tiny: SwiftShader compiles and runs everything
// on the CPU.
import type { Tensor } from '../../src/index.js';
import { randomArray } from '../helpers.js';
import type { Lib } from './lib.js';
import { shapeSize } from '../../src/core/shape.js';

/** Named results of one case, each a flat array of numbers. */
export type Outputs = Record<string, number[]>;
/** `leakedBytes`: GPU memory the case left in use (bytesInUse after minus before); must be 0. */
export type CaseResult = { outputs: Outputs; leakedBytes: number } | { error: string };

interface OpCase {
  /** Largest relative difference allowed between the runtimes; default 1e-4. */
  tolerance?: number;
  /** The conv kernel family the case runs on (init's `kernels`); default: the adapter's. */
  kernels?: 'gpu' | 'software';
  /** Builds inputs and returns the tensors to read (forward outputs, gradients); runs inside tidy. */
  build(lib: Lib): Record<string, Tensor>;
}

let seed = 1000;
/** Uniform seeded input; seeds follow the call order, identical in both runtimes. */
function input(lib: Lib, shape: number[], options: { lo?: number; hi?: number; grad?: boolean } = {}): Tensor {
  const n = shapeSize(shape);
  return lib.tensor(Float32Array.from(randomArray(n, seed++, options.lo ?? -1, options.hi ?? 1)), shape, {
    requiresGrad: options.grad ?? false,
  });
}

/** A 0/1 label volume from a seed (about a third foreground). */
function labels(lib: Lib, shape: number[]): Tensor {
  const u = randomArray(shapeSize(shape), seed++);
  return lib.tensor(
    Float32Array.from(u, (v) => (v > 0.33 ? 0 : 1)),
    shape,
  );
}

/** Backward of Σ w·y with a seeded w, so every output element's gradient path is exercised. */
function backwardWeighted(lib: Lib, y: Tensor): void {
  lib.sum(lib.mul(y, input(lib, [...y.shape]))).backward();
}

export const opCases: Record<string, OpCase> = {
  binaryBroadcast: {
    build(lib) {
      const a = input(lib, [2, 3, 4], { grad: true });
      const b = input(lib, [3, 1], { grad: true });
      const d = input(lib, [4], { lo: 0.5, hi: 2, grad: true });
      const y = lib.div(lib.mul(lib.sub(lib.add(a, b), 0.25), a), d);
      backwardWeighted(lib, y);
      return { y, ga: a.grad!, gb: b.grad!, gd: d.grad!, greater: lib.greater(a, b) };
    },
  },
  elementwiseMaps: {
    build(lib) {
      const x = input(lib, [5, 7], { lo: 0.1, hi: 3, grad: true });
      const z = input(lib, [5, 7], { grad: true });
      const y = lib.add(lib.add(lib.log(x), lib.sqrt(x)), lib.mulScalar(lib.exp(lib.neg(x)), 2));
      const r = lib.add(lib.relu(z), lib.addScalar(lib.abs(z), 0.5));
      backwardWeighted(lib, lib.add(y, r));
      return { y, r, gx: x.grad!, gz: z.grad! };
    },
  },
  reductions: {
    build(lib) {
      const x = input(lib, [3, 4, 5], { grad: true });
      const all = lib.sum(x);
      const dim1 = lib.sum(x, 1);
      const keep = lib.mean(x, [0, 2], true);
      const last = lib.mean(x, -1);
      backwardWeighted(lib, lib.add(lib.add(lib.sum(dim1), lib.sum(keep)), lib.sum(last)));
      return { all, dim1, keep, last, gx: x.grad! };
    },
  },
  shapes: {
    build(lib) {
      const a = input(lib, [2, 3, 4], { grad: true });
      const b = input(lib, [2, 1, 4], { grad: true });
      const joined = lib.concat([a, b, a], 1);
      const part = lib.narrow(joined, 1, 2, 3);
      const wide = lib.expand(b, [2, 5, 4]);
      const flat = lib.reshape(part, [6, 4]);
      backwardWeighted(lib, lib.add(lib.sum(flat, 0), lib.sum(lib.reshape(wide, [10, 4]), 0)));
      return { joined, part, wide, ga: a.grad!, gb: b.grad! };
    },
  },
  random: {
    // randn's Box–Muller uses log and cos, whose WGSL accuracy is implementation-defined (cos: 2⁻¹¹
    // absolute), so SwiftShader and llvmpipe differ by ~2e-4 there; rand uses no transcendentals.
    tolerance: 1e-3,
    build(lib) {
      // Streams depend only on (seed, index): both runtimes must draw the same numbers.
      return { randn: lib.randn([64], { seed: 7 }), rand: lib.rand([64], { seed: 8, low: -2, high: 3 }) };
    },
  },
  conv3d: {
    build(lib) {
      const x = input(lib, [1, 2, 5, 6, 4], { grad: true });
      const w = input(lib, [3, 2, 3, 3, 3], { grad: true });
      const bias = input(lib, [3], { grad: true });
      const same = lib.conv3d(x, w, bias, { padding: 1 });
      const down = lib.conv3d(x, input(lib, [2, 2, 2, 2, 2]), null, { stride: 2 });
      backwardWeighted(lib, same);
      return { same, down, gx: x.grad!, gw: w.grad!, gbias: bias.grad! };
    },
  },
  // The GEMM family (workgroup memory, barriers), forced on the software adapters of both runtimes.
  'conv3d (GEMM kernels)': { kernels: 'gpu', build: (lib) => opCases.conv3d!.build(lib) },
  'convTranspose3d (GEMM kernels)': { kernels: 'gpu', build: (lib) => opCases.convTranspose3d!.build(lib) },
  convTranspose3d: {
    build(lib) {
      const x = input(lib, [1, 3, 2, 3, 2], { grad: true });
      const w = input(lib, [3, 2, 2, 2, 2], { grad: true });
      const bias = input(lib, [2], { grad: true });
      const up = lib.convTranspose3d(x, w, bias, { stride: 2 });
      backwardWeighted(lib, up);
      // Rows of 4 and 8: the block path's vec4 scatter (the one above stores element by element).
      const upAligned = lib.convTranspose3d(input(lib, [1, 2, 1, 2, 4]), input(lib, [2, 3, 2, 2, 2]), null, { stride: 2 });
      return { up, upAligned, gx: x.grad!, gw: w.grad!, gbias: bias.grad! };
    },
  },
  prelu: {
    build(lib) {
      const x = input(lib, [2, 3, 2, 3, 2], { grad: true });
      const alpha = input(lib, [3], { lo: 0, hi: 0.5, grad: true });
      const y = lib.prelu(x, alpha);
      backwardWeighted(lib, y);
      return { y, gx: x.grad!, galpha: alpha.grad! };
    },
  },
  softmax: {
    build(lib) {
      const x = input(lib, [2, 3, 2, 2, 3], { lo: -3, hi: 3, grad: true });
      const p = lib.softmax(x, 1);
      const lp = lib.logSoftmax(x, 1);
      backwardWeighted(lib, lib.add(p, lp));
      return { p, lp, gx: x.grad! };
    },
  },
  diceLoss: {
    build(lib) {
      const logits = input(lib, [2, 2, 3, 4, 3], { lo: -2, hi: 2, grad: true });
      const loss = lib.diceLoss(lib.softmax(logits, 1), labels(lib, [2, 3, 4, 3]));
      loss.backward();
      return { loss, glogits: logits.grad! };
    },
  },
};

/** Runs one case and reads its tensors back; frees every tensor it made. */
let kernels: OpCase['kernels'];

export async function runOpCase(lib: Lib, name: string): Promise<CaseResult> {
  const c = opCases[name];
  if (!c) return { error: `no op case '${name}'` };
  if (c.kernels !== kernels) {
    kernels = c.kernels;
    await lib.init({ kernels: kernels ?? 'auto' });
  }
  // Seeds restart per case, so a case's inputs do not depend on which cases ran before it.
  seed = 1000 + Object.keys(opCases).indexOf(name) * 100;
  try {
    const before = lib.getContext().memory().bytesInUse;
    const tensors = lib.tidy(() => c.build(lib));
    const outputs: Outputs = {};
    for (const [k, t] of Object.entries(tensors)) {
      outputs[k] = Array.from(await t.toArray());
      t.dispose();
    }
    return { outputs, leakedBytes: lib.getContext().memory().bytesInUse - before };
  } catch (e) {
    return { error: (e as Error).stack ?? String(e) };
  }
}
