// brainchop's MeshNets (scripts/brainchop-models.sh copies them and its sample T1 into .models/) on
// that T1, whole-volume, one model after another, smallest first: conform() to size³ at 1 mm (256³:
// brainchop's own input; a scan already conformed, as that T1 is at 256³, is taken as it is, as brainchop
// does), segmentBrainchop (min–max, transpose, every layer over the whole volume,
// argmax, transpose back), labelsToScanGrid. Per model: conform, inference (normalisation, layers,
// argmax) and labels (back onto the scan's grid) timed apart, peak device memory from the buffer pool,
// the process' peak host memory; then TensorFlow.js on the same model and input (its CPU backend, and
// its WebGPU backend over Dawn on the adapter voxgpu runs on) at a size each can afford, with the
// fraction of voxels whose labels agree with voxgpu's.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../src/device/context.js';
import { conform, labelsToScanGrid } from '../src/data/conform.js';
import { rescaleIntensity } from '../src/data/intensity.js';
import type { Volume } from '../src/image/volume.js';
import { readVolume } from '../src/io/node.js';
import { reverseAxes, segmentBrainchop } from '../src/models/brainchop.js';
import { isConformed } from '../src/models/brainchop-pipeline.js';
import { loadTfjsModel } from '../src/models/tfjs-node.js';
import { predictVolume } from '../src/models/tfjs-tiles.js';
import type { Row } from './lib/report.js';
import { foreignLoad, mark } from './lib/load.js';

export interface BrainchopBenchConfig {
  /** Where scripts/brainchop-models.sh put the models (one folder each, model.json inside) and t1_crop.nii.gz. */
  modelsDir: string;
  /** Folder names to run (default: all, by weight size). */
  models: string[] | null;
  /** The conformed cube voxgpu runs: size³ voxels of 1 mm around the scan's centre (brainchop's: 256). */
  size: number;
  /** Cube sizes for TF.js' CPU backend (its conv3d is plain JS: small). Empty: skip. */
  tfjsCpuSizes: number[];
  /** Cube sizes for TF.js' WebGPU backend on voxgpu's adapter. Empty: skip. */
  tfjsWebgpuSizes: number[];
  /** An untimed run at n³ first, so the timed one does not compile the pipelines (0: none). */
  warmupSize: number;
  /** predictVolume's maxTileBytes (default: its own). */
  maxTileBytes?: number;
}

const mib = (b: number) => b / 2 ** 20;
const seconds = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);

/** Model folders holding a model.json, smallest weights first. */
export function brainchopModels(dir: string, only: string[] | null): string[] {
  if (!existsSync(dir)) throw new Error(`brainchop bench: no ${dir}; run scripts/brainchop-models.sh <brainchop checkout> ${dir} first`);
  const weightBytes = (m: string) =>
    readdirSync(join(dir, m))
      .filter((f) => f.endsWith('.bin'))
      .reduce((n, f) => n + statSync(join(dir, m, f)).size, 0);
  const all = readdirSync(dir).filter((m) => existsSync(join(dir, m, 'model.json')));
  for (const m of only ?? []) if (!all.includes(m)) throw new Error(`brainchop bench: no model '${m}' in ${dir} (have ${all.join(', ')})`);
  return all.filter((m) => !only || only.includes(m)).sort((a, b) => weightBytes(a) - weightBytes(b));
}

/** The scan conformed to size³, or as it is where it already is (brainchop's T1 at 256³), as brainchop and segmentScan do. */
function conformed(scan: Volume, size: number): Volume {
  return isConformed(scan, size) ? scan : conform(scan, { size });
}

/** The model's input for the scan conformed to size³ as segmentBrainchop builds it: min–max, axes reversed. */
function modelInput(scan: Volume, size: number): Float32Array {
  return reverseAxes(rescaleIntensity(conformed(scan, size).data), [size, size, size]);
}

/** Host memory the process has ever held (resident set), bytes. */
const maxRss = () => process.resourceUsage().maxRSS * 1024;

