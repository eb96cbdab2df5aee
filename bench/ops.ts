// Every V-Net kernel at V-Net's shapes, forward and backward. Backward cases time the op's own
// backward function (the GradNode that the forward recorded), called again and again on one saved
// graph: the kernels of that op alone, without the rest of autograd (seeding, accumulation).
// Which gradients it computes follows requiresGrad: "dx" marks only the input, "dw" only the
// weight (and bias), "dx+dw" both, as in a training step.
import type { Context } from '../src/device/context.js';
import { noGrad } from '../src/core/autograd.js';
import { randn, ones } from '../src/ops/creation.js';
import { addPrelu } from '../src/ops/add-prelu.js';
import { add } from '../src/ops/binary.js';
import { concat } from '../src/ops/concat.js';
import { empty, tensor, type Tensor } from '../src/core/tensor.js';
import { conv3d } from '../src/ops/conv/conv3d.js';
import { convTranspose3d } from '../src/ops/conv/conv-transpose3d.js';
import { crossEntropy } from '../src/ops/cross-entropy.js';
import { diceLoss } from '../src/ops/dice-loss.js';
import { prelu } from '../src/ops/prelu.js';
import { softmax } from '../src/ops/softmax.js';
import { bytesOf, convFlops, fmtDims, vox, type Dims3 } from './lib/flops.js';
import { rates, SkippedCase, timed, type Ceiling, type Row } from './lib/report.js';
import { recordDispatches } from './lib/recorder.js';
import { timeGpu, type TimingOptions } from './lib/timing.js';
import { foreignLoad, mark } from './lib/load.js';

/**
 * A prepared case: `compute` records the work once and returns its outputs (the caller disposes
 * them: the timing loop at once, the tuning sweep after comparing them); `dispose` frees what
 * `prepare` made.
 */
export interface Prepared {
  compute: () => Tensor[];
  dispose: () => void;
}

/** Records a case and frees its outputs right away (the pool reuses them only for later work). */
export const runOf = (p: Prepared) => (): void => disposeAll(...p.compute());

/** What a conv case computes, for the tuning sweep. */
export interface ConvMeta {
  op: 'conv3d' | 'convTranspose3d';
  pass: 'forward' | Grads;
  cin: number;
  cout: number;
  size: Dims3;
  k: number;
  stride: number;
}

export interface OpCase {
  name: string;
  shape: string;
  flops: number;
  bytes: number;
  prepare: () => Promise<Prepared>;
  conv?: ConvMeta;
  /** Overrides of the section's timing options (the naive kernel runs for seconds). */
  timing?: TimingOptions;
}

export interface Stage {
  channels: number;
  size: Dims3;
}

export interface OpConfig {
  /** Widths and sizes of the V-Net levels benchmarked, top (largest) first. */
  stages: Stage[];
  kernelSize: number;
  numClasses: number;
}

let seed = 1000;
const rnd = (shape: readonly number[], requiresGrad = false): Tensor => randn(shape, { seed: seed++, requiresGrad });

/**
 * V-Net's labels: [1, D, H, W] class indices, a centred ellipsoid of class 1 (~11 % of the
 * volume; the prostate is a few %) in class 0.
 */
export function ballLabels(size: Dims3): Tensor {
  const [d, h, w] = size;
  const data = new Float32Array(vox(size));
  let i = 0;
  for (let z = 0; z < d; z++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++, i++) data[i] = ((z - d / 2) / d) ** 2 + ((y - h / 2) / h) ** 2 + ((x - w / 2) / w) ** 2 < 0.09 ? 1 : 0;
  return tensor(data, [1, ...size]);
}

const disposeAll = (...ts: (Tensor | null | undefined)[]) => {
  for (const t of ts) t?.dispose();
};

/** Forward under noGrad. */
function forwardCase(make: () => Tensor, inputs: Tensor[]): Prepared {
  return {
    compute: () => noGrad(() => [make()]),
    dispose: () => disposeAll(...inputs),
  };
}

/** Records the forward once with grad, then replays its backward node with a fixed upstream gradient. */
function backwardCase(make: () => Tensor, inputs: Tensor[]): Prepared {
  const out = make();
  const node = out.node;
  if (!node) throw new Error('the forward recorded no backward (no input requires grad?)');
  const g = out.size === 1 ? ones(out.shape) : rnd(out.shape);
  return {
    compute: () => noGrad(() => node.backward(g).filter((t): t is Tensor => t !== null)),
    dispose: () => {
      disposeAll(...node.internals);
      disposeAll(out, g, ...inputs);
    },
  };
}

