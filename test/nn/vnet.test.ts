import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gpu, randomArray, maxRelError, maxAbsDiff, rng } from '../helpers.js';
import {
  tensor,
  VNet,
  receptiveField,
  vnetPresets,
  SGD,
  Adam,
  trainStep,
  segment,
  syntheticCase,
  mirror,
  type Optimizer,
} from '../../src/index.js';
import { saveCheckpoint, loadCheckpoint } from '../../src/node.js';
import { paramsOf, vnetForwardRef, vnetLogitsRef } from '../reference/vnet.js';

// A V-Net small enough for llvmpipe in a test: 16³ input, 4 base channels, 3×3×3 convs.
const small = { baseChannels: 4, kernelSize: 3, seed: 7 } as const;
const shape = [16, 16, 16] as const;

beforeAll(async () => {
  await gpu();
});

describe('VNet structure', () => {
  it("follows the paper's stage widths and conv counts", () => {
    const model = new VNet({ seed: 1 });
    const names = [...model.namedParameters()].map(([n, p]) => `${n} ${p.shape.join('x')}`);
    expect(names).toContain('enc1.conv0.weight 16x1x5x5x5');
    expect(names).toContain('enc2.conv1.weight 32x32x5x5x5');
    expect(names).toContain('enc5.conv2.weight 256x256x5x5x5');
    expect(names).toContain('down1.conv.weight 32x16x2x2x2');
    // Transposed conv weights are [in, out, k, k, k]: 256→128, then 256→64, 128→32, 64→16.
    expect(names).toContain('up4.conv.weight 256x128x2x2x2');
    expect(names).toContain('up3.conv.weight 256x64x2x2x2');
    expect(names).toContain('up2.conv.weight 128x32x2x2x2');
    expect(names).toContain('up1.conv.weight 64x16x2x2x2');
    expect(names).toContain('dec4.conv2.weight 256x256x5x5x5');
    expect(names).toContain('dec1.conv0.weight 32x32x5x5x5');
    expect(names).toContain('head.weight 2x32x5x5x5');
    expect(names).toContain('classifier.weight 2x2x1x1x1');
    const convCount = (prefix: string) => names.filter((n) => n.startsWith(prefix) && /conv\d+\.weight/.test(n)).length;
    expect([1, 2, 3, 4, 5].map((l) => convCount(`enc${l}.`))).toEqual([...vnetPresets.paper.encoderConvs]);
    expect([4, 3, 2, 1].map((l) => convCount(`dec${l}.`))).toEqual([...vnetPresets.paper.decoderConvs]);
    // PReLU slopes start at 0.25, one per channel.
    expect(names).toContain('enc1.prelu.weight 16');
  });

  it("reproduces the paper's Table 1 receptive fields", () => {
    const fields = receptiveField(new VNet({ head: '1x1', seed: 1 })).map((f) => [f.stage, f.receptiveField]);
    expect(fields).toEqual([
      ['L-Stage 1', 5],
      ['L-Stage 2', 22],
      ['L-Stage 3', 72],
      ['L-Stage 4', 172],
      ['L-Stage 5', 372],
      ['R-Stage 4', 476],
      ['R-Stage 3', 528],
      ['R-Stage 2', 546],
      ['R-Stage 1', 551],
      ['Output', 551],
    ]);
    // The default head adds a 5×5×5 conv before the 1×1×1 classifier.
    expect(receptiveField(new VNet({ seed: 1 })).at(-1)!.receptiveField).toBe(555);
  });

  it('rejects spatial sizes not divisible by 16 and suggests the nearest valid one', () => {
    const model = new VNet(small);
    const x = tensor(new Float32Array(20 * 16 * 30), [1, 1, 20, 16, 30]);
    expect(() => model.forward(x)).toThrow(
      'VNet: spatial size 20×16×30 must be divisible by 16 (4 halvings); nearest valid size: 16×16×32',
    );
    expect(() => model.forward(tensor(new Float32Array(8), [8]))).toThrow('VNet: input must be [N, 1, D, H, W], got [8]');
  });

  it('outputs per-voxel class probabilities of the input size', async () => {
    const model = new VNet({ ...small, numClasses: 3 });
    const x = tensor(Float32Array.from(randomArray(2 * 16 ** 3, 3)), [2, 1, ...shape]);
    const p = model.forward(x);
    expect(p.shape).toEqual([2, 3, ...shape]);
    const v = await p.toArray();
    const voxels = 16 ** 3;
    for (const i of [0, 100, voxels - 1]) expect(v[i]! + v[voxels + i]! + v[2 * voxels + i]!).toBeCloseTo(1, 5);
  });
});

