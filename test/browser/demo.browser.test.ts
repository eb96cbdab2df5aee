// The demo page (examples/browser), production-built and driven in headless Chromium: it segments
// the synthetic volume with a checkpoint trained in Node and agrees with Node's segmentation, the
// overlay is visible in a screenshot, the mask downloads as NIfTI, scans open from a drop or the
// file picker, it trains live with a loss plot, its checkpoints load in Node, a dropped TF.js model
// (brainchop's model5_gw_ae with its colormap) and a picked ONNX graph (PyTorch's export of a
// MONAI-style UNet) label scans as Node does, and without WebGPU it says so.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import { checkpointBytes, checkpointInfo } from '../../src/io/checkpoint.js';
import { decodeVolume, encodeMhd, encodeVolume } from '../../src/io/index.js';
import { lossLineColour } from '../../examples/browser/loss-plot.js';
import {
  defaultSpacing,
  disposeModel,
  modelFromCheckpoint,
  newModel,
  segmentScan,
  syntheticScan,
  train,
  type ModelState,
} from '../../examples/browser/pipeline.js';
import { foregroundRgb } from '../../examples/browser/colormap.js';
import { type LabelSegmentation, openOnnxModel, openTfjsModel, segmentWithImported } from '../../examples/browser/imported.js';
import type { Volume } from '../../src/image/volume.js';
import { randomArray } from '../helpers.js';
import { findChromium, launchChromium, openDemo, repoRoot, runTask, startDemoSession, waitReady, type DemoSession } from './browser.js';

const chromiumPath = findChromium().path;

/** Pixels where the overlay's red clearly dominates (grey levels have r = g = b). */
function overlayPixels(rgba: ArrayLike<number>): number {
  let n = 0;
  const [r, g, b] = foregroundRgb;
  const margin = (r - Math.max(g, b)) / 4;
  for (let p = 0; p < rgba.length; p += 4) if (rgba[p]! - Math.max(rgba[p + 1]!, rgba[p + 2]!) > margin) n++;
  return n;
}

/** A canvas's RGBA pixels; runs in the page (playwright serialises the function). */
function canvasPixels(c: HTMLElement): number[] {
  if (!(c instanceof HTMLCanvasElement)) throw new Error('not a canvas');
  return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
}

/** Downloads the page's labels: named `name`, on the scan's grid, and Node's labels but for near-ties. */
async function expectLabelsAsNode(page: Page, name: string, scan: Volume, node: LabelSegmentation, what: string): Promise<void> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click('#download-mask')]);
  expect(file.suggestedFilename()).toBe(name);
  const labels = decodeVolume(readFileSync((await file.path())!), name);
  expect(labels.shape).toEqual(scan.shape);
  expect(labels.spacing).toEqual(scan.spacing);
  let differ = 0;
  for (let i = 0; i < labels.data.length; i++) if (labels.data[i] !== node.labels.data[i]) differ++;
  console.log(`demo, ${what}: voxels per class ${node.counts.join(', ')} (Node); ${differ} labels differ from Node's`);
  // Same weights, same input, the same argmax: only a near-tie of two scores may flip a label.
  expect(differ).toBeLessThanOrEqual(Math.max(2, 0.001 * labels.data.length));
}