type Grads = 'dx' | 'dw' | 'dx+dw';

function convCases(
  ops: 'conv3d' | 'convTranspose3d',
  label: string,
  n: number,
  cin: number,
  cout: number,
  inSize: Dims3,
  k: number,
  stride: number,
  padding: number,
): OpCase[] {
  const transposed = ops === 'convTranspose3d';
  const outSize: Dims3 = transposed
    ? (inSize.map((s) => (s - 1) * stride - 2 * padding + k) as unknown as Dims3)
    : (inSize.map((s) => Math.floor((s + 2 * padding - k) / stride) + 1) as unknown as Dims3);
  const wShape = transposed ? [cin, cout, k, k, k] : [cout, cin, k, k, k];
  const flops = convFlops(n, cin, cout, transposed ? inSize : outSize, k);
  const xs = n * cin * vox(inSize);
  const ys = n * cout * vox(outSize);
  const ws = cin * cout * k ** 3;
  const shape = `${cin}→${cout} @ ${fmtDims(inSize)}${transposed || stride > 1 ? `→${fmtDims(outSize)}` : ''}`;
  const make = async (grads: Grads | null) => {
    const op = transposed ? convTranspose3d : conv3d;
    const x = rnd([n, cin, ...inSize], grads === 'dx' || grads === 'dx+dw');
    const w = rnd(wShape, grads === 'dw' || grads === 'dx+dw');
    const b = rnd([cout], grads === 'dw' || grads === 'dx+dw');
    const f = () => op(x, w, b, { stride, padding });
    return grads === null ? forwardCase(f, [x, w, b]) : backwardCase(f, [x, w, b]);
  };
  const bytes: Record<Grads | 'forward', number> = {
    forward: bytesOf(xs, ws, cout, ys),
    dx: bytesOf(ys, ws, xs),
    dw: bytesOf(ys, xs, ws, cout),
    'dx+dw': bytesOf(ys, xs, ws, xs, ws, cout),
  };
  const conv = (pass: ConvMeta['pass']): ConvMeta => ({ op: ops, pass, cin, cout, size: inSize, k, stride });
  return [
    { name: `${label} forward`, shape, flops, bytes: bytes.forward, prepare: () => make(null), conv: conv('forward') },
    { name: `${label} backward dx`, shape, flops, bytes: bytes.dx, prepare: () => make('dx'), conv: conv('dx') },
    { name: `${label} backward dw`, shape, flops, bytes: bytes.dw, prepare: () => make('dw'), conv: conv('dw') },
    { name: `${label} backward dx+dw`, shape, flops: 2 * flops, bytes: bytes['dx+dw'], prepare: () => make('dx+dw'), conv: conv('dx+dw') },
  ];
}

/** Above this a naive run takes minutes on a CPU; the row says so instead. */
const naiveMaxFlops = 2e10;

function naiveConvCase(n: number, ch: number, size: Dims3, k: number): OpCase {
  const flops = convFlops(n, ch, ch, size, k);
  const xs = n * ch * vox(size);
  return {
    name: `naive conv3d ${k}³ forward`,
    shape: `${ch}→${ch} @ ${fmtDims(size)}`,
    flops,
    bytes: bytesOf(xs, ch * ch * k ** 3, ch, xs),
    timing: { minSamples: 2, maxSamples: 3, budgetMs: 0 },
    prepare: async () => {
      if (n !== 1) throw new SkippedCase('the naive reference kernel handles batch 1 only');
      if (flops > naiveMaxFlops) throw new SkippedCase(`naive reference not run above ${naiveMaxFlops / 1e9} GFLOP (too slow)`);
      const x = rnd([1, ch, ...size]);
      const w = rnd([ch, ch, k, k, k]);
      const b = rnd([ch]);
      const ctx = x.ctx;
      return {
        compute: () =>
          noGrad(() => {
            const out = empty([1, ch, ...size]);
            ctx.dispatch({
              op: 'bench.naiveConv',
              kernel: 'bench_naive_conv',
              entry: 'forward',
              bindings: { x, weight: w, bias: b, out },
              params: { cin: ch, cout: ch, k, pad: (k - 1) / 2, d: size[0], h: size[1], w: size[2], n: out.size },
              invocations: out.size,
            });
            return [out];
          }),
        dispose: () => disposeAll(x, w, b),
      };
    },
  };
}

