// PReLU (He et al.), V-Net's activation: out = x for x > 0, alpha·x otherwise, with a learned slope
// per channel (dimension 1) or one shared slope, like torch.nn.functional.prelu. kernels/prelu.wgsl;
// preluKernels also serves addPrelu (add-prelu.ts), which activates x + residual in the same kernels.
import { record } from '../core/autograd.js';
import { getContext } from '../device/context.js';
import { invocationsPerWorkgroup, kernelConstant } from '../device/kernel-info.js';
import { empty, formatShape, type Tensor } from '../core/tensor.js';
import { sum } from './reduce.js';
import { rowSums } from './row-sums.js';
import { shapeSize } from '../core/shape.js';

/** vec4s per invocation of the backward kernels, and their invocations per workgroup. */
const backwardTile = (): { vec4s: number; WG: number } => ({
  vec4s: kernelConstant('prelu', 'VPI'),
  WG: invocationsPerWorkgroup('prelu', 'backward'),
});

interface Layout {
  /** Planes of `inner` elements with one slope each, each starting on a vec4 (see the kernel). */
  planar: boolean;
  params: { n: number; channels: number; inner: number; planes: number };
}

function layout(x: Tensor, alpha: Tensor): Layout {
  const n = x.size;
  if (alpha.size === 1) {
    // A shared slope splits x into planes of 16 backward workgroups' elements.
    const { vec4s, WG } = backwardTile();
    const inner = Math.min(4 * WG * vec4s * 16, Math.ceil(n / 4) * 4);
    return { planar: true, params: { n, channels: 1, inner, planes: inner === 0 ? 0 : Math.ceil(n / inner) } };
  }
  const channels = x.shape[1]!;
  const inner = shapeSize(x.shape.slice(2));
  return { planar: inner % 4 === 0, params: { n, channels, inner, planes: inner === 0 ? 0 : n / inner } };
}

export function checkPrelu(op: string, x: Tensor, alpha: Tensor): void {
  if (alpha.rank !== 1) throw new Error(`${op}: alpha must have rank 1 ([C] or [1]), got shape ${formatShape(alpha.shape)}`);
  if (x.rank === 0) throw new Error(`${op}: x must have rank 1 or more, got shape ${formatShape(x.shape)}`);
  const channels = x.rank >= 2 ? x.shape[1]! : 1;
  if (alpha.size !== 1 && alpha.size !== channels) {
    throw new Error(
      `${op}: alpha has ${alpha.size} values but x ${formatShape(x.shape)} has ${channels} channel${channels === 1 ? '' : 's'} ` +
        `(dimension 1); expected ${channels === 1 ? '1' : `${channels} or 1`}`,
    );
  }
}

export interface PreluGradients {
  /** Gradient for the activation's input (x, or x + residual), or null when not asked for. */
  gs: Tensor | null;
  gAlpha: Tensor | null;
}

/** What the PReLU kernels of x (+ residual) share: the layout, bindings and work sizes. */
function kernelsOf(x: Tensor, residual: Tensor | null, alpha: Tensor) {
  const { planar, params } = layout(x, alpha);
  const vec4s = Math.ceil(params.n / 4);
  return {
    planar,
    params,
    constants: { RESIDUAL: residual ? 1 : 0 },
    inputs: { x, residual, alpha },
    /** The work of `perInvocation` vec4s each: per plane (planar) or over the whole array. */
    work: (perInvocation: number) =>
      planar
        ? { invocations: Math.ceil(params.inner / (4 * perInvocation)), planes: params.planes }
        : { invocations: Math.ceil(vec4s / perInvocation) },
  };
}

/** PReLU of x (+ residual when given) without autograd. */
export function preluForward(op: string, x: Tensor, residual: Tensor | null, alpha: Tensor): Tensor {
  const { planar, params, constants, inputs, work } = kernelsOf(x, residual, alpha);
  const out = empty(x.shape);
  getContext().dispatch({
    op,
    kernel: 'prelu',
    entry: planar ? 'forward' : 'forwardFlat',
    bindings: { ...inputs, out },
    params,
    constants,
    ...work(1),
  });
  return out;
}

/**
 * The backward of PReLU of x (+ residual when given): the gradients asked for, from the output's
 * gradient g. The planar backward computes both in one pass, reading x and g once. It is called
 * inside a node's backward, whose scope frees what it made but does not return.
 */
export function preluBackward(
  op: string,
  x: Tensor,
  residual: Tensor | null,
  alpha: Tensor,
): (g: Tensor, wantS: boolean, wantAlpha: boolean) => PreluGradients {
  const { planar, params, constants, inputs, work } = kernelsOf(x, residual, alpha);
  const ctx = getContext();
  return (g: Tensor, wantS: boolean, wantAlpha: boolean): PreluGradients => {
    const gs = wantS || planar ? empty(x.shape) : null;
    let gAlpha: Tensor | null = null;
    const { vec4s: perInvocation, WG } = backwardTile();
    if (planar) {
      const w = work(perInvocation);
      // One partial per invocation of each plane's workgroups.
      const partials = empty([params.planes / params.channels, params.channels, Math.ceil(w.invocations / WG) * WG]);
      ctx.dispatch({ op, kernel: 'prelu', entry: 'backward', bindings: { ...inputs, g, out: gs!, partials }, params, constants, ...w });
      if (wantAlpha) gAlpha = sum(partials, [0, 2]);
    } else {
      if (gs)
        ctx.dispatch({
          op,
          kernel: 'prelu',
          entry: 'backwardFlat',
          bindings: { ...inputs, g, out: gs },
          params,
          constants,
          ...work(perInvocation),
        });
      if (wantAlpha) {
        const { channels, inner } = params;
        gAlpha = rowSums(
          op,
          'prelu',
          'backwardAlpha',
          { x, residual, g },
          { channels, inner },
          { rows: channels, rowLength: params.n / channels, stats: 1 },
          constants,
        );
      }
    }
    return { gs: wantS ? gs : null, gAlpha: gAlpha?.withShape(alpha.shape) ?? null };
  };
}

/** PReLU of x (+ residual when given) without autograd: the output, and its backward (preluBackward). */
export function preluKernels(
  op: string,
  x: Tensor,
  residual: Tensor | null,
  alpha: Tensor,
): { out: Tensor; backward: (g: Tensor, wantS: boolean, wantAlpha: boolean) => PreluGradients } {
  return { out: preluForward(op, x, residual, alpha), backward: preluBackward(op, x, residual, alpha) };
}

export function prelu(x: Tensor, alpha: Tensor): Tensor {
  checkPrelu('prelu', x, alpha);
  const { out, backward } = preluKernels('prelu', x, null, alpha);
  return record('prelu', [x, alpha], out, (g) => {
    const { gs, gAlpha } = backward(g, x.requiresGrad, alpha.requiresGrad);
    return [gs, gAlpha];
  });
}
