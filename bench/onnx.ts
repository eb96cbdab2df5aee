// Imported ONNX graphs (issue #21): the fixture networks at benchmark widths (bench/onnx/*.onnx, graphs
// without weights, made by bench/onnx/make_bench_graphs.py) given seeded random weights, one inference
// pass through voxgpu's importer and through onnxruntime-node on the CPU of the same host; and voxgpu's
// own V-Net at the paper_vnet graph's configuration, so that the imported graph's cost per FLOP can be
// set beside the native network's (the llvmpipe target: the importer adds no overhead of its own).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { Context } from '../src/device/context.js';
import { noGrad } from '../src/core/autograd.js';
import { tidy } from '../src/core/memory.js';
import { randn } from '../src/ops/creation.js';
import { tensor } from '../src/core/tensor.js';
import { VNet } from '../src/nn/vnet.js';
import { importOnnx, type OnnxModule } from '../src/models/onnx/index.js';
import { floatTensor } from '../src/models/onnx/builder.js';
import { ModelProtoSchema, type ValueInfoProto } from '../src/models/onnx/generated/onnx/onnx_pb.js';
import { fmtDims, type Dims3 } from './lib/flops.js';
import { rates, timed, type Ceiling, type Row } from './lib/report.js';
import { maxAbsDiff } from '../test/helpers.js';
import { median, summarize, timeGpu, type TimingOptions } from './lib/timing.js';
import { foreignLoad, mark } from './lib/load.js';

const HERE = join(dirname(fileURLToPath(import.meta.url)), 'onnx');

interface GraphInfo {
  network: string;
  input: number[];
  opset: number;
  parameters: number;
  flops: number;
}

export function onnxGraphs(): Record<string, GraphInfo> {
  return JSON.parse(readFileSync(join(HERE, 'graphs.json'), 'utf8')) as Record<string, GraphInfo>;
}

/** A float stream in [0, 1) from a seed (mulberry32): the weights need only be fixed and of sane size. */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function dims(v: ValueInfoProto): number[] {
  const t = v.type?.value.case === 'tensorType' ? v.type.value.value : undefined;
  return (t?.shape?.dim ?? []).map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : 1));
}

/**
 * The graph's parameter inputs (all but the first) as initializers with random values: conv weights
 * uniform in ±1/√fan-in (PyTorch's init scale, so activations stay of order 1), running variances in
 * [0.5, 1.5), other vectors (biases, slopes, norm affines, running means) in [0.05, 0.5).
 */
export function withRandomWeights(bytes: Uint8Array, seed = 1): Uint8Array {
  const model = fromBinary(ModelProtoSchema, bytes);
  const graph = model.graph!;
  const next = uniform(seed);
  const [input, ...params] = graph.input;
  for (const p of params) {
    const shape = dims(p);
    const count = shape.reduce((a, d) => a * d, 1);
    const fanIn = shape.slice(1).reduce((a, d) => a * d, 1);
    const sample =
      shape.length > 1
        ? () => (2 * next() - 1) / Math.sqrt(fanIn)
        : p.name.includes('running_var')
          ? () => 0.5 + next()
          : () => 0.05 + 0.45 * next();
    graph.initializer.push(floatTensor(p.name, shape, Float32Array.from({ length: count }, sample)));
  }
  graph.input = [input!];
  return toBinary(ModelProtoSchema, create(ModelProtoSchema, model));
}

const paperVNet = {
  inChannels: 1,
  numClasses: 2,
  baseChannels: 16,
  kernelSize: 5,
  encoderConvs: [1, 2, 3, 3, 3],
  decoderConvs: [3, 3, 2, 1],
} as const;

