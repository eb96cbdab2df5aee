/** `voxgpu evaluate PRED GT`: segmentation metrics of a predicted mask against a ground truth mask. */
import { Command } from 'commander';
import { readVolume, type Volume } from '../io/node.js';
import { evaluateSegmentation, type SegmentationMetrics } from '../metrics/index.js';
import { formatNumber, parseNonNegativeInteger, printTable, toJson } from './options.js';

export function evaluateCommand(): Command {
  return new Command('evaluate')
    .description('compare a predicted mask with the ground truth: Dice, Jaccard, volume difference, surface distances')
    .argument('<pred>', 'predicted mask volume')
    .argument('<gt>', 'ground-truth mask volume, on the same voxel grid')
    .option('--label <n>', 'evaluate only voxels equal to this label (default: any non-zero voxel)', parseNonNegativeInteger)
    .option('--json', 'print JSON (Infinity, from an empty mask, as the string "Infinity")')
    .addHelpText(
      'after',
      "\nDistances are in mm using the ground truth's spacing; surfaces are the masks' 6-connected borders.\n" +
        'Empty masks: both empty gives Dice 1 and distances 0; one empty gives Dice 0 and distances Infinity.',
    )
    .action(async (predPath: string, gtPath: string, options: { label?: number; json?: boolean }) => {
      const [pred, gt] = await Promise.all([readVolume(predPath), readVolume(gtPath)]);
      if (pred.shape.some((n, a) => n !== gt.shape[a])) {
        throw new Error(
          `${predPath} is ${pred.shape.join('x')} but ${gtPath} is ${gt.shape.join('x')}: resample the prediction onto the ` +
            `ground truth's grid first`,
        );
      }
      if (pred.spacing.some((s, a) => Math.abs(s - gt.spacing[a]) > 1e-3 * gt.spacing[a])) {
        process.stderr.write(`voxgpu: warning: spacings differ (${pred.spacing} vs ${gt.spacing}); using the ground truth's\n`);
      }
      const select = (volume: Volume) =>
        options.label === undefined ? volume.data : Uint8Array.from(volume.data, (v) => (v === options.label ? 1 : 0));
      const metrics = evaluateSegmentation(select(pred), select(gt), gt.shape, gt.spacing);
      if (options.json) process.stdout.write(`${toJson(metrics)}\n`);
      else printMetrics(metrics);
    });
}

function printMetrics(m: SegmentationMetrics): void {
  const mm = (v: number) => `${formatNumber(v, 3)} mm`;
  printTable([
    ['metric', 'value'],
    ['Dice', formatNumber(m.dice)],
    ['Jaccard', formatNumber(m.jaccard)],
    ['relative volume difference', `${formatNumber(100 * m.relativeVolumeDifference, 2)} %`],
    ['Hausdorff distance', mm(m.hausdorff)],
    ['Hausdorff distance 95%', mm(m.hausdorff95)],
    ['average symmetric surface distance', mm(m.assd)],
    ['volume pred / gt', `${formatNumber(m.predVolume / 1000, 3)} / ${formatNumber(m.gtVolume / 1000, 3)} ml`],
  ]);
}