/** Notes on each conv forward row how many times faster it is than the naive kernel at that shape. */
export function compareToNaive(rows: Row[]): void {
  for (const naive of rows.filter((r) => r.name.startsWith('naive ') && r.status === 'ok')) {
    const real = rows.find((r) => r.name === naive.name.slice('naive '.length) && r.shape === naive.shape && r.status === 'ok');
    if (!real) continue;
    const speedup = naive.medianMs! / real.medianMs!;
    real.extra = { ...real.extra, speedupVsNaive: speedup };
    real.note = [real.note, `${speedup.toFixed(1)}× naive`].filter(Boolean).join('; ');
  }
}

function pairCases(
  label: string,
  shape: string,
  fwd: { flops: number; bytes: number },
  bwd: { flops: number; bytes: number },
  build: (grad: boolean) => Promise<{ make: () => Tensor; inputs: Tensor[] }>,
): OpCase[] {
  return [
    {
      name: `${label} forward`,
      shape,
      ...fwd,
      prepare: async () => {
        const b = await build(false);
        return forwardCase(b.make, b.inputs);
      },
    },
    {
      name: `${label} backward`,
      shape,
      ...bwd,
      prepare: async () => {
        const b = await build(true);
        return backwardCase(b.make, b.inputs);
      },
    },
  ];
}

