/**
 * Overlap metrics. Empty masks are defined rather than NaN: two empty masks agree perfectly (Dice 1,
 * Jaccard 1, relative volume difference 0); an empty mask against a non-empty one has Dice 0 and Jaccard 0,
 * and an empty ground truth makes any predicted volume an infinite relative difference.
 */
import { countForeground, type Mask } from './mask.js';

function overlapCounts(pred: Mask, gt: Mask): { both: number; pred: number; gt: number } {
  if (pred.length !== gt.length) throw new Error(`masks differ in size: ${pred.length} vs ${gt.length} voxels`);
  let both = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] !== 0 && gt[i] !== 0) both++;
  return { both, pred: countForeground(pred), gt: countForeground(gt) };
}

/** 2|P∩G| / (|P| + |G|). */
export function dice(pred: Mask, gt: Mask): number {
  const c = overlapCounts(pred, gt);
  return c.pred + c.gt === 0 ? 1 : (2 * c.both) / (c.pred + c.gt);
}

/** |P∩G| / |P∪G|. */
export function jaccard(pred: Mask, gt: Mask): number {
  const c = overlapCounts(pred, gt);
  const union = c.pred + c.gt - c.both;
  return union === 0 ? 1 : c.both / union;
}

/** (|P| − |G|) / |G|, signed: positive means over-segmentation (PROMISE12 reports it ×100 as a percentage). */
export function relativeVolumeDifference(pred: Mask, gt: Mask): number {
  if (pred.length !== gt.length) throw new Error(`masks differ in size: ${pred.length} vs ${gt.length} voxels`);
  const p = countForeground(pred);
  const g = countForeground(gt);
  if (g === 0) return p === 0 ? 0 : Infinity;
  return (p - g) / g;
}
