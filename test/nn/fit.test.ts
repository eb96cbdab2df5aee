// fit()'s loss readback: every `lossEvery` iterations and before every checkpoint, all losses in
// between coming back with the same values as reading every step, and a non-finite loss stopping the
// run at the iteration that produced it, before any checkpoint holds its weights.
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticCase } from '../../src/data/synthetic.js';
import { zscore } from '../../src/data/intensity.js';
import type { HostBatch } from '../../src/data/batch.js';
import { DivergedError, fit, type FitOptions } from '../../src/nn/fit.js';
import { VNet } from '../../src/nn/vnet.js';
import { Adam } from '../../src/optim/adam.js';
import { gpu } from '../helpers.js';

const shape = [8, 16, 16] as const;

beforeAll(async () => {
  await gpu();
});

/** `count` host batches of one synthetic case each; the batch at `poisoned` (1-based) holds a NaN. */
function batches(count: number, poisoned?: number): HostBatch[] {
  return Array.from({ length: count }, (_, i) => {
    const { image, label } = syntheticCase(i, [...shape]);
    const z = zscore(image);
    if (i + 1 === poisoned) z[5] = Number.NaN;
    return { image: z, labels: label, shape: [1, 1, ...shape] };
  });
}

/** fit() on a fresh small V-Net; the losses it returns and those onIteration saw, by iteration. */
async function run(
  data: HostBatch[],
  options: Partial<FitOptions>,
): Promise<{ losses: number[]; seen: Map<number, number>; saved: number[] }> {
  const model = new VNet({ baseChannels: 2, kernelSize: 3, encoderConvs: [1, 1], decoderConvs: [1], seed: 1 });
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  const seen = new Map<number, number>();
  const saved: number[] = [];
  try {
    // biome-ignore lint/suspicious/noFocusedTests: voxgpu's training loop, not Jasmine's focused test
    const losses = await fit(model, optimizer, data, {
      iterations: data.length,
      tune: false,
      onIteration: (it, loss) => {
        if (loss !== undefined) seen.set(it, loss);
      },
      saveCheckpoint: async (it) => {
        saved.push(it);
      },
      ...options,
    });
    return { losses, seen, saved };
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

describe('fit reads the loss back', () => {
  it('every lossEvery iterations, at checkpoints and at the end, with the values of reading every step', async () => {
    const data = batches(7);
    const everyStep = await run(data, { lossEvery: 1 });
    expect([...everyStep.seen.keys()]).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const grouped = await run(data, { lossEvery: 3, checkpointEvery: 5 });
    expect([...grouped.seen.keys()]).toEqual([3, 5, 6, 7]);
    // Bit-identical: the GPU work is the same, only when it is read differs.
    expect(grouped.losses).toEqual(everyStep.losses);
    expect([...grouped.seen]).toEqual([3, 5, 6, 7].map((it) => [it, everyStep.losses[it - 1]]));
    expect(grouped.saved).toEqual([5, 7]);
  });

  it('trains: the loss of one batch trained on over and over goes down at every step', async () => {
    const [batch] = batches(1);
    const { losses } = await run(new Array<HostBatch>(5).fill(batch!), { lossEvery: 1 });
    for (let it = 1; it < losses.length; it++) expect(losses[it], `loss of iteration ${it + 1}`).toBeLessThan(losses[it - 1]!);
  });

  it('stops at the first non-finite loss, naming its iteration and the checkpoint kept', async () => {
    // The NaN reaches the loss at iteration 5, and the weights after it; the read comes at 6. It gets
    // there by arithmetic (convolution FMAs, PReLU, exp, sums; softmax's max may skip a NaN, but
    // exp(x − max) still carries it), which propagates NaN on llvmpipe, SwiftShader and GPUs alike.
    const result = run(batches(7, 5), { lossEvery: 6, checkpointEvery: 4 });
    await expect(result).rejects.toThrow(DivergedError);
    await expect(result).rejects.toThrow(
      'training diverged at iteration 5 (loss NaN); the checkpoint of iteration 4 is kept. Try a lower learning rate.',
    );
  });

  it('rejects a lossEvery that is not a positive integer', async () => {
    await expect(run(batches(1), { lossEvery: 0 })).rejects.toThrow('fit: lossEvery must be a positive integer, got 0');
  });
});
