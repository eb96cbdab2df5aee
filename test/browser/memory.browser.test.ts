// GPU memory in the browser: the demo page segments a scan 50 times in a row, and the library's
// counters (tensors' bytes in use, bytes parked in the buffer pool) stay exactly where the first
// segmentation left them. A small scan keeps the 50 runs within a minute on SwiftShader.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticScan } from '../../examples/browser/pipeline.js';
import { encodeVolume } from '../../src/io/index.js';
import { findChromium, openDemo, runTask, startDemoSession, waitReady, type DemoSession } from './browser.js';

const chromiumPath = findChromium().path;
const runs = 50;

describe.skipIf(!chromiumPath)('demo page memory in Chromium', () => {
  let session: DemoSession;

  beforeAll(async () => {
    session = await startDemoSession();
  });

  afterAll(() => session?.close());

  it(`survives ${runs} segmentations in a row without GPU memory growth`, async () => {
    const { page, log } = await openDemo(session.browser, session.served.url);
    const scanPath = join(session.dir, 'small.nii.gz');
    writeFileSync(scanPath, encodeVolume(syntheticScan(11, [8, 16, 16]).scan, 'small.nii.gz'));
    await page.setInputFiles('#scan-file', scanPath);
    await page.waitForFunction(() => document.getElementById('scan-info')!.textContent!.startsWith('small.nii.gz'));
    await waitReady(page, log);

    const counters: { inUse: number; pooled: number }[] = [];
    const t0 = performance.now();
    for (let i = 1; i <= runs; i++) {
      await runTask(page, '#segment', log);
      expect(await page.getAttribute('#app', 'data-segmentations')).toBe(String(i));
      counters.push({
        inUse: Number(await page.getAttribute('#memory', 'data-bytes-in-use')),
        pooled: Number(await page.getAttribute('#memory', 'data-pooled-bytes')),
      });
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `memory: ${runs} segmentations in ${seconds.toFixed(1)} s; bytes in use ${counters[0]!.inUse}, pooled ` +
        `${counters[0]!.pooled} after the first`,
    );
    // Only the model's parameters stay in use between segmentations.
    expect(counters[0]!.inUse).toBeGreaterThan(0);
    expect(counters.map((c) => c.inUse)).toEqual(counters.map(() => counters[0]!.inUse));
    expect(counters.map((c) => c.pooled)).toEqual(counters.map(() => counters[0]!.pooled));
    expect(await page.textContent('#voxels')).toMatch(/^\d+$/);
  });
});
