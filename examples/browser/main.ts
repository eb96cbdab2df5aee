// The demo page: pick or drop a scan (or make a synthetic one); load a V-Net checkpoint or train one
// live, or open a TF.js layers-model (brainchop's MeshNets); segment, look at the labels over the
// slices, download them. One task runs at a time; every button is disabled
// meanwhile and the progress line says what is happening.
import { getContext, init } from '../../src/index.js';
import { checkpointBytes } from '../../src/io/checkpoint.js';
import { encodeVolume } from '../../src/io/index.js';
import type { Vec3, VoxelArray, Volume } from '../../src/image/volume.js';
import { type Colormap, defaultColormap } from './colormap.js';
import { acceptDrops, download, fileBytes, isCheckpointName, modelAccept, readScan, scanAccept } from './files.js';
import {
  type ImportedModel,
  isColormapName,
  isOnnxName,
  isSettingsName,
  isShardName,
  isTfjsModelName,
  openOnnxModel,
  openTfjsModel,
  segmentWithImported,
} from './imported.js';
import { drawLossPlot } from './loss-plot.js';
import {
  defaultSpacing,
  disposeModel,
  maskVolume,
  modelFromCheckpoint,
  newModel,
  segmentScan,
  syntheticScan,
  train,
  type ModelState,
} from './pipeline.js';
import { SliceViewer } from './viewer.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const app = $('app');
const status = $('status');
const progress = $<HTMLProgressElement>('progress');
const lossPlot = $<HTMLCanvasElement>('loss-plot');
const viewer = new SliceViewer($('viewer'));
const buttons = [...document.querySelectorAll<HTMLButtonElement | HTMLInputElement>('main button, main input')];

/** The V-Net the page trains and segments with, or a model opened from files. */
type PageModel = { kind: 'vnet'; state: ModelState } | ImportedModel;

let model: PageModel | null = null;
let scan: { volume: Volume; name: string } | null = null;
/** The last segmentation: class indices on the scan's grid. */
let labels: VoxelArray | null = null;
let segmentations = 0;

function setStatus(text: string, fraction?: number): void {
  status.textContent = text;
  status.classList.remove('error');
  // No value: an indeterminate bar, for work that reports no progress of its own.
  if (fraction === undefined) progress.removeAttribute('value');
  else progress.value = fraction;
}

function modelInfo(m: PageModel): string {
  if (m.kind !== 'vnet') {
    const colours = m.colormap.source ? `colours and names from ${m.colormap.source}` : 'default colours';
    const about = `${m.model.parameterCount().toLocaleString()} parameters, ${m.classes} classes (${colours})`;
    if (m.kind === 'tfjs') {
      const settings = m.settingsSource
        ? `brainchop's pipeline with ${m.settingsSource}`
        : "brainchop's pipeline with its default settings";
      return `TF.js layers-model ${m.name}: ${m.model.layers.length} layers, ${about}; ${settings}, conformed, over the whole volume.`;
    }
    const window = m.windows.window ? `windows of ${[...m.windows.window].reverse().join(' × ')} voxels` : 'the whole volume';
    return `ONNX graph ${m.name} (opset ${m.model.opset}): ${about}; resampled to the model spacing, z-scored, ${window}.`;
  }
  const { model: v, source, iteration } = m.state;
  return (
    `V-Net, ${v.config.baseChannels} base channels, ${v.config.kernelSize}³ kernels, ${v.config.encoderConvs.length} levels, ` +
    `${v.parameterCount().toLocaleString()} parameters; from ${source}, ${iteration} iterations trained.`
  );
}

function colormapOf(m: PageModel): Colormap {
  return m.kind === 'vnet' ? defaultColormap(m.state.model.config.numClasses) : m.colormap;
}

