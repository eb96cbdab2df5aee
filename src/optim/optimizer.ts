// What every optimizer shares: the parameter list, the learning rate a scheduler adjusts, the step
// count, and named state tensors (momentum buffers, moments) that checkpoints save and restore.
import { keep } from '../core/memory.js';
import { zeros } from '../ops/creation.js';
import type { Tensor } from '../core/tensor.js';

export abstract class Optimizer {
  readonly params: Tensor[];
  /** Current learning rate (schedulers change it). */
  lr: number;
  /** Number of step() calls so far. */
  stepCount = 0;
  /** Per-parameter state, e.g. `3.momentum` for the fourth parameter's buffer. */
  protected readonly state = new Map<string, Tensor>();

  /** `kind` names the optimizer in checkpoints and errors (class names do not survive minification). */
  constructor(
    readonly kind: string,
    params: Iterable<Tensor>,
    lr: number,
  ) {
    this.params = [...params];
    if (!(lr >= 0)) throw new Error(`${kind}: lr must be a non-negative number, got ${lr}`);
    this.lr = lr;
  }

  /** Applies one update from the parameters' current gradients (parameters without one are skipped). */
  step(): void {
    this.stepCount++;
    this.params.forEach((p, i) => {
      if (p.grad) this.update(p, p.grad, i);
    });
  }

  protected abstract update(param: Tensor, grad: Tensor, index: number): void;

  /** A state tensor for parameter `index`, created as zeros on first use. */
  protected buffer(index: number, name: string): Tensor {
    const key = `${index}.${name}`;
    let t = this.state.get(key);
    if (!t) this.state.set(key, (t = keep(zeros(this.params[index]!.shape))));
    return t;
  }

  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Frees the optimizer's state tensors (momentum buffers, moments). */
  dispose(): void {
    for (const t of this.state.values()) t.dispose();
    this.state.clear();
  }

  /** State tensors by name, plus the step count and learning rate, for checkpoints. */
  stateDict(): { tensors: Map<string, Tensor>; stepCount: number; lr: number } {
    return { tensors: new Map(this.state), stepCount: this.stepCount, lr: this.lr };
  }

  loadStateDict(s: {
    tensors: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>;
    stepCount: number;
    lr: number;
  }): void {
    for (const [key, t] of s.tensors) {
      const index = Number(key.split('.')[0]);
      const p = this.params[index];
      if (!p || p.size !== t.data.length) {
        throw new Error(
          `${this.kind}.loadStateDict: state '${key}' (${t.data.length} values) does not fit parameter ` +
            `${index}${p ? ` of ${p.size} values` : ' (no such parameter)'}`,
        );
      }
      const buf = this.buffer(index, key.slice(key.indexOf('.') + 1));
      buf.ctx.upload(buf.buffer, t.data);
    }
    this.stepCount = s.stepCount;
    this.lr = s.lr;
  }
}
