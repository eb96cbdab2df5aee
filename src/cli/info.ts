/** `voxgpu info FILE`: a volume's header and intensity range. */
import { Command } from 'commander';
import { readVolume, voxelTypeOf, volumeFormatOf, type Volume } from '../io/node.js';
import { formatNumber, printTable, toJson } from './options.js';

export function infoCommand(): Command {
  return new Command('info')
    .description("print a volume's header: shape, spacing, datatype, origin, direction, intensity range")
    .argument('<file>', 'a .nii, .nii.gz, .mha or .mhd volume')
    .option('--json', 'print JSON instead of a table')
    .addHelpText('after', "\nGeometry is in LPS millimetres (as ITK and MetaImage); the direction's columns are the voxel axes.")
    .action(async (file: string, options: { json?: boolean }) => {
      const volume = await readVolume(file);
      const summary = summarize(file, volume);
      if (options.json) {
        process.stdout.write(`${toJson(summary)}\n`);
        return;
      }
      const vec = (v: number[]) => v.map((x) => formatNumber(x, 6)).join(' x ');
      const d = summary.direction;
      printTable([
        ['file', file],
        ['format', summary.format],
        ['shape', `${summary.shape.join(' x ')} (x, y, z)`],
        ['spacing', `${vec(summary.spacing)} mm`],
        ['datatype', summary.datatype],
        ['origin', `${summary.origin.map((x) => formatNumber(x, 6)).join(', ')} mm (LPS)`],
        [
          'direction',
          [0, 1, 2]
            .map(
              (r) =>
                `[${d
                  .slice(3 * r, 3 * r + 3)
                  .map((x) => formatNumber(x, 6))
                  .join(' ')}]`,
            )
            .join(' '),
        ],
        ['intensity', `${formatNumber(summary.min)} .. ${formatNumber(summary.max)} (mean ${formatNumber(summary.mean)})`],
      ]);
    });
}

function summarize(file: string, volume: Volume) {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < volume.data.length; i++) {
    const v = volume.data[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const inMemory = voxelTypeOf(volume.data);
  const format = volumeFormatOf(file) === 'nifti' ? 'NIfTI-1' : 'MetaImage';
  return {
    format: file.toLowerCase().endsWith('.gz') ? `${format} (gzip)` : format,
    shape: volume.shape,
    spacing: volume.spacing,
    datatype: volume.storedType ? `${volume.storedType} (scaled to ${inMemory})` : inMemory,
    origin: volume.origin,
    direction: volume.direction,
    min,
    max,
    mean: sum / volume.data.length,
  };
}