function refresh(): void {
  const m = model;
  const vnet = m?.kind === 'vnet' ? m.state : null;
  $('model-info').textContent = m ? modelInfo(m) : '';
  $('scan-info').textContent = scan
    ? `${scan.name}: ${scan.volume.shape.join(' × ')} voxels of ${scan.volume.spacing.map((s) => +s.toFixed(3)).join(' × ')} mm`
    : 'No scan loaded.';
  drawLossPlot(lossPlot, vnet?.losses ?? []);
  const mem = getContext().memory();
  const memory = $('memory');
  // Read by the memory test: the counters must not grow over repeated segmentations.
  memory.dataset.bytesInUse = String(mem.bytesInUse);
  memory.dataset.pooledBytes = String(mem.pooledBytes);
  memory.textContent =
    `GPU memory held by tensors: ${(mem.bytesInUse / 2 ** 20).toFixed(2)} MiB (peak ` + `${(mem.peakBytes / 2 ** 20).toFixed(2)} MiB)`;
  app.dataset.segmentations = String(segmentations);
  $<HTMLButtonElement>('segment').disabled = !scan || !model;
  $<HTMLButtonElement>('download-mask').disabled = !labels;
  // Training and checkpoints are the V-Net's; an opened model is for inference here.
  for (const id of ['train', 'save-checkpoint']) $<HTMLButtonElement>(id).disabled = !vnet;
}

/** Runs one task with the controls locked; its error is shown, never swallowed. */
async function task(label: string, work: () => Promise<string>): Promise<void> {
  if (app.dataset.state === 'busy') return;
  app.dataset.state = 'busy';
  for (const b of buttons) b.disabled = true;
  setStatus(label);
  try {
    setStatus(await work(), 1);
    app.dataset.state = 'ready';
  } catch (e) {
    console.error(e);
    status.textContent = `Error: ${(e as Error).message}`;
    status.classList.add('error');
    progress.value = 0;
    app.dataset.state = 'error';
  } finally {
    for (const b of buttons) b.disabled = false;
    refresh();
  }
}

function showScan(volume: Volume, name: string): void {
  scan = { volume, name };
  labels = null;
  viewer.setScan(volume);
  $('volume-ml').textContent = $('voxels').textContent = $('seg-time').textContent = '–';
  $('legend').replaceChildren();
}

function replaceModel(next: PageModel): void {
  if (model?.kind === 'vnet') disposeModel(model.state);
  else model?.model.dispose();
  model = next;
}

/** The current V-Net (the buttons that call this are disabled for other models). */
function vnetState(): ModelState {
  if (model?.kind !== 'vnet') throw new Error('training and checkpoints need a V-Net; open a checkpoint or press "New model"');
  return model.state;
}

/** Each class present: its colour, name, voxels and volume (mL). */
function showLegend(counts: readonly number[], colormap: Colormap, voxelMl: number): void {
  const items = counts.flatMap((n, k) => {
    if (k === 0 || n === 0) return [];
    const li = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = `rgb(${colormap.colours[k]!.join(' ')})`;
    li.dataset.label = String(k);
    li.append(swatch, `${k} ${colormap.names[k]}: ${n} voxels, ${(n * voxelMl).toFixed(3)} mL`);
    return [li];
  });
  $('legend').replaceChildren(...items);
}

function modelSpacing(): Vec3 {
  const parts = $<HTMLInputElement>('spacing')
    .value.trim()
    .split(/[\s,]+/)
    .map(Number);
  if (parts.length !== 3 || parts.some((v) => !(v > 0)))
    throw new Error(`model spacing must be three positive numbers (mm), got '${$<HTMLInputElement>('spacing').value}'`);
  return parts as Vec3;
}

const named = async (f: File) => ({ name: f.name, bytes: await fileBytes(f) });

/** Sorts chosen or dropped files into a model (a checkpoint, an .onnx, or model.json with its shards; a colormap) and a scan. */
/** The conformed cube's size for TF.js models: brainchop's 256, or smaller to try a model quickly. */
function conformSize(): number {
  const value = $<HTMLInputElement>('conform-size').value;
  const n = Number(value);
  if (!(Number.isInteger(n) && n >= 8)) throw new Error(`conformed size must be a whole number of voxels, at least 8, got '${value}'`);
  return n;
}