describe('VNet forward against the float64 reference', () => {
  it('matches the composition of the reference ops: residual sums, skips, up/down convs, head', async () => {
    // Three levels, stages of one and two convs (so the PReLUs between convs are there too), 8³.
    const model = new VNet({ baseChannels: 2, kernelSize: 3, encoderConvs: [1, 2, 2], decoderConvs: [2, 1], seed: 5 });
    // Biases start at 0 and slopes at 0.25: random ones make a dropped bias or a slope on the wrong
    // channel show.
    const r = rng(17);
    const state = new Map(
      [...(await paramsOf(model))].map(([name, p]) => {
        const data = Float32Array.from(p.data);
        if (name.endsWith('.bias')) data.forEach((_, i) => (data[i] = 0.2 * r() - 0.1));
        else if (p.shape.length === 1) data.forEach((_, i) => (data[i] = 0.05 + 0.4 * r()));
        return [name, { shape: p.shape, data }];
      }),
    );
    model.loadStateDict(state);
    const xShape: [number, number, number, number, number] = [2, 1, 8, 8, 8];
    const x = Float32Array.from(randomArray(2 * 8 ** 3, 23));
    const input = { data: Float64Array.from(x), shape: xShape };
    const params = await paramsOf(model);
    const logits = await model.logits(tensor(x, xShape)).toArray();
    const probs = await model.forward(tensor(x, xShape)).toArray();
    // Measured on llvmpipe: 1.5e-7 and 3.4e-7; float32 through ten convolutions in any summation order stays far below.
    expect(maxRelError(logits, vnetLogitsRef(model.config, params, input).data), 'logits').toBeLessThan(1e-5);
    expect(maxAbsDiff(probs, vnetForwardRef(model.config, params, input).data), 'probabilities').toBeLessThan(5e-6);
    model.dispose();
  });
});

describe('state and checkpoints', () => {
  async function weights(model: VNet): Promise<Float32Array[]> {
    return Promise.all(model.parameters().map((p) => p.toArray()));
  }

  it('stateDict round trip restores every parameter, and mismatches name the tensors', async () => {
    const a = new VNet({ ...small, seed: 1 });
    const b = new VNet({ ...small, seed: 2 });
    const host = new Map(
      await Promise.all([...a.stateDict()].map(async ([k, t]) => [k, { shape: t.shape, data: await t.toArray() }] as const)),
    );
    b.loadStateDict(host);
    const [wa, wb] = [await weights(a), await weights(b)];
    wa.forEach((w, i) => expect(maxRelError(wb[i]!, w)).toBe(0));
    host.delete('enc1.conv0.bias');
    host.set('dec1.conv0.weight', { shape: [1, 2, 3], data: new Float32Array(6) });
    expect(() => b.loadStateDict(host)).toThrow(
      'loadStateDict: state does not match the model (missing: enc1.conv0.bias; dec1.conv0.weight: expected shape [8, 8, 3, 3, ' +
        '3], got [1, 2, 3])',
    );
  });

  function data(seed: number) {
    const c = syntheticCase(seed, [...shape]);
    return { image: tensor(c.image, [1, 1, ...shape]), labels: tensor(Float32Array.from(c.label), [1, ...shape]) };
  }

  async function run(model: VNet, opt: Optimizer, from: number, to: number): Promise<number[]> {
    const losses: number[] = [];
    for (let it = from; it < to; it++) {
      const { image, labels } = data(it);
      const loss = trainStep(model, opt, image, labels);
      losses.push(await loss.item());
      for (const t of [image, labels, loss]) t.dispose();
    }
    return losses;
  }

  for (const [name, make] of [
    ['SGD', (m: VNet) => new SGD(m.parameters(), { lr: 0.01, momentum: 0.9 })],
    ['Adam', (m: VNet) => new Adam(m.parameters(), { lr: 1e-3 })],
  ] as const) {
    it(`trainStep moves the parameters and lowers the loss of the batch it trains on (${name})`, async () => {
      const model = new VNet(small);
      const opt = make(model);
      const before = await weights(model);
      const { image, labels } = data(0);
      const losses: number[] = [];
      for (let it = 0; it < 4; it++) {
        const loss = trainStep(model, opt, image, labels);
        losses.push(await loss.item());
        loss.dispose();
      }
      for (let it = 1; it < losses.length; it++) expect(losses[it], `loss after ${it} steps`).toBeLessThan(losses[it - 1]!);
      // Adam's steps are about lr whatever a gradient's size, so every parameter moves. (SGD's, lr·g,
      // can fall below half a float32 ulp where gradients are tiny, as at the 1-voxel bottom stage.)
      if (name === 'Adam') {
        const after = await weights(model);
        const unchanged = [...model.namedParameters()].map(([n]) => n).filter((_, i) => maxAbsDiff(before[i]!, after[i]!) === 0);
        expect(unchanged, 'parameters left unchanged').toEqual([]);
      }
      for (const t of [image, labels]) t.dispose();
      model.dispose();
    });

    it(`resuming from a checkpoint continues identically (${name})`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'voxgpu-ckpt-'));
      const path = join(dir, 'model.safetensors');
      const straight = new VNet(small);
      const opt1 = make(straight);
      const lossesStraight = await run(straight, opt1, 0, 4);

      const first = new VNet(small);
      const opt2 = make(first);
      await run(first, opt2, 0, 2);
      await saveCheckpoint(path, first, { optimizer: opt2, iteration: 2, config: first.config });
      const resumed = new VNet({ ...small, seed: 99 });
      const opt3 = make(resumed);
      const info = await loadCheckpoint(path, resumed, opt3);
      expect(info.iteration).toBe(2);
      expect(info.config).toMatchObject({ baseChannels: 4, kernelSize: 3 });
      const lossesResumed = await run(resumed, opt3, 2, 4);
      expect(lossesResumed).toEqual(lossesStraight.slice(2));
      const [ws, wr] = [await weights(straight), await weights(resumed)];
      ws.forEach((w, i) => expect(maxRelError(wr[i]!, w)).toBe(0));
    });
  }

  it('a damaged or mismatched checkpoint is rejected by name and the file on disk is replaced atomically', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'voxgpu-ckpt-'));
    const path = join(dir, 'model.safetensors');
    const model = new VNet(small);
    await saveCheckpoint(path, model, { iteration: 1 });
    const bytes = readFileSync(path);
    writeFileSync(join(dir, 'cut.safetensors'), bytes.subarray(0, bytes.length - 100));
    await expect(loadCheckpoint(join(dir, 'cut.safetensors'), model)).rejects.toThrow(
      /safetensors: .*cut\.safetensors: tensor '.*' of shape .* does not fit/,
    );
    await expect(loadCheckpoint(path, new VNet({ ...small, baseChannels: 8 }))).rejects.toThrow(
      new RegExp(
        String.raw`checkpoint .*model\.safetensors: loadStateDict: state does not match the model ` +
          String.raw`\(enc1\.conv0\.weight: expected shape \[8, 1, 3, 3, 3\], got \[4, 1, 3, 3, 3\]`,
      ),
    );
    await saveCheckpoint(path, model, { iteration: 2 });
    expect((await loadCheckpoint(path, model)).iteration).toBe(2);
  });
});

