// 1-D work larger than 65535 workgroups: ctx.grid() folds it into a 2-D dispatch, and every kernel
// rebuilds the flat index as gid.x + gid.y * nwg.x * WG.
import { beforeAll, describe, expect, it } from 'vitest';
import { add, full, narrow, tensor, type Context } from '../../src/index.js';
import { gpu } from '../helpers.js';

let ctx: Context;
beforeAll(async () => {
  ctx = await gpu();
});

// 2^24 + 1000 elements: 65540 workgroups of 256, folded into [32770, 2].
const N = 2 ** 24 + 1000;

describe(`${N} elements`, () => {
  it('needs a 2-D grid', () => {
    expect(ctx.grid(N, 256)).toEqual([32770, 2]);
  });

  it('fill and add are right at sampled windows across the whole range', async () => {
    // i mod 8191 is exact in float32 and changes under any shift of the index short of 8191 (a
    // wrong row offset of the 2-D grid would shift by 32770·256 ≡ 1536 mod 8191).
    const a = new Float32Array(N);
    for (let i = 0; i < N; i++) a[i] = i % 8191;
    const x = tensor(a);
    const filled = full([N], 2.5);
    const out = add(x, filled);
    x.dispose();
    filled.dispose();
    // Read windows only (narrow is a small copy): the start, across the end of the first row of
    // workgroups (32770·256 = 8389120), and the tail, which only the second row writes.
    const rowEnd = 32770 * 256;
    for (const start of [0, 5_000_000, rowEnd - 2048, N - 4096]) {
      const window = narrow(out, 0, start, 4096);
      const got = await window.toArray();
      window.dispose();
      let bad = 0;
      for (let k = 0; k < 4096; k++) if (got[k] !== a[start + k]! + 2.5) bad++;
      expect(bad, `window at ${start}`).toBe(0);
    }
    out.dispose();
    ctx.pool.trim();
  });
});
