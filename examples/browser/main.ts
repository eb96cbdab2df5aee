// The demo page: pick or drop a scan (or make a synthetic one), load a checkpoint or train live,
// segment, look at the slices, download the mask. One task runs at a time; every button is disabled
// meanwhile and the progress line says what is happening.
import { getContext, init } from '../../src/index.js';
import { checkpointBytes } from '../../src/io/checkpoint.js';
import { encodeVolume } from '../../src/io/index.js';
import type { Vec3, Volume } from '../../src/io/volume.js';
import { acceptDrops, download, fileBytes, isCheckpointName, readScan, scanAccept } from './files.js';
import { drawLossPlot } from './loss-plot.js';
import { defaultSpacing, disposeModel, maskVolume, modelFromCheckpoint, newModel, segmentScan, syntheticScan, train, type ModelState } from './pipeline.js';
import { SliceViewer } from './viewer.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const app = $('app');
const status = $('status');
const progress = $<HTMLProgressElement>('progress');
const lossPlot = $<HTMLCanvasElement>('loss-plot');
const viewer = new SliceViewer($('viewer'));
const buttons = [...document.querySelectorAll<HTMLButtonElement | HTMLInputElement>('main button, main input')];

let model: ModelState | null = null;
let scan: { volume: Volume; name: string } | null = null;
let mask: Uint8Array | null = null;
let segmentations = 0;

function setStatus(text: string, fraction?: number): void {
  status.textContent = text;
  status.classList.remove('error');
  // No value: an indeterminate bar, for work that reports no progress of its own.
  if (fraction === undefined) progress.removeAttribute('value');
  else progress.value = fraction;
}

function refresh(): void {
  const m = model;
  $('model-info').textContent = m
    ? `V-Net, ${m.model.config.baseChannels} base channels, ${m.model.config.kernelSize}³ kernels, ${m.model.config.encoderConvs.length} levels, ` +
      `${m.model.parameterCount().toLocaleString()} parameters; from ${m.source}, ${m.iteration} iterations trained.`
    : '';
  $('scan-info').textContent = scan ? `${scan.name}: ${scan.volume.shape.join(' × ')} voxels of ${scan.volume.spacing.map((s) => +s.toFixed(3)).join(' × ')} mm` : 'No scan loaded.';
  drawLossPlot(lossPlot, m?.losses ?? []);
  const mem = getContext().memory();
  const memory = $('memory');
  // Read by the memory test: the counters must not grow over repeated segmentations.
  memory.dataset.bytesInUse = String(mem.bytesInUse);
  memory.dataset.pooledBytes = String(mem.pooledBytes);
  memory.textContent = `GPU memory held by tensors: ${(mem.bytesInUse / 2 ** 20).toFixed(2)} MiB (peak ${(mem.peakBytes / 2 ** 20).toFixed(2)} MiB)`;
  app.dataset.segmentations = String(segmentations);
  $<HTMLButtonElement>('segment').disabled = !scan || !model;
  $<HTMLButtonElement>('download-mask').disabled = !mask;
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
  mask = null;
  viewer.setScan(volume);
  $('volume-ml').textContent = $('voxels').textContent = $('seg-time').textContent = '–';
}

function replaceModel(next: ModelState): void {
  if (model) disposeModel(model);
  model = next;
}

function modelSpacing(): Vec3 {
  const parts = $<HTMLInputElement>('spacing')
    .value.trim()
    .split(/[\s,]+/)
    .map(Number);
  if (parts.length !== 3 || parts.some((v) => !(v > 0))) throw new Error(`model spacing must be three positive numbers (mm), got '${$<HTMLInputElement>('spacing').value}'`);
  return parts as Vec3;
}

async function openFiles(files: File[]): Promise<void> {
  const checkpoint = files.find((f) => isCheckpointName(f.name));
  if (checkpoint) {
    await task(`Loading ${checkpoint.name}…`, async () => {
      replaceModel(modelFromCheckpoint(await fileBytes(checkpoint), checkpoint.name));
      return `Loaded ${checkpoint.name} (${model!.iteration} iterations trained).`;
    });
  }
  const rest = files.filter((f) => f !== checkpoint);
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
  const ckptInput = $<HTMLInputElement>('checkpoint-file');
  ckptInput.addEventListener('change', () => void openFiles([...(ckptInput.files ?? [])]).finally(() => (ckptInput.value = '')));
  acceptDrops(document.body, (files) => void openFiles(files));

  $('train').addEventListener('click', () =>
    task('Training… (the first iteration compiles the GPU kernels)', async () => {
      const n = Math.max(1, Math.floor(Number($<HTMLInputElement>('iterations').value) || 1));
      const m = model!;
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
      replaceModel(newModel());
      return 'New randomly initialised model.';
    }),
  );
  $('save-checkpoint').addEventListener('click', () =>
    task('Saving checkpoint…', async () => {
      const m = model!;
      download(await checkpointBytes(m.model, { optimizer: m.optimizer, iteration: m.iteration, config: m.model.config }), `vnet-demo-${m.iteration}.safetensors`);
      return 'Checkpoint saved.';
    }),
  );
  $('segment').addEventListener('click', () =>
    task('Segmenting… (the first run compiles the GPU kernels)', async () => {
      const result = await segmentScan(model!, scan!.volume, modelSpacing());
      mask = result.mask;
      segmentations++;
      viewer.setMask(mask);
      $('volume-ml').textContent = result.foregroundMl.toFixed(3);
      $('voxels').textContent = String(result.foregroundVoxels);
      $('seg-time').textContent = `${result.milliseconds.toFixed(0)} ms`;
      return `Segmented: ${result.foregroundVoxels} foreground voxels, ${result.foregroundMl.toFixed(3)} mL, in ${result.milliseconds.toFixed(0)} ms.`;
    }),
  );
  $('download-mask').addEventListener('click', () => {
    const base = scan!.name.replace(/(\.nii\.gz|\.nii|\.mha|\.mhd)$/i, '').replace(/[^\w.-]+/g, '_');
    download(encodeVolume(maskVolume(scan!.volume, mask!), `${base}-mask.nii.gz`), `${base}-mask.nii.gz`, 'application/gzip');
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
  model = newModel();
  showScan(syntheticScan(7).scan, 'synthetic volume (seed 7)');
  app.dataset.state = 'ready';
  setStatus('Ready: segment the synthetic volume, train the model, or open your own scan.', 0);
  refresh();
}

void start();
