/** `voxgpu convert IN OUT`: change format (and optionally spacing) of a volume, never over its input. */
import { Command } from 'commander';
import { readVolume, volumeFilesRead, volumeFilesWritten, writeVolume } from '../io/node.js';
import { resampleToSpacing } from '../data/resample.js';
import type { Vec3 } from '../image/volume.js';
import { checkOutputs } from './output-guard.js';
import { parseVec3 } from './options.js';

interface ConvertOptions {
  spacing?: Vec3;
  label?: boolean;
  compress?: boolean;
  force?: boolean;
}

export function convertCommand(): Command {
  return new Command('convert')
    .description('write a volume in another format (.nii, .nii.gz, .mha, .mhd), optionally resampled')
    .argument('<input>', 'volume to read')
    .argument('<output>', 'volume to write; the format follows the extension')
    .option('--spacing <x,y,z>', 'resample to this voxel spacing in mm, e.g. 1,1,1.5', parseVec3)
    .option('--label', 'the volume is a label map: resample with nearest neighbour, not trilinear')
    .option('--compress', 'zlib-compress MetaImage output')
    .option('--force', 'replace an existing output file (an input file is never replaced)')
    .action(async (input: string, output: string, options: ConvertOptions) => {
      const writeOptions = { compress: options.compress };
      await checkOutputs(volumeFilesWritten(output, writeOptions), await volumeFilesRead(input), options);
      let volume = await readVolume(input);
      if (options.spacing) volume = resampleToSpacing(volume, options.spacing, options.label ? 'nearest' : 'linear');
      await writeVolume(output, volume, writeOptions);
    });
}