describe.skipIf(!chromiumPath)('demo page in Chromium', () => {
  let session: DemoSession;
  let dir: string;
  let trained: ModelState;
  let checkpointPath: string;

  beforeAll(async () => {
    session = await startDemoSession();
    dir = session.dir;
    // A briefly trained model from Node: the page must load it and segment exactly as Node does.
    await init();
    trained = newModel();
    await train(trained, 15, () => {});
    checkpointPath = join(dir, 'node-trained.safetensors');
    writeFileSync(
      checkpointPath,
      await checkpointBytes(trained.model, { optimizer: trained.optimizer, iteration: trained.iteration, config: trained.model.config }),
    );
  });

  afterAll(() => session?.close());

  it('says WebGPU is missing instead of showing a blank page', async () => {
    const plain = await launchChromium({ webgpu: false });
    try {
      const { page } = await openDemo(plain, session.served.url, 'no-webgpu');
      expect(await page.isVisible('#no-webgpu')).toBe(true);
      expect(await page.textContent('#no-webgpu')).toMatch(/WebGPU is not available/);
      expect(await page.isVisible('#app')).toBe(false);
    } finally {
      await plain.close();
    }
  });

  describe('with WebGPU', () => {
    let page: Page;
    let log: string[];

    beforeAll(async () => {
      ({ page, log } = await openDemo(session.browser, session.served.url));
    });

    it('loads a checkpoint, segments the synthetic volume as Node does, and shows the overlay', async () => {
      await page.setInputFiles('#model-file', checkpointPath);
      await waitReady(page, log);
      expect(await page.textContent('#model-info')).toContain('node-trained.safetensors');
      await runTask(page, '#synthetic', log);
      await runTask(page, '#segment', log);
      expect(await page.getAttribute('#app', 'data-segmentations')).toBe('1');

      const voxels = Number(await page.textContent('#voxels'));
      const ml = Number(await page.textContent('#volume-ml'));
      const { scan } = syntheticScan(Number(await page.inputValue('#seed')));
      const node = await segmentScan(trained, scan);
      expect(voxels).toBeGreaterThan(0);
      // Same weights, same input: only voxels within float rounding of the threshold may differ.
      expect(Math.abs(voxels - node.foregroundVoxels)).toBeLessThanOrEqual(Math.max(2, 0.01 * node.foregroundVoxels));
      expect(ml).toBeCloseTo((voxels * scan.spacing[0] * scan.spacing[1] * scan.spacing[2]) / 1000, 3);

      // The overlay is in the canvases...
      const inCanvases: number[] = [];
      for (const c of await page.locator('#viewer canvas').all()) inCanvases.push(overlayPixels(await c.evaluate(canvasPixels)));
      expect(inCanvases.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      // ...and on screen.
      const shot = PNG.sync.read(await page.locator('#viewer').screenshot());
      const onScreen = overlayPixels(shot.data);
      console.log(`demo: ${voxels} foreground voxels (Node: ${node.foregroundVoxels}), ${ml} mL, ${onScreen} overlay pixels on screen`);
      expect(onScreen).toBeGreaterThan(100);
      writeFileSync(join(dir, 'viewer.png'), PNG.sync.write(shot));
    });

    it('downloads the mask as NIfTI on the scan grid', async () => {
      const [file] = await Promise.all([page.waitForEvent('download'), page.click('#download-mask')]);
      expect(file.suggestedFilename()).toMatch(/-mask\.nii\.gz$/);
      const mask = decodeVolume(readFileSync((await file.path())!), file.suggestedFilename());
      const { scan } = syntheticScan(Number(await page.inputValue('#seed')));
      expect(mask.shape).toEqual(scan.shape);
      expect(mask.spacing).toEqual(scan.spacing);
      let fg = 0;
      for (const v of mask.data) fg += v ? 1 : 0;
      expect(fg).toBe(Number(await page.textContent('#voxels')));
    });

    it('opens a dropped NIfTI and a picked .mhd with its data file', async () => {
      const small = syntheticScan(3, [8, 16, 16]).scan;
      const nii = encodeVolume(small, 'dropped.nii.gz');
      const dataTransfer = await page.evaluateHandle(
        (bytes) => {
          const dt = new DataTransfer();
          dt.items.add(new File([new Uint8Array(bytes)], 'dropped.nii.gz'));
          return dt;
        },
        [...nii],
      );
      await page.dispatchEvent('body', 'drop', { dataTransfer });
      await page.waitForFunction(() => document.getElementById('scan-info')!.textContent!.startsWith('dropped.nii.gz'));
      await waitReady(page, log);
      expect(await page.textContent('#scan-info')).toContain(small.shape.join(' × '));

      const { header, data } = encodeMhd(small, 'picked.raw');
      writeFileSync(join(dir, 'picked.mhd'), header);
      writeFileSync(join(dir, 'picked.raw'), data);
      await page.setInputFiles('#scan-file', [join(dir, 'picked.mhd'), join(dir, 'picked.raw')]);
      await page.waitForFunction(() => document.getElementById('scan-info')!.textContent!.startsWith('picked.mhd'));
      await waitReady(page, log);
      await runTask(page, '#segment', log);
      const node = await segmentScan(trained, small);
      expect(Math.abs(Number(await page.textContent('#voxels')) - node.foregroundVoxels)).toBeLessThanOrEqual(
        Math.max(2, 0.01 * node.foregroundVoxels),
      );
    });

    it('trains live and plots the loss', async () => {
      const before = Number((await page.textContent('#model-info'))!.match(/(\d+) iterations trained/)![1]);
      await page.fill('#iterations', '2');
      await runTask(page, '#train', log);
      expect(await page.textContent('#model-info')).toContain(`${before + 2} iterations trained`);
      expect(await page.textContent('#status')).toMatch(/Dice loss 0\.\d+/);
      const lineColour = [1, 3, 5].map((i) => parseInt(lossLineColour.slice(i, i + 2), 16));
      const plot = await page.locator('#loss-plot').evaluate(canvasPixels);
      let linePixels = 0;
      for (let p = 0; p < plot.length; p += 4) {
        if (Math.abs(plot[p]! - lineColour[0]!) + Math.abs(plot[p + 1]! - lineColour[1]!) + Math.abs(plot[p + 2]! - lineColour[2]!) < 40)
          linePixels++;
      }
      expect(linePixels).toBeGreaterThan(10);
    });

    it('saves a checkpoint that Node loads, optimizer state included', async () => {
      const iterations = Number((await page.textContent('#model-info'))!.match(/(\d+) iterations trained/)![1]);
      const [file] = await Promise.all([page.waitForEvent('download'), page.click('#save-checkpoint')]);
      const bytes = new Uint8Array(readFileSync((await file.path())!));
      const loaded = modelFromCheckpoint(bytes, file.suggestedFilename());
      try {
        expect(loaded.iteration).toBe(iterations);
        expect(JSON.parse(checkpointInfo(bytes).metadata.optimizer!).type).toBe('Adam');
        expect(loaded.optimizer.stateDict().tensors.size).toBeGreaterThan(0);
      } finally {
        disposeModel(loaded);
      }
    });

    it("labels a dropped scan with a dropped TF.js model (brainchop's model5_gw_ae: topology, settings and colormap) as Node " +
      'does', async () => {
      const folder = join(repoRoot, 'test/fixtures/brainchop/model5_gw_ae');
      const modelFiles = ['model.json', 'group1-shard1of1.bin', 'colormap3.json', 'brainchop.json'].map((name) => ({
        name,
        bytes: new Uint8Array(readFileSync(join(folder, name))),
      }));
      // Random weights in its shard: on a small synthetic scan the trained model sees no brain and
      // labels every voxel background, while these weights give all three classes (test/models/
      // brainchop.test.ts checks the trained weights against TF.js).
      modelFiles[1]!.bytes = new Uint8Array(Float32Array.from(randomArray(modelFiles[1]!.bytes.length / 4, 5, -0.5, 0.5)).buffer);
      // Odd sizes, so a transposed or mis-tiled axis cannot hide.
      const scan = syntheticScan(11, [13, 18, 22]).scan;
      const scanFile = { name: 'head.nii.gz', bytes: encodeVolume(scan, 'head.nii.gz') };
      // The model's four files and the scan in one drop: the page sorts them out.
      const dataTransfer = await page.evaluateHandle(
        (files) => {
          const dt = new DataTransfer();
          for (const f of files) dt.items.add(new File([new Uint8Array(f.bytes)], f.name));
          return dt;
        },
        [...modelFiles, scanFile].map((f) => ({ name: f.name, bytes: [...f.bytes] })),
      );
      await page.dispatchEvent('body', 'drop', { dataTransfer });
      await page.waitForFunction(() => document.getElementById('scan-info')!.textContent!.startsWith('head.nii.gz'));
      await waitReady(page, log);
      expect(await page.textContent('#model-info')).toMatch(
        'model.json: 19 layers, 5,598 parameters, 3 classes (colours and names from colormap3.json); ' +
          "brainchop's pipeline with brainchop.json, conformed",
      );
      expect(await page.isDisabled('#train')).toBe(true);
      // A 32³ conformed cube instead of brainchop's 256³: SwiftShader runs every kernel on the CPU.
      await page.fill('#conform-size', '32');
      await runTask(page, '#segment', log);
      expect(await page.textContent('#status')).toMatch(/^Segmented: \d+ foreground voxels/);

      const opened = openTfjsModel(modelFiles[0]!, [modelFiles[1]!], [modelFiles[2]!], modelFiles[3]!);
      const node = await segmentWithImported(opened, scan, { spacing: scan.spacing, conformSize: 32 }).finally(() =>
        opened.model.dispose(),
      );
      expect(node.counts.every((n) => n > 0)).toBe(true);
      await expectLabelsAsNode(page, 'head-labels.nii.gz', scan, node, 'model5_gw_ae');
      // The legend names each class with the colormap's names.
      const legend = await page.locator('#legend li').allTextContents();
      const ml = (n: number) => ((n * 1.5) / 1000).toFixed(3);
      expect(legend).toEqual([
        `1 White Matter: ${node.counts[1]} voxels, ${ml(node.counts[1]!)} mL`,
        `2 Grey Matter: ${node.counts[2]} voxels, ${ml(node.counts[2]!)} mL`,
      ]);
      expect(Number(await page.textContent('#voxels'))).toBe(node.labels.data.length - node.counts[0]!);
    }, 300_000);

    it('labels a picked scan with a picked ONNX graph (a MONAI-style UNet exported by PyTorch) and its colormap as Node does', async () => {
      const onnx = { name: 'monai_unet.onnx', bytes: new Uint8Array(readFileSync(join(repoRoot, 'test/fixtures/onnx/monai_unet.onnx'))) };
      const colormap = {
        name: 'colormap.json',
        bytes: new TextEncoder().encode(JSON.stringify({ R: [0, 40], G: [0, 200], B: [0, 60], labels: ['background', 'organ'] })),
      };
      for (const f of [onnx, colormap]) writeFileSync(join(dir, f.name), f.bytes);
      await page.setInputFiles('#model-file', [join(dir, onnx.name), join(dir, colormap.name)]);
      await waitReady(page, log);
      expect(await page.textContent('#model-info')).toMatch(
        new RegExp(
          String.raw`^ONNX graph monai_unet\.onnx \(opset 11\): [\d,]+ parameters, 2 classes ` +
            String.raw`\(colours and names from colormap\.json\); .* windows of 16 × 16 × 16 voxels\.$`,
        ),
      );
      // Larger than the graph's 16³ window along y and x (two windows each), at the model spacing.
      const scan = syntheticScan(12, [16, 20, 24]).scan;
      expect(scan.spacing).toEqual(defaultSpacing);
      writeFileSync(join(dir, 'organ.nii.gz'), encodeVolume(scan, 'organ.nii.gz'));
      await page.setInputFiles('#scan-file', join(dir, 'organ.nii.gz'));
      await page.waitForFunction(() => document.getElementById('scan-info')!.textContent!.startsWith('organ.nii.gz'));
      await waitReady(page, log);
      await runTask(page, '#segment', log);

      const opened = openOnnxModel(onnx, [colormap]);
      const node = await segmentWithImported(opened, scan, { spacing: defaultSpacing }).finally(() => opened.model.dispose());
      expect(node.counts[1]).toBeGreaterThan(0);
      await expectLabelsAsNode(page, 'organ-labels.nii.gz', scan, node, 'monai_unet.onnx');
      expect(await page.locator('#legend li').allTextContents()).toEqual([
        `1 organ: ${node.counts[1]} voxels, ${((node.counts[1]! * 1.5) / 1000).toFixed(3)} mL`,
      ]);
    }, 300_000);
  });
});
