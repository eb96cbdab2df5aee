/**
 * `voxgpu segment --model ckpt.safetensors scan.nii.gz -o mask.nii.gz`: segmentVolume (resample, normalise,
 * sliding windows, back onto the scan's grid) and write the mask with the scan's geometry, so it overlays
 * the scan in any viewer. With `--model model.json` (a TF.js layers-model such as brainchop's MeshNets),
 * brainchop's pipeline instead (segmentBrainchop): the whole volume at once, exactly, in tiles.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { init } from '../init.js';
import { loadCheckpoint, readCheckpointInfo } from '../io/checkpoint-node.js';
import { readVolume, volumeFilesRead, volumeFilesWritten, writeVolume } from '../io/node.js';
import { segmentVolume } from '../nn/segment-volume.js';
import { VNet, type VNetOptions } from '../nn/vnet.js';
import { segmentBrainchop } from '../models/brainchop.js';
import { loadTfjsModel } from '../models/tfjs-node.js';
import { parseVec3 } from './options.js';
import { stepProgress } from './progress.js';
import { checkOutputs } from './output-guard.js';

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
  transpose: boolean;
  maxTileMib?: string;
}

export function segmentCommand(): Command {
  return new Command('segment')
    .description("segment a scan with a trained V-Net checkpoint and write the mask on the scan's grid")
    .argument('<scan>', 'input volume (.nii, .nii.gz, .mha, .mhd)')
    .requiredOption('--model <file>', "checkpoint written by training (safetensors with the model config), or a TF.js layers-model's model.json (its shards beside it)")
    .requiredOption('-o, --output <file>', 'mask to write (uint8 labels)')
    .option('--spacing <x,y,z>', 'spacing (mm) the model was trained at', parseVec3, [1, 1, 1.5])
    .option('--window <x,y,z>', 'sliding window in voxels (multiples of 16); default: the whole resampled scan', parseVec3)
    .option('--overlap <f>', 'window overlap fraction', '0.5')
    .option('--largest-component', 'keep only the largest connected foreground component')
    .option('--mirror', 'average the probabilities over the 8 mirror images of each window (8× the time)')
    .option('--crop-padding <n>', 'TF.js model: crop to the head with this many voxels around it (brainchop: 18 for model5_gw_ae)')
    .option('--no-transpose', "TF.js model: feed the scan's axes unreversed (brainchop reverses them for all its models)")
    .option('--max-tile-mib <n>', 'TF.js model: the most MiB one tile may take on the device')
    .option('--force', 'replace an existing output file (never an input)')
    .action(async (scanPath: string, o: SegmentCliOptions) => {
      await checkOutputs(volumeFilesWritten(o.output), [...(await volumeFilesRead(scanPath)), o.model], o);
      if (o.model.toLowerCase().endsWith('.json')) return segmentWithTfjsModel(scanPath, o);
      const info = await readCheckpointInfo(o.model);
      if (!info.config) throw new Error(`${o.model} holds no model configuration; save checkpoints with { config: model.config }`);
      await init();
      const model = new VNet(info.config as VNetOptions);
      await loadCheckpoint(o.model, model);
      const scan = await readVolume(scanPath);
      const result = await segmentVolume(model, scan, { spacing: o.spacing, window: o.window, overlap: Number(o.overlap), largestComponent: o.largestComponent, mirror: o.mirror });
      await writeVolume(o.output, result.mask);
      process.stdout.write(`wrote ${o.output}: ${result.foregroundVoxels} foreground voxels (${result.foregroundMl.toFixed(2)} mL)\n`);
    });
}

/** A TF.js layers-model (brainchop's MeshNets): brainchop's pipeline on the scan's own grid, uint8/uint16 labels. */
async function segmentWithTfjsModel(scanPath: string, o: SegmentCliOptions): Promise<void> {
  const cropPadding = o.cropPadding === undefined ? undefined : Number(o.cropPadding);
  if (cropPadding !== undefined && !(Number.isInteger(cropPadding) && cropPadding >= 0)) throw new Error(`--crop-padding must be a non-negative integer, got ${o.cropPadding}`);
  const maxTileMib = o.maxTileMib === undefined ? undefined : Number(o.maxTileMib);
  if (maxTileMib !== undefined && !(maxTileMib > 0)) throw new Error(`--max-tile-mib must be a positive number, got ${o.maxTileMib}`);
  await init();
  const model = await loadTfjsModel(o.model);
  const scan = await readVolume(scanPath);
  const bar = stepProgress('layers', model.layers.length, 'layers');
  const { labels, classes } = await segmentBrainchop(model, scan, {
    cropPadding,
    transpose: o.transpose,
    maxTileBytes: maxTileMib === undefined ? undefined : maxTileMib * 2 ** 20,
    onLayer: (done) => bar.update(done),
  }).finally(() => {
    bar.stop();
    model.dispose();
  });
  await writeVolume(o.output, labels);
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels.data) counts[l]!++;
  const names = await labelNames(o.model, classes);
  process.stdout.write(`wrote ${o.output}: voxels per class ${counts.map((n, c) => `${c}${names ? ` ${names[c]}` : ''}: ${n}`).join(', ')}\n`);
}

/** The class names of a brainchop colormap beside the model (colormap*.json, `labels`) that has one per class. */
async function labelNames(modelPath: string, classes: number): Promise<string[] | undefined> {
  const dir = dirname(modelPath);
  for (const f of (await readdir(dir)).filter((n) => /^colormap.*\.json$/.test(n)).sort()) {
    const labels = (JSON.parse(await readFile(join(dir, f), 'utf8')) as { labels?: unknown }).labels;
    if (Array.isArray(labels) && labels.length === classes) return labels.map(String);
  }
  return undefined;
}