async function openFiles(files: File[]): Promise<void> {
  const checkpoint = files.find((f) => isCheckpointName(f.name));
  const tfjs = files.find((f) => isTfjsModelName(f.name));
  const onnx = files.find((f) => isOnnxName(f.name));
  const modelFiles = files.filter(
    (f) =>
      f === checkpoint || f === tfjs || f === onnx || isColormapName(f.name) || (tfjs && (isShardName(f.name) || isSettingsName(f.name))),
  );
  const colormaps = () => Promise.all(modelFiles.filter((f) => isColormapName(f.name)).map(named));
  if (checkpoint) {
    await task(`Loading ${checkpoint.name}…`, async () => {
      const state = modelFromCheckpoint(await fileBytes(checkpoint), checkpoint.name);
      replaceModel({ kind: 'vnet', state });
      return `Loaded ${checkpoint.name} (${state.iteration} iterations trained).`;
    });
  }
  if (tfjs) {
    await task(`Loading ${tfjs.name}…`, async () => {
      const shards = await Promise.all(modelFiles.filter((f) => isShardName(f.name)).map(named));
      const settings = modelFiles.find((f) => isSettingsName(f.name));
      const opened = openTfjsModel(await named(tfjs), shards, await colormaps(), settings && (await named(settings)));
      replaceModel(opened);
      return `Loaded ${tfjs.name}: ${opened.classes} classes.`;
    });
  }
  if (onnx) {
    await task(`Loading ${onnx.name}…`, async () => {
      const opened = openOnnxModel(await named(onnx), await colormaps());
      replaceModel(opened);
      return `Loaded ${onnx.name}: ${opened.classes} classes.`;
    });
  }
  const rest = files.filter((f) => !modelFiles.includes(f));
  if (rest.length > 0) {
    await task('Reading scan…', async () => {
      const { volume, name } = await readScan(rest);
      showScan(volume, name);
      return `Loaded ${name}.`;
    });
  }
}

