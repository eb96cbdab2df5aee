// The paper's augmentation per 128×128×64 sample on the CPU (augment.ts) and the GPU (augment-gpu.ts),
// and training throughput (samples/s) with no augmentation, GPU augmentation and CPU augmentation: the
// example's configuration always, the paper's with --full (a step takes minutes on a software adapter).
import type { Context } from '../src/device/context.js';
import { bsplineField, matchHistogram, randomControlGrid, warp, type DeformationOptions } from '../src/data/augment.js';
import { bsplineFieldGpu, histogramGpu, matchHistogramGpu, warpGpu } from '../src/data/augment-gpu.js';
import { augmentedBatches } from '../src/data/batches-gpu.js';
import type { BatchOptions, PreparedCase } from '../src/data/loader.js';
import { zscore } from '../src/data/intensity.js';
import { Rng } from '../src/data/random.js';
import { syntheticCase } from '../src/data/synthetic.js';
import type { Vec3 } from '../src/image/volume.js';
import { fit } from '../src/nn/fit.js';
import { VNet, type VNetOptions } from '../src/nn/vnet.js';
import { Adam } from '../src/optim/adam.js';
import { SGD } from '../src/optim/sgd.js';
import { empty, tensor } from '../src/core/tensor.js';
import { timed, type Row } from './lib/report.js';
import { median, summarize, timeGpu, type TimingOptions } from './lib/timing.js';
import { foreignLoad, mark } from './lib/load.js';

export interface AugmentBenchOptions {
  full: boolean;
  quick: boolean;
  log: (line: string) => void;
}

/** The paper's sample size and deformation (5³ control points, σ = 15 voxels). */
const sampleShape: Vec3 = [128, 128, 64];
const paperDeformation: DeformationOptions = { controlPoints: 5, sigma: 15 };

interface TrainingConfig {
  name: string;
  model: VNetOptions;
  size: Vec3;
  batchSize: number;
  deformation: DeformationOptions;
  optimizer: (model: VNet) => Adam | SGD;
  steps: { warmup: number; timed: number };
}

/** examples/train.ts's defaults, and `npm run train -- --full` (the paper). */
function trainingConfigs(o: AugmentBenchOptions): TrainingConfig[] {
  const example: TrainingConfig = {
    name: 'example (base 4, k 3, batch 2, Adam)',
    model: { baseChannels: 4, kernelSize: 3, seed: 1 },
    size: [32, 32, 32],
    batchSize: 2,
    deformation: { controlPoints: 5, sigma: 2 },
    optimizer: (m) => new Adam(m.parameters(), { lr: 1e-3 }),
    steps: o.quick ? { warmup: 2, timed: 4 } : { warmup: 3, timed: 15 },
  };
  const paper: TrainingConfig = {
    name: 'paper (base 16, k 5, batch 1, SGD)',
    model: { baseChannels: 16, kernelSize: 5, seed: 1 },
    size: sampleShape,
    batchSize: 1,
    deformation: paperDeformation,
    optimizer: (m) => new SGD(m.parameters(), { lr: 1e-4, momentum: 0.99 }),
    steps: o.quick ? { warmup: 1, timed: 1 } : { warmup: 2, timed: 5 },
  };
  return o.full ? [example, paper] : [example];
}

/** Synthetic cases prepared as a loader would (z-scored), `[x, y, z]` voxels. */
function syntheticCases(count: number, size: Vec3): PreparedCase[] {
  return Array.from({ length: count }, (_, i) => {
    const c = syntheticCase(7000 + i, [size[2], size[1], size[0]]);
    return { id: `s${i}`, image: zscore(c.image), label: c.label, shape: size };
  });
}

const fmtShape = (s: Vec3) => s.join('×');

