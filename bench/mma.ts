// npx tsx bench/mma.ts [--quick] [--stages 1,2,3,4,5]
// The tensor-core conv core (src/ops/conv/tensor-core.ts, issue #22) on an adapter with subgroup
// matrices, in one run: the adapter's limits and features; every tile's forward, input gradient
// (stride 1, and stride 2 as phases) and weight gradient against float64 on f16-exact inputs (exact
// products, so only f32 rounding of the sums separates them); then each 5³ stage of the paper's V-Net
// at 128×128×64 (16 channels at 64×128×128 down to 256 at 4×8×8), forward, dx and dw, and each
// stage's 2³/2 down-convolution (forward, dx, dw) and up-convolution (convTranspose3d's forward),
// timed per variant: the fp32 GEMM and the tensor-core core (its default, then every tile that suits
// N), in GPU time where the device has timestamp queries, with the layout passes and split-K sums
// included; and per 5³ stage the forward with V-Net's residual + PReLU fused into its writes against
// the conv then the PReLU kernel. The strided transposed passes' figures (dx of the down-convolutions,
// the up-convolutions) and the fused epilogue's are untested on a GPU so far.
import { Command } from 'commander';
import { init } from '../src/init.js';
import { randn, tensor } from '../src/index.js';
import type { Tensor } from '../src/core/tensor.js';
import { preluAfter, type ConvPass } from '../src/ops/conv/family.js';
import { gemmFamily } from '../src/ops/conv/gemm.js';
import { convolve, convolvePrelu, weightGrad, type ConvVariant } from '../src/ops/conv/path.js';
import { conv3dShape } from '../src/ops/conv/shape.js';
import { tensorCoreFamily, tensorCoreFits, tensorCoreTiles, tileProblem } from '../src/ops/conv/tensor-core.js';
import { shapeSize } from '../src/core/shape.js';
import { conv3dGradRef, conv3dOutShape, conv3dRef, type ConvCase } from '../test/reference/conv.js';
import { benchKernelSources } from './generated/kernels.js';
import { convFlops, type Dims3 } from './lib/flops.js';
import { timeGpu } from './lib/timing.js';

const opts = new Command()
  .option('--quick', 'fewer samples per case')
  .option('--stages <list>', 'which 5³ stages to time (1 = 16 channels at 64×128×128; none: no timing)', '1,2,3,4,5')
  .option('--no-fragments', 'skip the fragment-load micro-bench')
  .option('--emulated', 'fp32 context: the new core runs emulated (a smoke run on an adapter without tensor cores)')
  .parse()
  .opts<{ quick?: boolean; stages: string; emulated?: boolean; fragments: boolean }>();

const ctx = await init({ precision: opts.emulated ? 'fp32' : 'mixed', kernels: 'gpu', tuningCache: false });
const d = ctx.describe();
console.log(
  `adapter: ${d.adapter} (${d.backend}), precision ${d.precision}, features ${d.features.join(', ')}, tensor cores ` +
    `${d.tensorCores.join(', ')}`,
);
console.log(
  `limits: ${Object.entries(d.limits)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`,
);

/** Values exact in f16: k / 256 for integers |k| ≤ 384, from a small LCG. */
function halfs(n: number, seed: number): Float64Array {
  let s = seed >>> 0 || 1;
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.round((s / 2 ** 32 - 0.5) * 768) / 256;
  });
}

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / (scale || 1);
}