function wire(): void {
  $('synthetic').addEventListener('click', () =>
    task('Making a synthetic volume…', async () => {
      const seed = Number($<HTMLInputElement>('seed').value) || 0;
      showScan(syntheticScan(seed).scan, `synthetic volume (seed ${seed})`);
      return 'Synthetic volume ready.';
    }),
  );
  const scanInput = $<HTMLInputElement>('scan-file');
  scanInput.accept = scanAccept;
  scanInput.addEventListener('change', () => void openFiles([...(scanInput.files ?? [])]).finally(() => (scanInput.value = '')));
  const ckptInput = $<HTMLInputElement>('model-file');
  ckptInput.accept = modelAccept;
  ckptInput.addEventListener('change', () => void openFiles([...(ckptInput.files ?? [])]).finally(() => (ckptInput.value = '')));
  acceptDrops(document.body, (files) => void openFiles(files));

  $('train').addEventListener('click', () =>
    task('Training… (the first iteration compiles the GPU kernels)', async () => {
      const n = Math.max(1, Math.floor(Number($<HTMLInputElement>('iterations').value) || 1));
      const m = vnetState();
      const start = m.iteration;
      setStatus(`Training: iteration ${start + 1} of ${start + n}…`, 0);
      await train(m, n, (it, loss) => {
        setStatus(`Training: iteration ${it} of ${start + n}, Dice loss ${loss.toFixed(4)}`, (it - start) / n);
        drawLossPlot(lossPlot, m.losses);
      });
      return `Trained ${n} iterations; Dice loss ${m.losses[m.losses.length - 1]!.toFixed(4)}.`;
    }),
  );
  $('reset-model').addEventListener('click', () =>
    task('New model…', async () => {
      replaceModel({ kind: 'vnet', state: newModel() });
      return 'New randomly initialised model.';
    }),
  );
  $('save-checkpoint').addEventListener('click', () =>
    task('Saving checkpoint…', async () => {
      const m = vnetState();
      download(
        await checkpointBytes(m.model, { optimizer: m.optimizer, iteration: m.iteration, config: m.model.config }),
        `vnet-demo-${m.iteration}.safetensors`,
      );
      return 'Checkpoint saved.';
    }),
  );
  $('segment').addEventListener('click', () =>
    task('Segmenting… (the first run compiles the GPU kernels)', async () => {
      const m = model!;
      const volume = scan!.volume;
      const result =
        m.kind === 'vnet'
          ? await segmentScan(m.state, volume, modelSpacing())
          : await segmentWithImported(m, volume, {
              spacing: modelSpacing(),
              conformSize: conformSize(),
              onProgress: (done, total) =>
                setStatus(`Segmenting: ${m.kind === 'tfjs' ? 'layer' : 'window'} ${done} of ${total}…`, done / total),
            });
      labels = 'mask' in result ? result.mask : result.labels.data;
      segmentations++;
      const colormap = colormapOf(m);
      viewer.setLabels(labels, colormap.colours);
      const counts = 'counts' in result ? result.counts : [labels.length - result.foregroundVoxels, result.foregroundVoxels];
      const foreground = labels.length - counts[0]!;
      const voxelMl = volume.spacing.reduce((a, b) => a * b, 1) / 1000;
      showLegend(counts, colormap, voxelMl);
      $('volume-ml').textContent = (foreground * voxelMl).toFixed(3);
      $('voxels').textContent = String(foreground);
      $('seg-time').textContent = `${result.milliseconds.toFixed(0)} ms`;
      return (
        `Segmented: ${foreground} foreground voxels, ${(foreground * voxelMl).toFixed(3)} mL, in ` + `${result.milliseconds.toFixed(0)} ms.`
      );
    }),
  );
  $('download-mask').addEventListener('click', () => {
    const base = scan!.name.replace(/(\.nii\.gz|\.nii|\.mha|\.mhd)$/i, '').replace(/[^\w.-]+/g, '_');
    const name = `${base}-${model?.kind === 'vnet' ? 'mask' : 'labels'}.nii.gz`;
    download(encodeVolume(maskVolume(scan!.volume, labels!), name), name, 'application/gzip');
  });
}

/** A page without WebGPU says so and why, instead of staying blank. */
function noWebGpu(reason: string): void {
  const box = $('no-webgpu');
  box.hidden = false;
  box.innerHTML =
    `<strong>WebGPU is not available, so this demo cannot run here.</strong><p>${reason}</p>` +
    '<p>Use a browser with WebGPU enabled: Chrome or Edge 113 or later (on Linux, start it with ' +
    '<code>--enable-unsafe-webgpu</code>), Safari 26, or Firefox 141 or later on Windows. The page must be ' +
    'opened over https or from localhost.</p>';
  $('gpu').textContent = 'WebGPU: not available';
  app.hidden = true;
  app.dataset.state = 'no-webgpu';
  setStatus('WebGPU is not available.', 0);
}

async function start(): Promise<void> {
  if (!window.isSecureContext) return noWebGpu('The page is not in a secure context (plain http from a host other than localhost).');
  if (!navigator.gpu) return noWebGpu('This browser has no navigator.gpu.');
  try {
    // 'browser': navigator.gpu only; never the library's Node (Dawn) fallback.
    await init({ adapter: 'browser' });
  } catch (e) {
    return noWebGpu(`The browser found no usable GPU adapter: ${(e as Error).message}`);
  }
  const d = getContext().describe();
  $('gpu').textContent = `WebGPU adapter: ${d.adapter}`;
  $<HTMLInputElement>('spacing').value = defaultSpacing.join(' ');
  wire();
  model = { kind: 'vnet', state: newModel() };
  showScan(syntheticScan(7).scan, 'synthetic volume (seed 7)');
  app.dataset.state = 'ready';
  setStatus('Ready: segment the synthetic volume, train the model, or open your own scan.', 0);
  refresh();
}

void start();
