/**
 * `voxgpu segment --model ckpt.safetensors scan.nii.gz -o mask.nii.gz`: segmentVolume (resample, normalise,
 * sliding windows, back onto the scan's grid) and write the mask with the scan's geometry, so it overlays
 * the scan in any viewer. `--model model.onnx` runs an ONNX export (PyTorch, MONAI) the same way, with
 * the graph's own input size as the window when the file fixes it. With `--model model.json` or its folder
 * (a TF.js layers-model such as brainchop's MeshNets), brainchop's pipeline instead (segmentScan with the
 * folder's brainchop.json, docs/brainchop-models.md): conformed, the whole volume at once, exactly, in
 * tiles, and mapped back onto the scan's grid.
 */
import { stat } from 'node:fs/promises';
import { Command } from 'commander';
import { init } from '../init.js';
import { readVolume, volumeFilesRead, volumeFilesWritten, writeVolume } from '../io/node.js';
import type { Segmenter } from '../nn/segment.js';
import { segmentVolume } from '../nn/segment-volume.js';
import { loadOnnx } from '../models/onnx/load-node.js';
import { onnxSegmenter } from '../models/onnx/segmenter.js';
import { segmentScan } from '../models/brainchop-pipeline.js';
import { loadBrainchopModel, type BrainchopColormap } from '../models/brainchop-node.js';
import { parseVec3 } from './options.js';
import { stepProgress } from './progress.js';
import { checkOutputs } from './output-guard.js';
import { loadVNetCheckpoint } from './vnet-checkpoint.js';

interface SegmentCliOptions {
  model: string;
  output: string;
  spacing: [number, number, number];
  window?: [number, number, number];
  overlap: string;
  largestComponent?: boolean;
  mirror?: boolean;
  force?: boolean;
  cropPadding?: string;
  transpose?: boolean;
  maxTileMib?: string;
  conformed?: boolean;
  tune: boolean;
}

export function segmentCommand(): Command {
  const command: Command = new Command('segment')
    .description("segment a scan with a trained V-Net checkpoint and write the mask on the scan's grid")
    .argument('<scan>', 'input volume (.nii, .nii.gz, .mha, .mhd)')
    .requiredOption(
      '--model <file>',
      "checkpoint written by training (safetensors with the model config), an ONNX model (.onnx), or a TF.js layers-model's " +
        'model.json or its folder (shards, brainchop.json and colormap*.json beside it)',
    )
    .requiredOption('-o, --output <file>', 'mask to write (uint8 labels)')
    .option('--spacing <x,y,z>', 'spacing (mm) the model was trained at', parseVec3, [1, 1, 1.5])
    .option('--window <x,y,z>', 'sliding window in voxels (multiples of 16); default: the whole resampled scan', parseVec3)
    .option('--overlap <f>', 'window overlap fraction', '0.5')
    .option('--largest-component', 'keep only the largest connected foreground component')
    .option('--mirror', 'average the probabilities over the 8 mirror images of each window (8× the time)')
    .option(
      '--crop-padding <n>',
      "TF.js model: crop to the head with this many voxels around it (default: brainchop.json's cropPadding beside the model, " +
        'else no crop)',
    )
    .option(
      '--no-transpose',
      "TF.js model: feed the scan's axes unreversed (default: brainchop.json's enableTranspose, else reversed as for all of " +
        "brainchop's models)",
    )
    .option('--max-tile-mib <n>', 'TF.js model: the most MiB one tile may take on the device')
    .option('--conformed', "TF.js model: write the labels on the conformed 256³ grid (as brainchop shows them), not the scan's")
    .option('--no-tune', "TF.js model: skip measuring the conv kernels' variants for its shapes first (autotune; cached for later runs)")
    .option('--force', 'replace an existing output file (never an input)')
    .action(async (scanPath: string, o: SegmentCliOptions) => {
      await checkOutputs(volumeFilesWritten(o.output), [...(await volumeFilesRead(scanPath)), o.model], o);
      if (o.model.toLowerCase().endsWith('.onnx')) return segmentWithOnnxModel(scanPath, o);
      if (o.model.toLowerCase().endsWith('.json') || (await stat(o.model)).isDirectory())
        return segmentWithTfjsModel(scanPath, o, (key) => command.getOptionValueSource(key) === 'cli');
      await segmentAndWrite(await loadVNetCheckpoint(o.model), scanPath, o);
    });
  return command;
}