const checks: Record<string, ConvCase> = {
  '3³ pad 1, 5→20, 2×5×6×7': {
    xShape: [2, 5, 5, 6, 7],
    wShape: [20, 5, 3, 3, 3],
    stride: [1, 1, 1],
    padding: [1, 1, 1],
    dilation: [1, 1, 1],
  },
  '5³ pad 2, 16→128, 8×8×8': {
    xShape: [1, 16, 8, 8, 8],
    wShape: [128, 16, 5, 5, 5],
    stride: [1, 1, 1],
    padding: [2, 2, 2],
    dilation: [1, 1, 1],
  },
  '3³ stride 2, 24→40, 9×10×8': {
    xShape: [1, 24, 9, 10, 8],
    wShape: [40, 24, 3, 3, 3],
    stride: [2, 2, 2],
    padding: [1, 1, 1],
    dilation: [1, 1, 1],
  },
  // V-Net's down-convolution; its dx is the up-convolution's pass (8 phases of one tap).
  '2³ stride 2, 32→64, 8×8×16': {
    xShape: [1, 32, 8, 8, 16],
    wShape: [64, 32, 2, 2, 2],
    stride: [2, 2, 2],
    padding: [0, 0, 0],
    dilation: [1, 1, 1],
  },
};

console.log('\ncorrectness (max |error| / max |reference|, f16-exact inputs; tolerance 1e-6)');
/** Each check's inputs and float64 results, computed once for every tile. */
const prepared = Object.entries(checks).map(([name, c]) => {
  const x = halfs(shapeSize(c.xShape), 1);
  const w = halfs(shapeSize(c.wShape), 2);
  const b = halfs(c.wShape[0], 3);
  const outShape = conv3dOutShape(c);
  const g = halfs(shapeSize(outShape), 4);
  const grads = conv3dGradRef(c, x, w, g);
  return { name, c, x, w, b, g, outShape, forward: conv3dRef(c, x, w, b), dx: grads.x, dw: grads.weight };
});
let failures = 0;
for (const t of tensorCoreTiles) {
  const problem = tileProblem(t, ctx);
  if (problem) {
    console.log(`  ${t.name}: skipped, ${problem}`);
    continue;
  }
  const cells: string[] = [];
  for (const { name, c, x, w, b, g, outShape, forward, dx, dw } of prepared) {
    const [xt, wt] = [tensor(x, c.xShape), tensor(w, c.wShape)];
    const { geometry } = conv3dShape(xt, wt, null, c);
    const pass = {
      op: 'conv3d',
      src: xt,
      weight: wt,
      bias: tensor(b, [c.wShape[0]]),
      outSpatial: outShape.slice(2),
      geometry,
      transposed: false,
    };
    try {
      const fwd = maxRel(await convolve(pass, t).toArray(), forward);
      let cell = `${name}: fwd ${fwd.toExponential(1)}`;
      if (fwd > 1e-6) failures++;
      const e = maxRel(
        await convolve({ ...pass, src: tensor(g, outShape), bias: null, outSpatial: c.xShape.slice(2), transposed: true }, t).toArray(),
        dx,
      );
      cell += ` dx ${e.toExponential(1)}`;
      if (e > 1e-6) failures++;
      const ew = maxRel(await weightGrad({ op: 'conv3d', lhs: tensor(g, outShape), src: xt, geometry }, t).toArray(), dw);
      cell += ` dw ${ew.toExponential(1)}`;
      if (ew > 1e-6) failures++;
      cells.push(cell);
    } catch (e) {
      failures++;
      cells.push(`${name}: FAILED ${(e as Error).message.split('\n')[0]}`);
      await ctx.sync().catch(() => undefined);
    }
  }
  console.log(`  ${t.name}: ${cells.join('; ')}`);
}
console.log(failures ? `correctness: ${failures} FAILED` : 'correctness: all within 1e-6');

/**
 * Fragment loads (bench/kernels/bench_fragment_loads.wgsl): from workgroup memory with 64- and
 * 80-byte rows and straight from storage, each load feeding one 16×16×16 product, timed on the wall
 * clock over 20 dispatches (the device's raw API: the context cannot reflect a subgroup-matrix kernel).
 */