export function opCases(c: OpConfig, n = 1): OpCase[] {
  const cases: OpCase[] = [];
  const k = c.kernelSize;
  const last = c.stages.length - 1;
  // The stage convolutions: k³, 'same' padding, C→C at each level.
  for (const s of c.stages) cases.push(...convCases('conv3d', `conv3d ${k}³`, n, s.channels, s.channels, s.size, k, 1, (k - 1) / 2));
  // The issue's baseline: one output per invocation (bench/kernels/bench_naive_conv.wgsl), forward only.
  for (const s of c.stages) cases.push(naiveConvCase(n, s.channels, s.size, k));
  // Down: 2³ stride 2 from each level to the next.
  for (let l = 0; l < last; l++) {
    const s = c.stages[l]!;
    cases.push(...convCases('conv3d', 'down conv 2³/2', n, s.channels, c.stages[l + 1]!.channels, s.size, 2, 2, 0));
  }
  // Up: transposed 2³ stride 2; V-Net's decoder feeds it width(l+1) at the bottom, 2·width(l+1) above.
  for (let l = last - 1; l >= 0; l--) {
    const below = c.stages[l + 1]!;
    const cin = l === last - 1 ? below.channels : 2 * below.channels;
    cases.push(...convCases('convTranspose3d', 'up convT 2³/2', n, cin, c.stages[l]!.channels, below.size, 2, 2, 0));
  }
  const top = c.stages[0]!;
  const bottom = c.stages[last]!;
  for (const s of [top, bottom]) {
    const size = n * s.channels * vox(s.size);
    const shape = `${s.channels} ch @ ${fmtDims(s.size)}`;
    cases.push(
      ...pairCases(
        'prelu',
        shape,
        { flops: 2 * size, bytes: bytesOf(size, s.channels, size) },
        { flops: 4 * size, bytes: bytesOf(size, size, s.channels, size, s.channels) },
        async (grad) => {
          const x = rnd([n, s.channels, ...s.size], grad);
          const alpha = rnd([s.channels], grad);
          return { make: () => prelu(x, alpha), inputs: [x, alpha] };
        },
      ),
    );
  }
  // Residual add and skip concat: existing glue ops, memory-bound references.
  {
    const size = n * top.channels * vox(top.size);
    const shape = `${top.channels} ch @ ${fmtDims(top.size)}`;
    cases.push({
      name: 'residual add forward',
      shape,
      flops: size,
      bytes: bytesOf(size, size, size),
      prepare: async () => {
        const a = rnd([n, top.channels, ...top.size]);
        const b = rnd([n, top.channels, ...top.size]);
        return forwardCase(() => add(a, b), [a, b]);
      },
    });
    // The end of a residual stage, prelu(h + residual), fused (add-prelu.ts).
    cases.push(
      ...pairCases(
        'residual add + prelu',
        shape,
        { flops: 3 * size, bytes: bytesOf(size, size, top.channels, size) },
        { flops: 5 * size, bytes: bytesOf(size, size, size, top.channels, size, top.channels) },
        async (grad) => {
          const h = rnd([n, top.channels, ...top.size], grad);
          const r = rnd([n, top.channels, ...top.size], grad);
          const alpha = rnd([top.channels], grad);
          return { make: () => addPrelu(h, r, alpha), inputs: [h, r, alpha] };
        },
      ),
    );
    cases.push(
      ...pairCases(
        'skip concat',
        `2 × ${shape}`,
        { flops: 0, bytes: bytesOf(size, size, 2 * size) },
        { flops: 0, bytes: bytesOf(2 * size, 2 * size) },
        async (grad) => {
          const a = rnd([n, top.channels, ...top.size], grad);
          const b = rnd([n, top.channels, ...top.size], grad);
          return { make: () => concat([a, b], 1), inputs: [a, b] };
        },
      ),
    );
  }
  // Output: softmax over classes, Dice and cross-entropy against labels, at full resolution.
  const v = n * vox(top.size);
  const cls = c.numClasses;
  const headShape = `${cls} classes @ ${fmtDims(top.size)}`;
  cases.push(
    ...pairCases(
      'softmax (dim 1)',
      headShape,
      { flops: 4 * cls * v, bytes: bytesOf(cls * v, cls * v) },
      { flops: 4 * cls * v, bytes: bytesOf(cls * v, cls * v, cls * v) },
      async (grad) => {
        const x = rnd([n, cls, ...top.size], grad);
        return { make: () => softmax(x, 1), inputs: [x] };
      },
    ),
    ...pairCases(
      'dice loss',
      headShape,
      { flops: 3 * cls * v, bytes: bytesOf(cls * v, v, 1) },
      { flops: 3 * cls * v, bytes: bytesOf(cls * v, v, 1, cls * v) },
      async (grad) => {
        const x = rnd([n, cls, ...top.size], grad);
        const y = ballLabels(top.size);
        return { make: () => diceLoss(x, y), inputs: [x, y] };
      },
    ),
    // Softmax and Dice as one loss on the logits (the training step's loss).
    ...pairCases(
      'dice loss (softmax)',
      headShape,
      { flops: 7 * cls * v, bytes: bytesOf(cls * v, cls * v, cls * v, v, 1) },
      { flops: 6 * cls * v, bytes: bytesOf(cls * v, v, 1, cls * v) },
      async (grad) => {
        const x = rnd([n, cls, ...top.size], grad);
        const y = ballLabels(top.size);
        return { make: () => diceLoss(x, y, { softmax: true }), inputs: [x, y] };
      },
    ),
    ...pairCases(
      'cross-entropy',
      headShape,
      { flops: 4 * cls * v, bytes: bytesOf(cls * v, v, 1) },
      { flops: 4 * cls * v, bytes: bytesOf(cls * v, v, 1, cls * v) },
      async (grad) => {
        const x = rnd([n, cls, ...top.size], grad);
        const y = ballLabels(top.size);
        return { make: () => crossEntropy(x, y), inputs: [x, y] };
      },
    ),
  );
  return cases;
}

/** Times one case; a missing op gives a skipped row, an error a failed row (the run goes on). */
export async function runCase(ctx: Context, c: OpCase, ceiling: Ceiling | null, timing: TimingOptions): Promise<Row> {
  const row: Row = { section: 'op', name: c.name, shape: c.shape, status: 'ok', flops: c.flops || undefined, bytes: c.bytes };
  let prepared: Prepared | null = null;
  try {
    prepared = await c.prepare();
    const run = runOf(prepared);
    const seen = recordDispatches(ctx, run);
    await ctx.sync();
    row.kernels = seen.kernels;
    row.dispatches = seen.dispatches;
    const m = mark();
    const t = await timeGpu(ctx, run, { ...timing, ...c.timing });
    rates(timed(row, t, foreignLoad(m)), ceiling);
  } catch (e) {
    row.status = e instanceof SkippedCase ? 'skipped' : 'failed';
    row.note = e instanceof SkippedCase ? e.message : `${(e as Error).message.split('\n')[0]}`;
    // A failed case may leave work or errors queued; drain them so the next case starts clean.
    await ctx.sync().catch(() => undefined);
  } finally {
    try {
      prepared?.dispose();
    } catch {
      // already disposed by the failure
    }
  }
  return row;
}
