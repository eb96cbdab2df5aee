// npm run bench [-- --full] [-- --quick] [-- --only <regex>] [-- --sections ceiling,dispatch,data,ops,vnet,augment,brainchop,onnx]
// Measures the adapter's ceilings, the dispatch overhead, every V-Net kernel forward and backward,
// whole training steps / inference, and augmentation per sample on the CPU and the GPU with the training
// throughput it allows; (opt-in) brainchop's pretrained MeshNets at 256³ against TF.js, and imported ONNX
// graphs beside ONNX Runtime (CPU); then prints a table and writes bench/results/*.json.
// See BENCHMARKS.md for the models behind each figure.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { init } from '../src/init.js';
import type { AdapterChoice } from '../src/device/adapter.js';
import type { PrecisionChoice } from '../src/device/precision.js';
import { registerKernels } from '../src/device/kernel-info.js';
import { benchKernelSources } from './generated/kernels.js';
import { measureCeiling } from './ceiling.js';
import { measureData } from './data.js';
import { measureDispatch } from './dispatch.js';
import { compareToNaive, opCases, runCase, type OpConfig } from './ops.js';
import { tuneConv } from './tune.js';
import { vnetCases, type VNetBenchConfig } from './vnet.js';
import { augmentCases } from './augment.js';
import { brainchopCases, type BrainchopBenchConfig } from './brainchop.js';
import { onnxCases, onnxGraphs } from './onnx.js';
import { adapterSlug, table, writeResults, type Ceiling, type Row } from './lib/report.js';
import { formatKernels } from './lib/recorder.js';
import { machine } from './lib/load.js';
import type { TimingOptions } from './lib/timing.js';

// The bench's own kernels (FMA and copy ceilings, the naive conv reference) are not the library's.
registerKernels(benchKernelSources);

const sectionNames = ['ceiling', 'dispatch', 'data', 'ops', 'vnet', 'augment', 'tune', 'brainchop', 'onnx'] as const;
/**
 * 'tune' (autotune on each conv case) is opt-in: it times every case's candidate tiles; so is
 * 'brainchop', which needs the models (scripts/brainchop-models.sh) and runs for minutes per model on a CPU; so is 'onnx'
 * (the imported fixture networks at benchmark widths).
 */
const defaultSections = ['ceiling', 'dispatch', 'data', 'ops', 'vnet'];

const program = new Command()
  .name('bench')
  .description('voxgpu kernel and V-Net benchmarks on the current WebGPU adapter')
  .option('--full', "the paper's shapes: 16 ch at 128×128×64 down to 256 ch at 8×8×4, V-Net base 16 up to 128×128×64 (slow on a CPU)")
  .option('--quick', 'fewer samples per case (a smoke run; figures are noisier)')
  .option('--only <regex>', 'only the op and V-Net cases whose name or shape matches')
  .option('--sections <list>', `comma-separated subset of ${sectionNames.join(',')}`, defaultSections.join(','))
  .option('--base-channels <n>', 'V-Net base width for the whole-network cases (default 8, or 16 with --full)', (v) => parseInt(v, 10))
  .option('--adapter <name>', 'auto, gpu, llvmpipe or swiftshader (default: VOXGPU_ADAPTER, else auto)')
  .option('--precision <name>', 'fp32, mixed (convolutions on tensor cores) or mixed-if-available (default: VOXGPU_PRECISION, else fp32)')
  .option('--models <dir>', 'brainchop section: the folder scripts/brainchop-models.sh filled', '.models')
  .option('--model <names>', 'brainchop section: comma-separated model folders (default: all, smallest first)')
  .option('--size <n>', "brainchop section: voxgpu runs the scan's central n³ (default 256, the whole scan)", (v) => parseInt(v, 10), 256)
  .option('--tfjs-cpu-size <list>', "brainchop section: cube sizes for TF.js' CPU backend (comma-separated; 0 skips)", '32')
  .option('--tfjs-webgpu-size <list>', "brainchop section: cube sizes for TF.js' WebGPU backend on the same adapter (0 skips)", '32')
  .option(
    '--warmup-size <n>',
    'brainchop section: an untimed run on the central n³ first, compiling the pipelines (0: none)',
    (v) => parseInt(v, 10),
    0,
  )
  .option('--max-tile-mib <n>', "brainchop section: predictVolume's maxTileBytes in MiB (default: its own)", (v) => parseInt(v, 10))
  .option(
    '--onnx-graphs <list>',
    'onnx section: comma-separated graphs of bench/onnx/graphs.json (default: the 32³ ones, or the 128³ ones with --full)',
  )
  .option('--no-ort', 'onnx section: skip ONNX Runtime (CPU), e.g. on a GPU host where only voxgpu is measured')
  .option('--out <dir>', 'where the JSON results go', join(dirname(fileURLToPath(import.meta.url)), 'results'))
  .parse();

