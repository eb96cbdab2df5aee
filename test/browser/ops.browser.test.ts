// The op test vectors of op-cases.ts, run in headless Chromium (WebGPU on SwiftShader, from a
// production Vite build of test/browser/harness) and in Node (Dawn): both must agree within 1e-4
// relative, and neither may leave GPU memory in use.
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxRelError } from '../helpers.js';
import { buildAndServe, findChromium, launchChromium, newPage, type Served } from './browser.js';
import type { Harness } from './harness/harness.js';
import { lib } from './lib.js';
import { opCases, runOpCase, type CaseResult } from './op-cases.js';

const harnessDir = fileURLToPath(new URL('./harness/', import.meta.url));
const chromiumPath = findChromium().path;

describe.skipIf(!chromiumPath)('op test vectors in Chromium match Node', () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  let log: string[];

  beforeAll(async () => {
    served = await buildAndServe({ configFile: false, root: harnessDir, base: './' });
    browser = await launchChromium();
    ({ page, log } = await newPage(browser));
    await page.goto(served.url);
    await page.waitForFunction(() => 'harness' in window);
    const described = await page.evaluate(() => (window as unknown as { harness: Harness }).harness.init());
    console.log(`browser adapter: ${described.adapter} (${described.kind})`);
    await lib.init();
    console.log(`node adapter: ${lib.getContext().describe().adapter}`);
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
  });

  function outputsOf(where: string, r: CaseResult): Record<string, number[]> {
    if ('error' in r) throw new Error(`${where}: ${r.error}`);
    expect(r.leakedBytes, `${where} left GPU memory in use`).toBe(0);
    return r.outputs;
  }

  for (const name of Object.keys(opCases)) {
    it(name, async () => {
      const node = await runOpCase(lib, name);
      const t0 = performance.now();
      const inPage = await page.evaluate((n) => (window as unknown as { harness: Harness }).harness.run(n), name);
      const ms = performance.now() - t0;
      const expected = outputsOf('node', node);
      const actual = outputsOf(`browser (log: ${log.join(' | ') || 'empty'})`, inPage);
      expect(Object.keys(actual)).toEqual(Object.keys(expected));
      for (const [k, want] of Object.entries(expected)) {
        const got = actual[k]!;
        expect(got.length, `${name}.${k} length`).toBe(want.length);
        expect(got.every(Number.isFinite), `${name}.${k} finite`).toBe(true);
        expect(maxRelError(got, want), `${name}.${k}`).toBeLessThanOrEqual(opCases[name]!.tolerance ?? 1e-4);
      }
      console.log(`op case ${name}: browser ${ms.toFixed(0)} ms`);
    });
  }
});