/**
 * TF.js' WebGPU backend can stall instead of failing (a buffer over the device's limits): a TF.js case
 * gives up after this long, and the bench goes on with the next case.
 */
const tfjsTimeoutSeconds = 90;

function withinSeconds<T>(s: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${s} s`)), s * 1000);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

function agreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** One model end to end at config.size: voxgpu's figures. */
async function voxgpuRow(
  ctx: Context,
  name: string,
  path: string,
  scan: Volume,
  c: BrainchopBenchConfig,
  log: (s: string) => void,
): Promise<Row> {
  const shape = `${c.size}³`;
  const row: Row = { section: 'brainchop', name: `${name} voxgpu`, shape, status: 'ok' };
  const model = await loadTfjsModel(path);
  try {
    const { maxTileBytes } = c;
    const options = { maxTileBytes };
    if (c.warmupSize > 0) await segmentBrainchop(model, conformed(scan, c.warmupSize), options);
    ctx.pool.trim();
    ctx.pool.resetPeak();
    const m = mark();
    const start = performance.now();
    const input = conformed(scan, c.size);
    const asIs = input === scan;
    const t0 = performance.now();
    let layersDone = t0;
    let lastLog = t0;
    const { labels } = await segmentBrainchop(model, input, {
      ...options,
      onLayer: (done, total) => {
        layersDone = performance.now();
        if (layersDone - lastLog > 10_000 || done === total) {
          log(`    layer ${done}/${total}, ${seconds(layersDone - t0)} s`);
          lastLog = layersDone;
        }
      },
    });
    const onScan = asIs ? labels : labelsToScanGrid(labels, scan);
    const end = performance.now();
    const conformMs = t0 - start;
    const inferenceMs = layersDone - t0;
    const labelsMs = end - layersDone;
    const totalMs = end - start;
    const { peakBytes: peak, bytesInUse, pooledBytes } = ctx.memory();
    row.foreignLoad = foreignLoad(m);
    const classes = new Set(onScan.data).size;
    row.extra = {
      conformMs,
      inferenceMs,
      labelsMs,
      peakBytes: peak,
      allocatedBytes: bytesInUse + pooledBytes,
      maxRssBytes: maxRss(),
      classesFound: classes,
    };
    row.medianMs = totalMs;
    row.samples = 1;
    const tiles = maxTileBytes === undefined ? '' : ` (tiles ≤ ${mib(maxTileBytes).toFixed(0)} MiB)`;
    const warmup = c.warmupSize > 0 ? `; after a warm-up at ${c.warmupSize}³` : '; pipelines compiled in this run';
    row.note =
      `conform ${asIs ? 'none (already conformed)' : `${seconds(conformMs)} s`} + inference ${seconds(inferenceMs)} s ` +
      `+ labels ${seconds(labelsMs)} s; peak device ${mib(peak).toFixed(0)} MiB${tiles}, host RSS ${mib(maxRss()).toFixed(0)} MiB; ` +
      `${model.layers.length} layers, ${model.parameterCount()} weights, ${model.outChannels} classes (${classes} found)${warmup}`;
    log(`  ${row.name} @ ${shape}: ${seconds(totalMs)} s = ${row.note}`);
  } catch (e) {
    row.status = 'failed';
    row.note = (e as Error).message.split('\n')[0];
    log(`  ${row.name} @ ${shape}: FAILED ${row.note}`);
  } finally {
    model.dispose();
  }
  return row;
}

/** TF.js on `backend` at `size`³ against voxgpu on the same input: its time and the labels' agreement. */
async function tfjsRow(
  ctx: Context,
  name: string,
  path: string,
  scan: Volume,
  backend: 'cpu' | 'webgpu',
  size: number,
  c: BrainchopBenchConfig,
  log: (s: string) => void,
): Promise<Row> {
  const row: Row = { section: 'brainchop', name: `${name} TF.js ${backend}`, shape: `${size}³`, status: 'ok' };
  const model = await loadTfjsModel(path);
  try {
    // TF.js binds each layer's whole output: past the binding limit its WebGPU backend fails or stalls.
    let channels = model.inChannels;
    let widest = channels;
    for (const layer of model.layers) widest = Math.max(widest, (channels = layer.outChannels(channels)));
    const widestBytes = 4 * widest * size ** 3;
    if (backend === 'webgpu' && widestBytes > ctx.limits.maxStorageBufferBindingSize) {
      row.status = 'skipped';
      row.note =
        `its widest layer (${widest} channels) is ${mib(widestBytes).toFixed(0)} MiB at ${size}³, over the adapter's ` +
        `maxStorageBufferBindingSize (${mib(ctx.limits.maxStorageBufferBindingSize).toFixed(0)} MiB), and TF.js binds whole tensors`;
      log(`  ${row.name} @ ${row.shape}: skipped, ${row.note}`);
      return row;
    }
    // TF.js loads only here: a run without it (a GPU machine packed without TF.js) still measures voxgpu.
    const { loadFromFile, tfjsBackend, tfjsLabels } = await import('./brainchop-tfjs.js');
    await tfjsBackend(ctx, backend);
    const input = modelInput(scan, size);
    const theirs = await loadFromFile(path);
    try {
      const m = mark();
      const { labels, ms } = await withinSeconds(tfjsTimeoutSeconds, tfjsLabels(theirs, input, size, backend === 'webgpu'));
      row.foreignLoad = foreignLoad(m);
      const t0 = performance.now();
      const ours = await predictVolume(model, input, [size, size, size], { maxTileBytes: c.maxTileBytes });
      const oursMs = performance.now() - t0;
      const agree = agreement(ours.labels, labels);
      row.medianMs = ms;
      row.samples = 1;
      row.extra = { agreement: agree, voxgpuMs: oursMs };
      row.note =
        `${backend === 'webgpu' ? 'warm run; ' : ''}voxgpu on the same input ${seconds(oursMs)} s ` +
        `(${(ms / oursMs).toFixed(1)}× faster); labels equal to voxgpu's: ${(100 * agree).toFixed(3)} %`;
    } finally {
      theirs.dispose();
    }
    log(`  ${row.name} @ ${row.shape}: ${seconds(row.medianMs)} s, ${row.note}`);
  } catch (e) {
    row.status = 'failed';
    row.note = (e as Error).message.split('\n')[0];
    log(`  ${row.name} @ ${row.shape}: FAILED ${row.note}`);
  } finally {
    model.dispose();
  }
  return row;
}

