// Split reductions fused into an op's own kernel: the PReLU slope gradient (one sum per channel
// over a whole batch), the Dice sums (three per sample and class over a volume) and the label
// check. One thread per row would leave all but a few cores idle on a million voxels, so each row
// is split into chunks; the op's kernel writes one partial sum per (stat, row, chunk) and `sum`
// (reduce.ts) adds the chunks.
import { getContext, type Bindable } from '../device/context.js';
import { empty, type Tensor } from '../core/tensor.js';
import { sum } from './reduce.js';

/** The workgroup size these reductions run with, whatever the kernel's default: small groups keep every core busy on few invocations. */
const WG = 64;
/** Enough partial sums to keep every core busy, on a GPU as on a software adapter. */
const targetInvocations = 8192;
/** Below this many items per chunk the second pass costs more than the split saves. */
const minItemsPerChunk = 128;

export interface RowSumsShape {
  /** Independent sums per stat (channels, or samples × classes). */
  rows: number;
  /** Items summed into each row. */
  rowLength: number;
  /** Sums per row computed together (Dice: Σ p·g, Σ p², Σ g²). */
  stats: number;
}

/**
 * Runs `kernel.entry`, which gets the params `rows`, `rowLength` and `chunks` besides `params` and
 * must, at invocation t = row · chunks + chunk (t < rows · chunks), sum the items chunk,
 * chunk + chunks, chunk + 2·chunks, … of its row (adjacent invocations read adjacent items) and
 * write stat s to `partials[(s · rows + row) · chunks + chunk]`. Returns the totals, [stats, rows].
 */
export function rowSums(
  op: string,
  kernel: string,
  entry: string,
  bindings: Record<string, Bindable | null>,
  params: Record<string, number | readonly number[]>,
  { rows, rowLength, stats }: RowSumsShape,
  constants: Record<string, number> = {},
): Tensor {
  const chunks = Math.max(1, Math.min(Math.ceil(targetInvocations / rows), Math.ceil(rowLength / minItemsPerChunk)));
  const partials = empty([stats, rows, chunks]);
  const ctx = getContext();
  ctx.dispatch({
    op,
    kernel,
    entry,
    bindings: { ...bindings, partials },
    params: { ...params, rows, rowLength, chunks },
    constants: { ...constants, WG },
    invocations: rows * chunks,
  });
  const totals = sum(partials, 2);
  partials.dispose();
  return totals;
}
