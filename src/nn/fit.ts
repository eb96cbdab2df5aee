// The training loop shared by the example and `voxgpu train`: batches in, one trainStep each, the
// learning-rate schedule, periodic checkpoints, and a clean stop when the loss stops being finite.
import { Tensor, tensor } from '../tensor.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { StepLR } from '../optim/step-lr.js';
import { autotune, type AutotuneOptions } from '../tuning/autotune.js';
import { batchLoss, trainStep, type LossKind } from './train-step.js';
import type { VNet } from './vnet.js';

/** A batch on the host: image [N, Cin, D, H, W] and labels [N, D, H, W] (class indices). */
export interface HostBatch {
  image: Float32Array;
  labels: ArrayLike<number>;
  shape: readonly [number, number, number, number, number];
}

/** A batch already on the GPU (e.g. augmented there: gpuBatchIterator); fit disposes it after its step. */
export interface DeviceBatch {
  /** [N, Cin, D, H, W]. */
  image: Tensor;
  /** [N, D, H, W] class indices. */
  labels: Tensor;
}

export interface FitOptions {
  iterations: number;
  /** Iterations already done (when resuming); numbering continues from here. */
  startIteration?: number;
  loss?: LossKind;
  /** Cross-entropy class weights, background first. */
  classWeights?: readonly number[];
  scheduler?: StepLR;
  checkpointEvery?: number;
  /** Saves a checkpoint for the given iteration count (atomically, so a crash keeps the last one). */
  saveCheckpoint?: (iteration: number) => Promise<void>;
  /** After each step; a promise it returns (e.g. a validation pass) is awaited before the next step. */
  onIteration?: (iteration: number, loss: number) => void | Promise<void>;
  /**
   * Tunes the kernels for the model's shapes on the first batch, before the first step (autotune:
   * seconds per new shape on a software adapter, nothing once they are cached). Default true;
   * false skips it; options pass a log for what was tuned.
   */
  tune?: boolean | AutotuneOptions;
  /** Called once before the first step, after tuning (e.g. to start a progress bar). */
  onStart?: () => void;
}

export class DivergedError extends Error {}

function onDevice(b: HostBatch | DeviceBatch): { image: Tensor; labels: Tensor } {
  if (b.image instanceof Tensor) return b as DeviceBatch;
  const h = b as HostBatch;
  const [n, , d, hh, w] = h.shape;
  return { image: tensor(h.image, h.shape), labels: tensor(Float32Array.from(h.labels), [n, d, hh, w]) };
}

export async function fit(model: VNet, optimizer: Optimizer, batches: AsyncIterable<HostBatch | DeviceBatch> | Iterable<HostBatch | DeviceBatch>, o: FitOptions): Promise<number[]> {
  const losses: number[] = [];
  const weights = o.classWeights ? tensor([...o.classWeights], [o.classWeights.length]) : undefined;
  let iteration = o.startIteration ?? 0;
  let lastSaved = 0;
  let started = false;
  const source = Symbol.asyncIterator in batches ? batches[Symbol.asyncIterator]() : batches[Symbol.iterator]();
  const ask = () => {
    if (iteration >= o.iterations) return null;
    const p = Promise.resolve(source.next());
    // Awaited later, after the loss: a failing batch must reject there, not crash as unhandled meanwhile.
    p.catch(() => undefined);
    return p;
  };
  let next = ask();
  try {
    while (next) {
      const r = await next;
      next = null;
      if (r.done) break;
      const { image, labels } = onDevice(r.value);
      if (!started) {
        started = true;
        if (o.tune !== false) {
          await autotune(() => batchLoss(model, image, labels, { loss: o.loss, classWeights: weights }).backward(), typeof o.tune === 'object' ? o.tune : {});
          // The dry run's gradients hold garbage.
          optimizer.zeroGrad();
        }
        o.onStart?.();
      }
      const lossT = trainStep(model, optimizer, image, labels, { loss: o.loss, classWeights: weights });
      iteration++;
      // The next batch is asked for before the loss is awaited: a GPU batch records its augmentation
      // behind this step, a CPU batch is prepared while the GPU runs it.
      next = ask();
      // One readback per iteration: it is where the progress bar and the divergence check need the value.
      const loss = await lossT.item();
      for (const t of [image, labels, lossT]) t.dispose();
      if (!Number.isFinite(loss)) {
        const kept = lastSaved ? `the checkpoint of iteration ${lastSaved} is kept` : 'no checkpoint was saved yet';
        throw new DivergedError(`training diverged at iteration ${iteration} (loss ${loss}); ${kept}. Try a lower learning rate.`);
      }
      o.scheduler?.step();
      losses.push(loss);
      await o.onIteration?.(iteration, loss);
      if (o.saveCheckpoint && o.checkpointEvery && iteration % o.checkpointEvery === 0) {
        await o.saveCheckpoint(iteration);
        lastSaved = iteration;
      }
    }
  } finally {
    weights?.dispose();
    // A batch asked for but not trained on (an error stopped the loop) is freed, then the source closed.
    const unused = await next?.catch(() => undefined);
    if (unused && !unused.done && unused.value.image instanceof Tensor) {
      const b = unused.value as DeviceBatch;
      b.image.dispose();
      b.labels.dispose();
    }
    await source.return?.();
  }
  if (o.saveCheckpoint && lastSaved !== iteration) await o.saveCheckpoint(iteration);
  return losses;
}
