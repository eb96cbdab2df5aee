/**
 * `voxgpu segment --model ckpt.safetensors scan.nii.gz -o mask.nii.gz`: resample the scan to the model's
 * spacing, normalise it, segment it with sliding windows, resample the mask back onto the scan's own grid,
 * and write it with the scan's geometry (so it overlays the scan in any viewer).
 */
import { Command } from 'commander';
import { init } from '../device/context.js';
import { loadCheckpoint, readCheckpointInfo } from '../io/checkpoint-node.js';
import { readVolume, volumeFilesRead, volumeFilesWritten, writeVolume, type Volume } from '../io/node.js';
import { zscore } from '../data/intensity.js';
import { resampleToGrid, resampleToSpacing } from '../data/resample.js';
import { largestConnectedComponent } from '../metrics/index.js';
import { segment } from '../nn/segment.js';
import { VNet, type VNetOptions } from '../nn/vnet.js';
import { parseVec3 } from './options.js';
import { checkOutputs } from './output-guard.js';

interface SegmentCliOptions {
  model: string;
  output: string;
  spacing: [number, number, number];
  window?: [number, number, number];
  overlap: string;
  largestComponent?: boolean;
  force?: boolean;
}

export function segmentCommand(): Command {
  return new Command('segment')
    .description('segment a scan with a trained V-Net checkpoint and write the mask on the scan\'s grid')
    .argument('<scan>', 'input volume (.nii, .nii.gz, .mha, .mhd)')
    .requiredOption('--model <file>', 'checkpoint written by training (safetensors with the model config)')
    .requiredOption('-o, --output <file>', 'mask to write (uint8 labels)')
    .option('--spacing <x,y,z>', 'spacing (mm) the model was trained at', parseVec3, [1, 1, 1.5])
    .option('--window <x,y,z>', 'sliding window in voxels (multiples of 16); default: the whole resampled scan', parseVec3)
    .option('--overlap <f>', 'window overlap fraction', '0.5')
    .option('--largest-component', 'keep only the largest connected foreground component')
    .option('--force', 'replace an existing output file (never an input)')
    .action(async (scanPath: string, o: SegmentCliOptions) => {
      await checkOutputs(volumeFilesWritten(o.output), [...(await volumeFilesRead(scanPath)), o.model], o);
      const info = await readCheckpointInfo(o.model);
      if (!info.config) throw new Error(`${o.model} holds no model configuration; save checkpoints with { config: model.config }`);
      await init();
      const model = new VNet(info.config as VNetOptions);
      await loadCheckpoint(o.model, model);
      const scan = await readVolume(scanPath);
      const resampled = resampleToSpacing(scan, o.spacing, 'linear');
      const [x, y, z] = resampled.shape;
      const window = o.window ? ([o.window[2], o.window[1], o.window[0]] as const) : undefined;
      const result = await segment(model, zscore(resampled.data), [z, y, x], { window, overlap: Number(o.overlap) });
      let mask = result.mask;
      if (o.largestComponent) mask = largestConnectedComponent(mask, resampled.shape);
      const onScanGrid = resampleToGrid({ ...resampled, data: mask } as Volume, scan, 'nearest');
      await writeVolume(o.output, { ...onScanGrid, data: Uint8Array.from(onScanGrid.data) });
      const voxelMl = scan.spacing[0] * scan.spacing[1] * scan.spacing[2] / 1000;
      let fg = 0;
      for (const v of onScanGrid.data) if (v) fg++;
      process.stdout.write(`wrote ${o.output}: ${fg} foreground voxels (${(fg * voxelMl).toFixed(2)} mL)\n`);
    });
}