export async function onnxCases(
  ctx: Context,
  names: string[],
  ceiling: Ceiling | null,
  timing: TimingOptions,
  log: (s: string) => void,
  options: { ort: boolean },
): Promise<Row[]> {
  const graphs = onnxGraphs();
  const rows: Row[] = [];
  const report = (row: Row) => {
    rows.push(row);
    const figures =
      row.status === 'ok' ? `${row.medianMs!.toFixed(1)} ms, ${row.gflops!.toFixed(1)} GFLOP/s` : `${row.status}: ${row.note}`;
    log(`  ${row.name} ${row.shape}: ${figures}${row.note && row.status === 'ok' ? `, ${row.note}` : ''}`);
  };
  for (const name of names) {
    const info = graphs[name];
    if (!info) throw new Error(`onnx bench: no graph '${name}' in bench/onnx/graphs.json (have ${Object.keys(graphs).join(', ')})`);
    const [, , d, h, w] = info.input;
    const size: Dims3 = [d!, h!, w!];
    const shape = `${info.network} @ ${fmtDims(size)}, ${(info.parameters / 1e6).toFixed(1)} M parameters`;
    const bytes = withRandomWeights(readFileSync(join(HERE, `${name}.onnx`)));
    const data = Float32Array.from({ length: info.input.reduce((a, d) => a * d, 1) }, uniform(7));

    const row: Row = { section: 'onnx', name: 'voxgpu import, inference', shape, status: 'ok', flops: info.flops };
    const image = tensor(data, info.input);
    let model: OnnxModule | null = null;
    // voxgpu's output, kept when ONNX Runtime runs too, to check that both computed the same thing.
    let output: Float32Array | null = null;
    try {
      const graph = importOnnx(bytes);
      model = graph;
      if (options.ort) {
        const y = tidy(() => noGrad(() => graph.forward(image)));
        output = await y.toArray();
        y.dispose();
      }
      const imported = () => tidy(() => noGrad(() => void graph.forward(image)));
      if (info.network === 'paper_vnet') {
        await besideNative(ctx, row, imported, info, shape, ceiling, report);
      } else {
        const m = mark();
        const t = await timeGpu(ctx, imported, { ...timing, warmup: 1 });
        rates(timed(row, t, foreignLoad(m)), ceiling);
        report(row);
      }
    } catch (e) {
      Object.assign(row, { status: 'failed', note: (e as Error).message.split('\n')[0] });
      await ctx.sync().catch(() => undefined);
      report(row);
    } finally {
      model?.dispose();
      image.dispose();
    }

    if (!options.ort) continue;
    // Loaded here, not at the top: a GPU host's packed node_modules leaves onnxruntime-node out.
    const ort = await import('onnxruntime-node');
    const ortRow: Row = { section: 'onnx', name: 'onnxruntime-node (CPU), inference', shape, status: 'ok', flops: info.flops };
    try {
      const session = await ort.InferenceSession.create(bytes);
      const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', data, info.input) };
      const first = (await session.run(feeds))[session.outputNames[0]!]!.data as Float32Array;
      if (output)
        ortRow.note =
          `max |voxgpu − ORT| / max |ORT| = ` +
          `${(maxAbsDiff(output, first) / first.reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toExponential(1)}`;
      const samples: number[] = [];
      const { minSamples = 3, maxSamples = 7, budgetMs = 10_000 } = timing;
      const start = performance.now();
      while (samples.length < maxSamples && (samples.length < minSamples || performance.now() - start < budgetMs)) {
        const t0 = performance.now();
        await session.run(feeds);
        samples.push(performance.now() - t0);
      }
      await session.release();
      // ONNX Runtime's own threads use every core: a foreign-load figure would count them.
      rates(timed(ortRow, summarize(samples, 1, Number.NaN), null), null);
    } catch (e) {
      Object.assign(ortRow, { status: 'failed', note: (e as Error).message.split('\n')[0] });
    }
    report(ortRow);
  }
  return rows;
}

/**
 * The imported paper_vnet graph and voxgpu's own VNet of the same configuration, timed in alternation
 * (5 rounds of one run each, after one untimed run each), so that both see the same load from other
 * processes on a shared host; the note gives the median of the rounds' time ratios.
 */
async function besideNative(
  ctx: Context,
  row: Row,
  imported: () => void,
  info: GraphInfo,
  shape: string,
  ceiling: Ceiling | null,
  report: (row: Row) => void,
): Promise<void> {
  const native: Row = { section: 'onnx', name: 'voxgpu VNet (native), inference', shape, status: 'ok', flops: info.flops };
  const model = new VNet({ ...paperVNet, seed: 1 });
  const image = randn(info.input, { seed: 6 });
  const runNative = () => tidy(() => noGrad(() => void model.forward(image)));
  const once = async (run: () => void) => {
    const t0 = performance.now();
    run();
    await ctx.sync();
    return performance.now() - t0;
  };
  try {
    await once(imported);
    await once(runNative);
    const a: number[] = [];
    const b: number[] = [];
    const m = mark();
    for (let i = 0; i < 5; i++) {
      a.push(await once(imported));
      b.push(await once(runNative));
    }
    const load = foreignLoad(m);
    rates(timed(row, summarize(a, 1, Number.NaN), load), ceiling);
    rates(timed(native, summarize(b, 1, Number.NaN), load), ceiling);
    row.note = `imported / native, median of ${a.length} alternating rounds = ${median(a.map((t, i) => t / b[i]!)).toFixed(2)}×`;
  } finally {
    model.dispose();
    image.dispose();
  }
  report(row);
  report(native);
}