const opts = program.opts<{
  full?: boolean;
  quick?: boolean;
  only?: string;
  sections: string;
  baseChannels?: number;
  adapter?: string;
  precision?: string;
  models: string;
  model?: string;
  size: number;
  tfjsCpuSize: string;
  tfjsWebgpuSize: string;
  warmupSize: number;
  maxTileMib?: number;
  onnxGraphs?: string;
  ort: boolean;
  out: string;
}>();
const sections = new Set(opts.sections.split(',').map((s) => s.trim()));
for (const s of sections)
  if (!(sectionNames as readonly string[]).includes(s))
    program.error(`--sections: unknown section '${s}' (have ${sectionNames.join(', ')})`);
const only = opts.only ? new RegExp(opts.only, 'i') : null;
const full = !!opts.full;

const opConfig: OpConfig = full
  ? {
      kernelSize: 5,
      numClasses: 2,
      stages: [
        { channels: 16, size: [128, 128, 64] },
        { channels: 32, size: [64, 64, 32] },
        { channels: 64, size: [32, 32, 16] },
        { channels: 128, size: [16, 16, 8] },
        { channels: 256, size: [8, 8, 4] },
      ],
    }
  : {
      kernelSize: 5,
      numClasses: 2,
      stages: [
        { channels: 16, size: [32, 32, 32] },
        { channels: 32, size: [16, 16, 16] },
        { channels: 64, size: [8, 8, 8] },
      ],
    };

const vnetConfig: VNetBenchConfig = {
  baseChannels: opts.baseChannels ?? (full ? 16 : 8),
  kernelSize: 5,
  trainSizes: full
    ? [
        [32, 32, 32],
        [64, 64, 64],
        [128, 128, 64],
      ]
    : [
        [32, 32, 32],
        [64, 64, 64],
      ],
  inferenceSize: full ? [128, 128, 64] : [32, 32, 32],
};

const sizes = (list: string) =>
  list
    .split(',')
    .map((v) => parseInt(v, 10))
    .filter((n) => n > 0);
const brainchopConfig: BrainchopBenchConfig = {
  modelsDir: opts.models,
  models: opts.model ? opts.model.split(',').map((m) => m.trim()) : null,
  size: opts.size,
  tfjsCpuSizes: sizes(opts.tfjsCpuSize),
  tfjsWebgpuSizes: sizes(opts.tfjsWebgpuSize),
  warmupSize: opts.warmupSize,
  ...(opts.maxTileMib ? { maxTileBytes: opts.maxTileMib * 2 ** 20 } : {}),
};

// Samples per case: fewer in --full, where one conv pass or training step takes seconds to minutes.
const opTiming: TimingOptions = opts.quick
  ? { minSamples: 2, maxSamples: 5, budgetMs: 400, minSampleMs: 20 }
  : full
    ? { minSamples: 3, maxSamples: 9, budgetMs: 5000, minSampleMs: 40 }
    : { minSamples: 5, maxSamples: 21, budgetMs: 2500, minSampleMs: 40 };
const vnetTiming: TimingOptions = opts.quick
  ? { minSamples: 1, maxSamples: 2, budgetMs: 0, minSampleMs: 0 }
  : full
    ? { minSamples: 2, maxSamples: 3, budgetMs: 0, minSampleMs: 0 }
    : { minSamples: 3, maxSamples: 7, budgetMs: 10_000, minSampleMs: 0 };

const log = (s: string) => console.log(s);

