/** Quantiles the way numpy.percentile computes them by default (linear between the two nearest ranks). */

/** `q` in [0, 1] of an ascending array. */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new Error('quantile of an empty set');
  const position = Math.min(Math.max(q, 0), 1) * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (position - low) * (sorted[high] - sorted[low]);
}

/** An ascending float copy (the input stays untouched). */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}
