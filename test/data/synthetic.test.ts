import { describe, it, expect } from 'vitest';
import { syntheticCase } from '../../src/data/synthetic.js';
import { dice } from '../../src/metrics/overlap.js';

describe('syntheticCase', () => {
  it('is reproducible per seed and differs between seeds', () => {
    const a = syntheticCase(3, [16, 24, 24]);
    expect(Array.from(syntheticCase(3, [16, 24, 24]).image)).toEqual(Array.from(a.image));
    expect(Array.from(syntheticCase(4, [16, 24, 24]).label)).not.toEqual(Array.from(a.label));
  });

  it('has a small binary foreground, like a prostate in an MRI', () => {
    for (let seed = 0; seed < 8; seed++) {
      const { image, label } = syntheticCase(seed, [32, 64, 64]);
      expect(image.length).toBe(32 * 64 * 64);
      expect(label.every((v) => v === 0 || v === 1)).toBe(true);
      const fraction = label.reduce((s, v) => s + v, 0) / label.length;
      expect(fraction).toBeGreaterThan(0.015);
      expect(fraction).toBeLessThan(0.1);
      expect(image.every(Number.isFinite)).toBe(true);
    }
  });

  it('cannot be segmented by a single intensity threshold', () => {
    let total = 0;
    const seeds = [0, 1, 2, 3];
    for (const seed of seeds) {
      const { image, label } = syntheticCase(seed, [32, 64, 64]);
      let best = 0;
      for (let t = 0; t <= 1.2; t += 0.02) {
        best = Math.max(
          best,
          dice(
            image.map((v) => (v > t ? 1 : 0)),
            label,
          ),
          dice(
            image.map((v) => (v < t ? 1 : 0)),
            label,
          ),
        );
      }
      total += best;
    }
    expect(total / seeds.length).toBeLessThan(0.8);
  });
});