async function fragmentLoads(): Promise<void> {
  const device = ctx.device;
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: 'bench_fragment_loads', code: benchKernelSources.bench_fragment_loads! });
  const compiled = await module.getCompilationInfo();
  const errors = compiled.messages.filter((m) => m.type === 'error');
  if (errors.length) {
    console.log(`fragment loads: the kernel does not compile: ${errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ')}`);
    await device.popErrorScope();
    return;
  }
  const [groups, iters, reps] = [132 * 16, 1024, 20];
  const frags = device.createBuffer({ size: 8 * 256 * 48 * 2, usage: GPUBufferUsage.STORAGE });
  const sums = device.createBuffer({ size: groups * 4 * 256 * 4, usage: GPUBufferUsage.STORAGE });
  for (const [entry, stride] of [
    ['fromWorkgroup', 32],
    ['fromWorkgroup', 40],
    ['fromStorage', 32],
    ['fromStorage', 40],
  ] as const) {
    const pipeline = device.createComputePipeline({
      layout: 'auto',
      compute: { module, entryPoint: entry, constants: { STRIDE: stride, ITERS: iters } },
    });
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: frags } },
        { binding: 1, resource: { buffer: sums } },
      ],
    });
    const submit = (n: number): void => {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      for (let i = 0; i < n; i++) pass.dispatchWorkgroups(groups);
      pass.end();
      device.queue.submit([encoder.finish()]);
    };
    submit(1);
    await device.queue.onSubmittedWorkDone();
    const t0 = performance.now();
    submit(reps);
    await device.queue.onSubmittedWorkDone();
    const ms = (performance.now() - t0) / reps;
    const products = groups * 4 * iters * 4;
    console.log(
      `  ${entry} rows of ${stride} halfs: ${((2 * products) / ms / 1e6).toFixed(0)} G fragment loads/s, ` +
        `${((products * 2 * 4096) / ms / 1e9).toFixed(1)} TFLOP/s (${ms.toFixed(3)} ms a dispatch)`,
    );
  }
  const error = await device.popErrorScope();
  if (error) console.log(`fragment loads: ${error.message}`);
  frags.destroy();
  sums.destroy();
}

if (opts.fragments && !opts.emulated) {
  console.log('\nfragment loads (each feeding one 16×16×16 product)');
  await fragmentLoads();
}

const stages: { channels: number; size: Dims3 }[] = [
  { channels: 16, size: [64, 128, 128] },
  { channels: 32, size: [32, 64, 64] },
  { channels: 64, size: [16, 32, 32] },
  { channels: 128, size: [8, 16, 16] },
  { channels: 256, size: [4, 8, 8] },
];
const timing = opts.quick
  ? { warmup: 1, minSamples: 3, maxSamples: 5, budgetMs: 300 }
  : { warmup: 2, minSamples: 5, maxSamples: 15, budgetMs: 1500 };

/** TFLOP/s of one variant on a pass (the GPU's time where timestamps exist, else wall-clock). */
async function measure(flops: number, run: () => Tensor): Promise<string> {
  try {
    const t = await timeGpu(ctx, () => run().dispose(), timing);
    const ms = t.gpuMs ?? t.medianMs;
    return `${(flops / ms / 1e9).toFixed(1)} TFLOP/s (${ms.toFixed(3)} ms)`;
  } catch (e) {
    await ctx.sync().catch(() => undefined);
    return `FAILED ${(e as Error).message.split('\n')[0]}`;
  }
}

/** Times a pass as the fp32 GEMM, the tensor-core core's default and every other tile that suits N (not only autotune's candidates). */
async function timeVariants(name: string, pass: ConvPass, flops: number): Promise<void> {
  const variants: [string, ConvVariant][] = [['fp32 gemm', gemmFamily.default(pass, ctx)]];
  const first = tensorCoreFamily.default(pass, ctx);
  const N = pass.kind === 'convolve' ? pass.weight.shape[pass.transposed ? 1 : 0]! : pass.lhs.shape[1]!;
  for (const t of [first, ...tensorCoreTiles.filter((t) => t !== first && tensorCoreFits(t, N, ctx))])
    variants.push([`tensor cores ${t === first ? 'default ' : ''}${t.name}`, t]);
  for (const [label, v] of variants) {
    const run = (): Tensor => (pass.kind === 'convolve' ? convolve(pass, v) : weightGrad(pass, v));
    console.log(`  ${name} ${label} (${v.name}): ${await measure(flops, run)}`);
  }
}

