// A small PyTorch-like Module: parameters, buffers (state that is saved but not trained, such as
// batch norm's running statistics) and sub-modules registered by name, so that namedParameters(),
// namedBuffers(), stateDict() and loadStateDict() walk the same tree with dotted names.
import { keep } from '../core/memory.js';
import { formatShape, type Tensor } from '../core/tensor.js';

export type StateDict = Map<string, Tensor>;

/** Host-side tensor data, as read from a checkpoint. */
export interface HostTensor {
  shape: readonly number[];
  data: Float32Array;
}

export abstract class Module {
  training = true;
  private readonly params = new Map<string, Tensor>();
  private readonly buffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  abstract forward(...inputs: Tensor[]): Tensor;

  /** Registers a trainable tensor; it outlives any tidy() scope and requires grad. */
  protected addParameter(name: string, t: Tensor): Tensor {
    t.requiresGrad = true;
    this.params.set(name, keep(t));
    return t;
  }

  /** Registers state that is saved and loaded with the parameters but not trained (no grad). */
  protected addBuffer(name: string, t: Tensor): Tensor {
    t.requiresGrad = false;
    this.buffers.set(name, keep(t));
    return t;
  }

  protected addModule<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, p] of this.params) yield [prefix + n, p];
    for (const [n, c] of this.children) yield* c.namedParameters(`${prefix}${n}.`);
  }

  *namedBuffers(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, b] of this.buffers) yield [prefix + n, b];
    for (const [n, c] of this.children) yield* c.namedBuffers(`${prefix}${n}.`);
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [n, c] of this.children) yield* c.namedModules(prefix ? `${prefix}.${n}` : n);
  }

  /** Number of trainable scalars. */
  parameterCount(): number {
    return this.parameters().reduce((a, p) => a + p.size, 0);
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Frees every parameter, gradient and buffer (the module is unusable afterwards). */
  dispose(): void {
    this.zeroGrad();
    for (const p of this.parameters()) p.dispose();
    for (const [, b] of this.namedBuffers()) b.dispose();
  }

  /** The parameters, then the buffers, by dotted name (the tensors themselves, not copies). */
  stateDict(): StateDict {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values into the parameters and buffers in place (optimizers keep their references).
   * Every one must be present with its exact shape; unknown names are errors too (strict, as
   * PyTorch's default).
   */
  loadStateDict(state: ReadonlyMap<string, HostTensor | Tensor>): void {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    const misshaped = [...own].filter(([k, p]) => {
      const s = state.get(k);
      return s && (s.shape.length !== p.shape.length || s.shape.some((d, i) => d !== p.shape[i]));
    });
    if (missing.length || unexpected.length || misshaped.length) {
      const parts = [
        missing.length ? `missing: ${missing.join(', ')}` : '',
        unexpected.length ? `unexpected: ${unexpected.join(', ')}` : '',
        ...misshaped.map(([k, p]) => `${k}: expected shape ${formatShape(p.shape)}, got ${formatShape(state.get(k)!.shape)}`),
      ].filter(Boolean);
      throw new Error(`loadStateDict: state does not match the model (${parts.join('; ')})`);
    }
    for (const [k, p] of own) copyInto(p, state.get(k)!);
  }
}

function copyInto(dst: Tensor, src: HostTensor | Tensor): void {
  if ('data' in src) {
    dst.ctx.upload(dst.buffer, src.data);
    return;
  }
  dst.ctx.copy(src.buffer, dst.buffer, dst.size * 4);
}