export async function brainchopCases(ctx: Context, config: BrainchopBenchConfig, log: (s: string) => void): Promise<Row[]> {
  // A budget above what one binding may hold would only move the failure into a dispatch.
  const { maxStorageBufferBindingSize: maxBinding, maxBufferSize } = ctx.limits;
  const c = {
    ...config,
    ...(config.maxTileBytes === undefined ? {} : { maxTileBytes: Math.min(config.maxTileBytes, maxBinding, maxBufferSize) }),
  };
  const scanPath = join(c.modelsDir, 't1_crop.nii.gz');
  const scan = await readVolume(scanPath);
  if (scan.shape.some((n) => n < c.size))
    throw new Error(`brainchop bench: --size ${c.size} is larger than ${scanPath} [${scan.shape.join(', ')}]`);
  const rows: Row[] = [];
  for (const name of brainchopModels(c.modelsDir, c.models)) {
    const path = join(c.modelsDir, name, 'model.json');
    log(`  ${name}`);
    rows.push(await voxgpuRow(ctx, name, path, scan, c, log));
    for (const size of c.tfjsCpuSizes) rows.push(await tfjsRow(ctx, name, path, scan, 'cpu', size, c, log));
    for (const size of c.tfjsWebgpuSizes) rows.push(await tfjsRow(ctx, name, path, scan, 'webgpu', size, c, log));
  }
  return rows;
}