describe('segment', () => {
  it('sliding windows give the same result as one pass where they agree, and free their memory', async () => {
    const ctx = await gpu();
    // 1×1×1 convolutions and three 2×2×2 halvings: each output voxel depends on exactly its aligned
    // 8³ block, so every window starting on a multiple of 8 sees what the whole pass sees and must
    // agree with it everywhere; the overlapping windows (W: 0, 8, 16) are blended by their tents.
    const local = new VNet({ baseChannels: 4, kernelSize: 1, head: '1x1', encoderConvs: [1, 1, 1, 1], decoderConvs: [1, 1, 1], seed: 7 });
    expect(local.sizeMultiple).toBe(8);
    const c = syntheticCase(5, [16, 16, 32]);
    const whole = await segment(local, c.image, [16, 16, 32]);
    const before = ctx.memory().bytesInUse;
    let windowCount = 0;
    const windows = await segment(local, c.image, [16, 16, 32], {
      window: [16, 16, 16],
      overlap: 0.5,
      onWindow: (_, total) => (windowCount = total),
    });
    // ≤ rather than =: the garbage collector may free tensors of earlier tests meanwhile.
    expect(ctx.memory().bytesInUse).toBeLessThanOrEqual(before);
    expect(windowCount).toBe(3);
    expect(windows.probs.length).toBe(2 * 16 * 16 * 32);
    expect(maxRelError(windows.probs, whole.probs)).toBeLessThan(1e-5);
    for (let i = 0; i < whole.mask.length; i++) {
      // Equal masks, except where rounding may tip a probability across the threshold.
      if (Math.abs(whole.probs[16 * 16 * 32 + i]! - 0.5) > 1e-4) expect(windows.mask[i], `voxel ${i}`).toBe(whole.mask[i]);
    }
    local.dispose();
  });

  it('mirror averages the 8 mirror images, so mirroring the input mirrors the result', async () => {
    const model = new VNet({ baseChannels: 2, kernelSize: 3, seed: 3 });
    const dims: [number, number, number] = [16, 16, 16];
    const c = syntheticCase(9, dims);
    const flip = (a: Float32Array, channels: number, axes: number) => mirror(a, dims, axes, channels);
    const expected = new Float64Array(2 * 4096);
    for (let axes = 0; axes < 8; axes++) {
      const plain = await segment(model, flip(c.image, 1, axes), dims);
      flip(plain.probs, 2, axes).forEach((p, i) => (expected[i]! += p / 8));
    }
    const mirrored = await segment(model, c.image, dims, { mirror: true });
    expect(maxAbsDiff(mirrored.probs, expected)).toBeLessThan(1e-6);
    // Not so for one pass: the network itself is not mirror-equivariant, which is why mirroring helps.
    const plain = await segment(model, c.image, dims);
    expect(maxAbsDiff(plain.probs, expected)).toBeGreaterThan(1e-3);
    const ofMirror = await segment(model, flip(c.image, 1, 5), dims, { mirror: true });
    expect(maxAbsDiff(flip(ofMirror.probs, 2, 5), mirrored.probs)).toBeLessThan(1e-6);
    model.dispose();
  });
});