async function perSample(ctx: Context, o: AugmentBenchOptions): Promise<Row[]> {
  const [source, partner] = syntheticCases(2, sampleShape);
  const rows: Row[] = [];
  const row = (name: string, note: string): Row => ({ section: 'augment', name, shape: fmtShape(sampleShape), status: 'ok', note });
  const samples = o.quick ? 2 : 5;

  // CPU: each stage timed on its own; a sample is their sum (the loader runs them back to back).
  const rng = new Rng(1);
  const m0 = mark();
  const stage = { match: [] as number[], field: [] as number[], warp: [] as number[] };
  for (let i = 0; i < samples; i++) {
    let t = performance.now();
    const matched = matchHistogram(source!.image, partner!.image);
    stage.match.push(performance.now() - t);
    t = performance.now();
    const field = bsplineField(sampleShape, randomControlGrid(rng, paperDeformation));
    stage.field.push(performance.now() - t);
    t = performance.now();
    warp(matched, sampleShape, field, 'linear');
    warp(source!.label, sampleShape, field, 'nearest');
    stage.warp.push(performance.now() - t);
  }
  const cpuTotals = stage.match.map((m, i) => m + stage.field[i]! + stage.warp[i]!);
  const cpu = timed(row('augmentation per sample, CPU', ''), summarize(cpuTotals, 1, NaN), foreignLoad(m0));
  cpu.note =
    `histogram matching ${median(stage.match).toFixed(0)} ms + B-spline field ${median(stage.field).toFixed(0)} ms + ` +
    `warp image and label ${median(stage.warp).toFixed(0)} ms (one thread)`;
  rows.push(cpu);
  o.log(`  CPU per sample: ${cpu.medianMs!.toFixed(1)} ms (${cpu.note})`);

  // GPU: as training runs it (the cases' histograms made once, at upload), and with both histograms
  // made per sample like the CPU path.
  const images = [source!, partner!].map((c) => tensor(c.image));
  const label = tensor(source!.label);
  const [nx, ny, nz] = sampleShape;
  const out = { image: empty([1, 1, nz, ny, nx]), label: empty([1, nz, ny, nx]), offset: 0 };
  const histograms = images.map((t) => histogramGpu(t));
  const gpuRng = new Rng(1);
  const timing: TimingOptions = o.quick
    ? { minSamples: 2, maxSamples: 3, budgetMs: 500, minSampleMs: 50 }
    : { minSamples: 5, maxSamples: 15, budgetMs: 3000, minSampleMs: 100 };
  const sampleOnGpu = (cached: boolean) => () => {
    const matched = cached ? matchHistogramGpu(histograms[0]!, histograms[1]!) : matchHistogramGpu(images[0]!, images[1]!);
    const field = bsplineFieldGpu(sampleShape, randomControlGrid(gpuRng, paperDeformation));
    warpGpu(matched, label, field, sampleShape, { into: out });
    matched.dispose();
    field.dispose();
  };
  for (const [cached, name, note] of [
    [true, 'augmentation per sample, GPU', 'as in training: match (cases’ histograms made once) + field + warp image and label'],
    [false, 'augmentation per sample, GPU, histograms per sample', 'both volumes’ histograms made per sample, like the CPU path'],
  ] as const) {
    const m = mark();
    const r = timed(row(name, note), await timeGpu(ctx, sampleOnGpu(cached), timing), foreignLoad(m));
    r.extra = { speedupOverCpu: cpu.medianMs! / r.medianMs! };
    r.note += `; ${(cpu.medianMs! / r.medianMs!).toFixed(1)}× the CPU path`;
    rows.push(r);
    o.log(`  ${name}: ${r.medianMs!.toFixed(1)} ms (${r.note})`);
  }
  for (const t of [...images, label, out.image, out.label, ...histograms]) t.dispose();
  return rows;
}

/**
 * Samples per second of fit() over `steps.timed` steps after `steps.warmup`. The losses are read every
 * `warmup` steps, so the clock starts on a read (the GPU idle) and ends on the last one.
 */
async function throughput(c: TrainingConfig, augment: 'none' | 'gpu' | 'cpu', cases: PreparedCase[]): Promise<number> {
  const model = new VNet(c.model);
  const optimizer = c.optimizer(model);
  const options: BatchOptions = {
    batchSize: c.batchSize,
    seed: 3,
    deformation: augment === 'none' ? false : c.deformation,
    histogramMatching: augment !== 'none',
  };
  const batches = augmentedBatches(cases, { ...options, augmentOn: augment === 'cpu' ? 'cpu' : 'gpu' });
  let start = 0;
  try {
    await fit(model, optimizer, batches, {
      iterations: c.steps.warmup + c.steps.timed,
      tune: false,
      lossEvery: c.steps.warmup,
      onIteration: (it) => {
        if (it === c.steps.warmup) start = performance.now();
      },
    });
  } finally {
    model.dispose();
    optimizer.dispose();
  }
  return (c.steps.timed * c.batchSize) / ((performance.now() - start) / 1000);
}

export async function augmentCases(ctx: Context, o: AugmentBenchOptions): Promise<Row[]> {
  const rows = await perSample(ctx, o);
  for (const c of trainingConfigs(o)) {
    const cases = syntheticCases(4, c.size);
    for (const augment of ['none', 'gpu', 'cpu'] as const) {
      const m = mark();
      const perSecond = await throughput(c, augment, cases);
      const msPerSample = 1000 / perSecond;
      const r: Row = {
        section: 'augment',
        name: `training, ${augment === 'none' ? 'no' : augment.toUpperCase()} augmentation`,
        shape: `${c.name} @ ${fmtShape(c.size)}`,
        status: 'ok',
        medianMs: msPerSample,
        samples: c.steps.timed,
        foreignLoad: foreignLoad(m),
        extra: { samplesPerSecond: perSecond },
        note: `${perSecond.toFixed(2)} samples/s (ms per sample in the time column; ${c.steps.timed} steps after ${c.steps.warmup})`,
      };
      rows.push(r);
      o.log(`  ${r.name}, ${r.shape}: ${r.note}`);
    }
  }
  return rows;
}
