// Host-side data figures: how long the built-in synthetic volumes take to make (they feed every
// example and test run, so a regression there shows as slow training, not as a failure).
import { syntheticCase } from '../src/data/synthetic.js';
import type { Row } from './lib/report.js';
import { median } from './lib/timing.js';

export function measureData(options: { quick: boolean; log: (s: string) => void }): Row[] {
  const rows: Row[] = [];
  const shapes: [number, number, number][] = [
    [32, 32, 32],
    [32, 64, 64],
  ];
  for (const shape of shapes) {
    syntheticCase(0, shape); // warm-up: the first call compiles
    const times = Array.from({ length: options.quick ? 5 : 15 }, (_, seed) => {
      const start = performance.now();
      syntheticCase(seed + 1, shape);
      return performance.now() - start;
    });
    const row: Row = {
      section: 'data',
      name: 'syntheticCase',
      shape: shape.join('×'),
      status: 'ok',
      medianMs: median(times),
      minMs: Math.min(...times),
      samples: times.length,
    };
    options.log(`  syntheticCase ${row.shape}: ${row.medianMs!.toFixed(1)} ms (median of ${times.length})`);
    rows.push(row);
  }
  return rows;
}
