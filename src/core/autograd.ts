// Reverse-mode autograd on a tape of GradNodes (one per op output), in the spirit of micrograd:
// backward() walks the graph in reverse topological order, each node maps its output gradient to
// its inputs' gradients, and leaves with requiresGrad accumulate them in `.grad` as PyTorch does.
// Each node's backward runs in a scope that keeps only the gradients it returns (as tfjs's engine runs
// gradient functions in a tidy), so backward closures never free their temporaries by hand.
// Tensors are only a type here: tensor.ts imports this file to run Tensor.backward().
import type { Tensor } from './tensor.js';
import { keep, scoped } from './scope.js';
import { formatShape } from './shape.js';

export type BackwardFn = (gradOutput: Tensor) => readonly (Tensor | null)[];

export interface GradNode {
  op: string;
  inputs: readonly Tensor[];
  backward: BackwardFn;
  /** Tensors the op made only for its backward (not visible to the user): freed after backward. */
  internals: Tensor[];
  released: boolean;
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording any graph (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Whether an op on these inputs must record a backward. */
export function needsGrad(inputs: readonly (Tensor | null | undefined)[]): boolean {
  return gradEnabled && inputs.some((t) => t?.requiresGrad);
}

/**
 * Attaches a backward to `output`. `backward` returns one gradient per input (null where the input
 * needs none); it runs under noGrad in a scope of its own, which disposes of every tensor it makes but
 * does not return once it returns. `internals`, tensors the forward made for the backward alone, are
 * freed right after it (or at once without grad).
 */
export function record(op: string, inputs: readonly Tensor[], output: Tensor, backward: BackwardFn, internals: Tensor[] = []): Tensor {
  if (!needsGrad(inputs)) {
    for (const t of internals) t.dispose();
    return output;
  }
  output.requiresGrad = true;
  output.node = { op, inputs, backward, internals, released: false };
  return output;
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // Iterative DFS: V-Net graphs are deep enough to make recursion a risk in browsers.
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length) {
    const [t, done] = stack.pop()!;
    if (done) {
      order.push(t);
      continue;
    }
    if (visited.has(t)) continue;
    visited.add(t);
    stack.push([t, true]);
    for (const i of t.node?.inputs ?? []) if (i.requiresGrad && !visited.has(i)) stack.push([i, false]);
  }
  return order;
}

/**
 * Back-propagates from `root`. Without `gradient`, root must hold one element (a loss).
 * `accumulate(into, g)` returns into + g: in place (returning `into`) when `into` owns its buffer,
 * else a new tensor, because gradients may be views sharing a buffer (add hands both operands a view
 * of one upstream gradient; reshape a view of the caller's gradient). It is passed in (tensor.ts)
 * to keep this file free of kernels.
 */
export function runBackward(root: Tensor, gradient: Tensor, accumulate: (into: Tensor, g: Tensor) => Tensor): void {
  const grads = new Map<Tensor, Tensor>([[root, gradient]]);
  try {
    backwardInOrder(topoOrder(root), grads, gradient, accumulate);
  } finally {
    // Empty unless a backward threw: the gradients still waiting for their node.
    for (const g of grads.values()) if (g !== gradient) g.dispose();
  }
}

function backwardInOrder(
  order: Tensor[],
  grads: Map<Tensor, Tensor>,
  gradient: Tensor,
  accumulate: (into: Tensor, g: Tensor) => Tensor,
): void {
  for (let k = order.length - 1; k >= 0; k--) {
    const t = order[k]!;
    const g = grads.get(t);
    if (!g) continue;
    const node = t.node;
    if (!node) {
      grads.delete(t);
      if (t.grad) {
        const total = accumulate(t.grad, g);
        if (total !== t.grad) {
          t.grad.dispose();
          t.grad = keep(total);
        }
        if (g !== gradient) g.dispose();
      } else {
        t.grad = keep(g === gradient ? g.withShape(g.shape) : g);
      }
      continue;
    }
    if (node.released) {
      throw new Error(`backward: the graph through ${node.op} was already used by a backward(); build it again to differentiate twice`);
    }
    const inputGrads = scoped(() => inputGradients(node, node.backward(g)), presentOnly);
    grads.delete(t);
    node.released = true;
    for (const x of node.internals) x.dispose();
    node.internals = [];
    if (g !== gradient) g.dispose();
    node.inputs.forEach((input, i) => {
      const ig = inputGrads[i];
      if (!ig) return;
      const prev = grads.get(input);
      if (!prev) {
        grads.set(input, ig);
        return;
      }
      const total = accumulate(prev, ig);
      ig.dispose();
      if (total !== prev) {
        prev.dispose();
        grads.set(input, total);
      }
    });
  }
}

const presentOnly = (grads: readonly (Tensor | null)[]): Tensor[] => grads.filter((g): g is Tensor => g !== null);

/**
 * The gradients a node's backward returned, checked and shaped as its inputs (null for inputs that
 * need none). Runs in the backward's scope, which frees whatever is not returned.
 */
function inputGradients(node: GradNode, returned: readonly (Tensor | null)[]): (Tensor | null)[] {
  return node.inputs.map((input, i) => {
    const ig = returned[i];
    if (!ig || !input.requiresGrad) return null;
    if (ig.size !== input.size) {
      throw new Error(`backward of ${node.op}: gradient ${formatShape(ig.shape)} does not match input ${i} ${formatShape(input.shape)}`);
    }
    return ig.shape.length === input.shape.length ? ig : ig.withShape(input.shape);
  });
}