console.log('\n5³ stages of the V-Net at 128×128×64, padding 2, C → C, batch 1');
for (const i of opts.stages === 'none' ? [] : opts.stages.split(',').map(Number)) {
  const { channels: C, size } = stages[i - 1]!;
  const x = randn([1, C, ...size], { seed: 1 });
  const w = randn([C, C, 5, 5, 5], { seed: 2 });
  const b = randn([C], { seed: 3 });
  const dy = randn([1, C, ...size], { seed: 4 });
  const { geometry } = conv3dShape(x, w, b, { padding: 2 });
  const flops = convFlops(1, C, C, size, 5);
  const forward: ConvPass = { kind: 'convolve', op: 'conv3d', src: x, weight: w, bias: b, outSpatial: size, geometry, transposed: false };
  const dx: ConvPass = { kind: 'convolve', op: 'conv3d', src: dy, weight: w, bias: null, outSpatial: size, geometry, transposed: true };
  const dw: ConvPass = { kind: 'weightGrad', op: 'conv3d', lhs: dy, src: x, geometry };
  console.log(`stage ${i}: ${C} channels at ${size.join('×')}, ${(flops / 1e9).toFixed(1)} GFLOP a pass`);
  for (const [name, pass] of [
    ['forward', forward],
    ['dx', dx],
    ['dw', dw],
  ] as const) {
    await timeVariants(name, pass, flops);
  }
  // The end of a residual stage: the forward then PReLU(+ residual), fused into the writes (inference, and keeping
  // the PReLU's input for a backward) against the conv then the PReLU kernel.
  const alpha = randn([C], { seed: 5 });
  const ends: [string, () => Tensor][] = [
    ['conv then addPrelu', () => preluAfter('conv3dPrelu', convolve(forward), { alpha, residual: dy, keepInput: false }).out],
    ['fused', () => convolvePrelu(forward, { alpha, residual: dy, keepInput: false }).out],
    [
      'fused, input kept',
      () => {
        const r = convolvePrelu(forward, { alpha, residual: dy, keepInput: true });
        r.input?.x.dispose();
        return r.out;
      },
    ],
  ];
  for (const [label, run] of ends) console.log(`  forward + residual + PReLU, ${label}: ${await measure(flops, run)}`);
  for (const t of [x, w, b, dy, alpha]) t.dispose();
}

console.log('\n2³/2 down- and up-convolutions of the V-Net at 128×128×64, C → 2C at half the size and back, batch 1');
for (const i of opts.stages === 'none' ? [] : opts.stages.split(',').map(Number)) {
  const { channels: C, size } = stages[i - 1]!;
  const half = size.map((s) => s / 2) as unknown as Dims3;
  const x = randn([1, C, ...size], { seed: 1 });
  const w = randn([2 * C, C, 2, 2, 2], { seed: 2 });
  const dy = randn([1, 2 * C, ...half], { seed: 4 });
  const { geometry } = conv3dShape(x, w, null, { stride: 2 });
  const flops = convFlops(1, C, 2 * C, half, 2);
  const down: ConvPass = { kind: 'convolve', op: 'conv3d', src: x, weight: w, bias: null, outSpatial: half, geometry, transposed: false };
  // The up-convolution 2C → C is the same transposed pass as the down-convolution's dx.
  const up: ConvPass = { kind: 'convolve', op: 'conv3d', src: dy, weight: w, bias: null, outSpatial: size, geometry, transposed: true };
  const dw: ConvPass = { kind: 'weightGrad', op: 'conv3d', lhs: dy, src: x, geometry };
  console.log(`stage ${i}: ${C} ↔ ${2 * C} channels, ${size.join('×')} ↔ ${half.join('×')}, ${(flops / 1e9).toFixed(2)} GFLOP a pass`);
  for (const [name, pass] of [
    ['down forward', down],
    ['up forward = down dx', up],
    ['down dw', dw],
  ] as const)
    await timeVariants(name, pass, flops);
  for (const t of [x, w, dy]) t.dispose();
}
ctx.destroy();