/** The commit measured, "+dirty" when kernels/, src/ or bench/kernels/ differ from it (null outside a git checkout). */
function revision(): string | null {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: dirname(fileURLToPath(import.meta.url)),
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    const head = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--', '../kernels', '../src', 'kernels') ? `${head}+dirty` : head;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const started = new Date();
  // No tuning cache: every figure is of the default tiles, except the tune section's own.
  const ctx = await init({
    tuningCache: false,
    ...(opts.adapter ? { adapter: opts.adapter as AdapterChoice } : {}),
    ...(opts.precision ? { precision: opts.precision as PrecisionChoice } : {}),
  });
  const desc = ctx.describe();
  const host = machine();
  log(
    `adapter: ${desc.adapter} (${desc.kind}, ${desc.backend}, ${desc.featureLevel}); ${desc.kernels} kernels, ` +
      `${desc.precision}; features: ` +
      `${desc.features.join(', ') || 'none'}${desc.tensorCores.length ? `; subgroup matrices: ${desc.tensorCores.join(', ')}` : ''}`,
  );
  log(`host: ${host.cores} × ${host.cpu}, load average ${host.loadavg.join(' ')}`);
  const rev = revision();
  log(
    `configuration: ${full ? 'full (the paper)' : 'small (default)'}${opts.quick ? ', quick' : ''}; code ${rev ?? '(not a git checkout)'}`,
  );
  if (host.loadavg[0]! > 0.5) log('warning: the machine is busy; on a software adapter other processes slow every figure');

  const rows: Row[] = [];
  let ceiling: Ceiling | null = null;
  let dispatch: { perDispatchUs: number; hostUs: number; emptyOpUs: number } | null = null;

  if (sections.has('ceiling')) {
    log('\nceiling');
    const r = await measureCeiling(ctx, { quick: !!opts.quick, log });
    ceiling = r.ceiling;
    rows.push(...r.rows);
    log(
      `  => FMA ceiling ${ceiling.fmaGflops.toFixed(1)} GFLOP/s (${ceiling.fmaVariant}); copy ceiling ` +
        `${ceiling.copyGbps.toFixed(2)} GB/s (${ceiling.copyVariant}); copyBufferToBuffer ${ceiling.memcpyGbps.toFixed(2)} GB/s`,
    );
  }
  if (sections.has('dispatch')) {
    log('\ndispatch overhead');
    const r = await measureDispatch(ctx, { quick: !!opts.quick, log });
    const { rows: dispatchRows, ...figures } = r;
    dispatch = figures;
    rows.push(...dispatchRows);
    log(`  => ${r.perDispatchUs.toFixed(1)} µs per tiny-op dispatch (target ≤ 50 µs), empty op + sync ${r.emptyOpUs.toFixed(0)} µs`);
  }
  if (sections.has('data')) {
    log('\nsynthetic data (host)');
    rows.push(...measureData({ quick: !!opts.quick, log }));
  }
  if (sections.has('ops')) {
    log('\nops');
    for (const c of opCases(opConfig)) {
      if (only && !only.test(`${c.name} ${c.shape}`)) continue;
      const r = await runCase(ctx, c, ceiling, opTiming);
      rows.push(r);
      const figures =
        r.status === 'ok'
          ? `${r.medianMs!.toFixed(3)} ms${r.gflops !== undefined ? `, ${r.gflops.toFixed(1)} GFLOP/s` : ''}, ${r.gbps!.toFixed(2)} GB/s`
          : `${r.status}: ${r.note}`;
      log(`  ${c.name} ${c.shape}: ${figures}${r.kernels?.length ? `  [${formatKernels(r.kernels)}]` : ''}`);
    }
  }
  compareToNaive(rows);
  if (sections.has('tune')) {
    log('\nautotune on the conv cases (default, then tuned)');
    const cases = opCases(opConfig).filter((c) => c.conv && (!only || only.test(`${c.name} ${c.shape}`)));
    rows.push(...(await tuneConv(ctx, cases, ceiling, { timing: opTiming, log })));
  }
  if (sections.has('vnet')) {
    log('\nV-Net');
    const vnetRows = await vnetCases(ctx, vnetConfig, ceiling, vnetTiming, log, (c) => !only || only.test(c));
    // How much of a step the dispatch overhead alone would explain.
    for (const r of vnetRows) {
      if (dispatch && r.dispatches && r.medianMs) {
        const ms = (r.dispatches * dispatch.perDispatchUs) / 1000;
        r.extra = { ...r.extra, dispatchOverheadMs: ms };
        r.note += `, dispatch overhead ≈ ${ms.toFixed(0)} ms (${((100 * ms) / r.medianMs).toFixed(1)}%)`;
      }
    }
    rows.push(...vnetRows);
  }
  if (sections.has('augment')) {
    log(`\naugmentation (per 128×128×64 sample) and training throughput${full ? '' : " (the paper's configuration with --full)"}`);
    rows.push(...(await augmentCases(ctx, { full, quick: !!opts.quick, log })));
  }

  if (sections.has('brainchop')) {
    log(`\nbrainchop's MeshNets on its sample T1 (${brainchopConfig.size}³), TF.js on the same input at smaller sizes`);
    rows.push(...(await brainchopCases(ctx, brainchopConfig, log)));
  }

  if (sections.has('onnx')) {
    log('\nimported ONNX graphs (random weights), voxgpu and ONNX Runtime (CPU)');
    const names =
      opts.onnxGraphs?.split(',').map((s) => s.trim()) ?? Object.keys(onnxGraphs()).filter((n) => n.endsWith(full ? '_128' : '_32'));
    rows.push(...(await onnxCases(ctx, names, ceiling, vnetTiming, log, { ort: opts.ort })));
  }

  log(`\n${table(rows)}`);
  const finished = new Date();
  const files = writeResults(opts.out, adapterSlug(desc.adapter, desc.kind), started, {
    adapter: desc,
    host: { ...host, loadavgAtEnd: machine().loadavg, node: process.version, platform: `${process.platform}-${process.arch}` },
    revision: rev,
    started: started.toISOString(),
    finished: finished.toISOString(),
    configuration: {
      full,
      quick: !!opts.quick,
      only: opts.only ?? null,
      sections: [...sections],
      ops: opConfig,
      vnet: vnetConfig,
      opTiming,
      vnetTiming,
      ...(sections.has('brainchop') ? { brainchop: brainchopConfig } : {}),
    },
    ceiling,
    dispatch,
    rows,
  });
  log(`\nresults: ${files.join(', ')}`);
  ctx.destroy();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
