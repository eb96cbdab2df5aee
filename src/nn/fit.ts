// The training loop shared by the example and `voxgpu train`: batches in, one trainStep each, the
// learning-rate schedule, periodic checkpoints, and a clean stop when the loss stops being finite.
import { concat } from '../ops/concat.js';
import type { DeviceBatch, HostBatch } from '../data/batch.js';
import { Tensor, tensor } from '../core/tensor.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { LRScheduler } from '../optim/scheduler.js';
import { autotune, type AutotuneOptions } from '../autotune.js';
import { batchLoss, trainStep, type LogitsModel, type LossKind } from './train-step.js';

export interface FitOptions {
  iterations: number;
  /** Iterations already done (when resuming); numbering continues from here. */
  startIteration?: number;
  loss?: LossKind;
  /** Cross-entropy class weights, background first. */
  classWeights?: readonly number[];
  scheduler?: LRScheduler;
  checkpointEvery?: number;
  /** Saves a checkpoint for the given iteration count (atomically, so a crash keeps the last one). */
  saveCheckpoint?: (iteration: number) => Promise<void>;
  /**
   * Every how many iterations the losses are read back to the CPU; default 10, 1 reads every step.
   * A readback waits for the GPU to finish all it was given, so between reads the CPU records the
   * next steps (and a GPU batch's augmentation) while the GPU runs. The losses in between stay on the
   * GPU and come back together, so none is missed; the divergence check runs on each read, and a read
   * comes before every checkpoint, so no checkpoint holds weights after a non-finite loss.
   */
  lossEvery?: number;
  /**
   * After each step, with its loss where the losses were read at this iteration (see lossEvery),
   * otherwise undefined. A promise it returns (e.g. a validation pass) is awaited before the next step.
   */
  onIteration?: (iteration: number, loss: number | undefined) => void | Promise<void>;
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

/** The losses of the iterations trained since the last read, still on the GPU. */
class PendingLosses {
  private readonly pending: Tensor[] = [];

  constructor(
    private readonly losses: number[],
    private readonly diverged: (iteration: number, loss: number) => Error,
  ) {}

  /** Takes ownership of a one-element loss. */
  add(loss: Tensor): void {
    // As [1], so the pending losses concatenate into one readback.
    this.pending.push(loss.withShape([1]));
    loss.dispose();
  }

  /** Reads the pending losses in one readback (after `iteration`); throws at the first non-finite one. */
  async read(iteration: number): Promise<number | undefined> {
    if (this.pending.length === 0) return this.losses.at(-1);
    const all = concat(this.pending);
    const values = await all.toArray().finally(() => all.dispose());
    this.dispose();
    const first = iteration - values.length + 1;
    values.forEach((v, i) => {
      if (!Number.isFinite(v)) throw this.diverged(first + i, v);
    });
    this.losses.push(...values);
    return values.at(-1);
  }

  dispose(): void {
    for (const t of this.pending.splice(0)) t.dispose();
  }
}

export async function fit(
  model: LogitsModel,
  optimizer: Optimizer,
  batches: AsyncIterable<HostBatch | DeviceBatch> | Iterable<HostBatch | DeviceBatch>,
  o: FitOptions,
): Promise<number[]> {
  const lossEvery = o.lossEvery ?? 10;
  if (!Number.isInteger(lossEvery) || lossEvery < 1) throw new Error(`fit: lossEvery must be a positive integer, got ${lossEvery}`);
  const losses: number[] = [];
  let iteration = o.startIteration ?? 0;
  let lastSaved = 0;
  const pending = new PendingLosses(losses, (at, loss) => {
    const kept = lastSaved ? `the checkpoint of iteration ${lastSaved} is kept` : 'no checkpoint was saved yet';
    return new DivergedError(`training diverged at iteration ${at} (loss ${loss}); ${kept}. Try a lower learning rate.`);
  });
  const weights = o.classWeights ? tensor([...o.classWeights], [o.classWeights.length]) : undefined;
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
          await autotune(
            () => batchLoss(model, image, labels, { loss: o.loss, classWeights: weights }).backward(),
            typeof o.tune === 'object' ? o.tune : {},
          );
          // The dry run's gradients hold garbage.
          optimizer.zeroGrad();
        }
        o.onStart?.();
      }
      pending.add(trainStep(model, optimizer, image, labels, { loss: o.loss, classWeights: weights }));
      image.dispose();
      labels.dispose();
      iteration++;
      // The next batch is asked for before any read: a GPU batch records its augmentation behind this
      // step, a CPU batch is prepared while the GPU runs it.
      next = ask();
      o.scheduler?.step();
      const save = o.checkpointEvery && iteration % o.checkpointEvery === 0 ? o.saveCheckpoint : undefined;
      const read = save || iteration % lossEvery === 0 || iteration >= o.iterations;
      await o.onIteration?.(iteration, read ? await pending.read(iteration) : undefined);
      if (save) {
        await save(iteration);
        lastSaved = iteration;
      }
    }
    // The source ran out before `iterations`.
    await pending.read(iteration);
  } finally {
    pending.dispose();
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