/**
 * A TF.js layers-model (brainchop's MeshNets): brainchop's pipeline (segmentScan), labels (uint8/uint16) on
 * the scan's grid or the conformed one, with the settings of the brainchop.json beside the model unless the
 * command line gives them.
 */
async function segmentWithTfjsModel(scanPath: string, o: SegmentCliOptions, given: (key: string) => boolean): Promise<void> {
  const cropPadding = o.cropPadding === undefined ? undefined : Number(o.cropPadding);
  if (cropPadding !== undefined && !(Number.isInteger(cropPadding) && cropPadding >= 0))
    throw new Error(`--crop-padding must be a non-negative integer, got ${o.cropPadding}`);
  const maxTileMib = o.maxTileMib === undefined ? undefined : Number(o.maxTileMib);
  if (maxTileMib !== undefined && !(maxTileMib > 0)) throw new Error(`--max-tile-mib must be a positive number, got ${o.maxTileMib}`);
  await init();
  const loaded = await loadBrainchopModel(o.model);
  const { options } = loaded.settings;
  const settings = {
    ...loaded.settings,
    options: {
      ...options,
      cropPadding: cropPadding ?? options.cropPadding,
      transpose: given('transpose') ? o.transpose : options.transpose,
      largestComponent: o.largestComponent || options.largestComponent,
    },
  };
  const scan = await readVolume(scanPath);
  const bar = stepProgress('layers', (loaded.preModel?.model.layers.length ?? 0) + loaded.model.layers.length, 'layers');
  const { labels, classes } = await segmentScan(loaded.model, scan, settings, {
    preModel: loaded.preModel,
    space: o.conformed ? 'conformed' : 'scan',
    tune: o.tune,
    maxTileBytes: maxTileMib === undefined ? undefined : maxTileMib * 2 ** 20,
    onLayer: (done) => bar.update(done),
  }).finally(() => {
    bar.stop();
    loaded.dispose();
  });
  await writeVolume(o.output, labels);
  process.stdout.write(`wrote ${o.output}: ${summary(labels.data, classes, settings.type, loaded.colormap)}\n`);
}

/** Voxels per class, with the colormap's names and colours when the model has them. */
function summary(data: ArrayLike<number>, classes: number, type: string, colormap: BrainchopColormap | undefined): string {
  if (type === 'Brain_Extraction') {
    let brain = 0;
    for (let i = 0; i < data.length; i++) if (data[i]) brain++;
    return `${brain} brain voxels kept (the scan's values), the rest 0`;
  }
  const counts = new Array<number>(type === 'Brain_Masking' ? 2 : classes).fill(0);
  for (let i = 0; i < data.length; i++) counts[data[i]!]!++;
  const hex = (c: number) => Math.round(c).toString(16).padStart(2, '0');
  const name = (c: number) =>
    colormap?.labels[c] === undefined ? '' : ` ${colormap.labels[c]} #${hex(colormap.R[c]!)}${hex(colormap.G[c]!)}${hex(colormap.B[c]!)}`;
  return `voxels per class ${counts.map((n, c) => `${c}${name(c)}: ${n}`).join(', ')}`;
}

async function segmentAndWrite(model: Segmenter, scanPath: string, o: SegmentCliOptions, window = o.window): Promise<void> {
  const scan = await readVolume(scanPath);
  const result = await segmentVolume(model, scan, {
    spacing: o.spacing,
    window,
    overlap: Number(o.overlap),
    largestComponent: o.largestComponent,
    mirror: o.mirror,
  });
  await writeVolume(o.output, result.mask);
  process.stdout.write(`wrote ${o.output}: ${result.foregroundVoxels} foreground voxels (${result.foregroundMl.toFixed(2)} mL)\n`);
}

/** An ONNX model: softmax of its logits; windows of the graph's input size when it is fixed ([x, y, z] here). */
async function segmentWithOnnxModel(scanPath: string, o: SegmentCliOptions): Promise<void> {
  await init();
  const model = onnxSegmenter(loadOnnx(o.model));
  const fixed = model.window && ([model.window[2], model.window[1], model.window[0]] as [number, number, number]);
  await segmentAndWrite(model, scanPath, o, o.window ?? fixed ?? undefined).finally(() => model.dispose());
}
