// Normalisation with PyTorch's semantics: instanceNorm and groupNorm (statistics per sample and
// group of channels) and batchNorm (per channel across the batch; in training it updates the
// running statistics in place). One kernel family, kernels/norm/ (vec4 or scalar planes): x is
// seen as [N, C, S], the statistics come from two deterministic split reductions per plane (the
// mean, then Σ (x − mean)², which does not cancel when the mean is large) added into statistics
// rows, and the backward needs one more (Σ g and Σ g·x̂ per plane) whose small results give the
// weight, bias and row gradients.
import { record } from '../core/autograd.js';
import { getContext, type Bindable } from '../device/context.js';
import { invocationsPerWorkgroup } from '../device/kernel-info.js';
import { shapeSize } from '../core/shape.js';
import { empty, formatShape, type Tensor } from '../core/tensor.js';
import { narrow } from './concat.js';
import { mapRaw, binaryRaw } from './raw.js';
import { sum } from './reduce.js';
import { rowSums } from './row-sums.js';

export interface NormOptions {
  /** Per-channel scale, [C] (default 1). */
  weight?: Tensor | null;
  /** Per-channel shift, [C] (default 0). */
  bias?: Tensor | null;
  eps?: number;
}

export interface BatchNormOptions extends NormOptions {
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  /** Batch statistics (and a running-statistics update) when true; the running ones when false. */
  training: boolean;
  momentum?: number;
}

/**
 * Workgroups along a plane at most: larger planes loop (a grid axis holds 65535). 65536
 * invocations per plane keep a large GPU busy even for one sample of a few channels.
 */
const maxPlaneWorkgroups = 256;

/** How statistics rows cover x [N, C, S], and the kernel's params that do not change per dispatch. */
interface Layout {
  n: number;
  channels: number;
  groups: number | 'batch';
  /** norm/vec4 when planes are whole vec4s, else norm/scalar. */
  kernel: string;
  /** Statistics rows: N·G, or C for batch statistics. */
  rows: number;
  /** Elements per statistics row. */
  count: number;
  params: Record<string, number>;
}

function layout(x: Tensor, groups: number | 'batch'): Layout {
  const [n, channels] = [x.shape[0]!, x.shape[1]!];
  const inner = shapeSize(x.shape.slice(2));
  const width = inner % 4 === 0 ? 4 : 1;
  const batch = groups === 'batch';
  const rows = batch ? channels : n * groups;
  const count = batch ? n * inner : (channels / groups) * inner;
  const params = {
    channels,
    inner: inner / width,
    planes: n * channels,
    rowsPerSample: batch ? 0 : groups,
    channelsPerRow: batch ? 1 : channels / groups,
    invCount: 1 / count,
    rows: 0,
    rowLength: 0,
    chunks: 0,
    eps: 0,
    momentum: 0,
    unbiased: 0,
  };
  return { n, channels, groups, kernel: width === 4 ? 'norm/vec4' : 'norm/scalar', rows, count, params };
}

/** Per-plane sums [k, N, C] added into their statistics rows, [k, rows]. */
function planesToRows(t: Tensor, l: Layout): Tensor {
  if (l.groups === 'batch') return sum(t, 1);
  const grouped = t.withShape([t.shape[0]!, l.rows, l.channels / l.groups]);
  const rows = sum(grouped, 2);
  grouped.dispose();
  return rows;
}

/** Runs a per-plane split reduction of the norm kernel: [stats, N, C]. */
function planeSums(
  op: string,
  entry: string,
  bindings: Record<string, Bindable>,
  l: Layout,
  stats: number,
  extra: { params?: Record<string, number>; constants?: Record<string, number> } = {},
): Tensor {
  const planes = l.n * l.channels;
  const sums = rowSums(
    op,
    l.kernel,
    entry,
    bindings,
    { ...l.params, ...extra.params },
    { rows: planes, rowLength: l.params.inner!, stats },
    extra.constants,
  );
  const shaped = sums.withShape([stats, l.n, l.channels]);
  sums.dispose();
  return shaped;
}

/** Mean and biased variance of each statistics row, [rows] each: Σ x, then Σ (x − mean)². */
function rowStats(op: string, x: Tensor, l: Layout): { mean: Tensor; variance: Tensor } {
  const perRow = (bindings: Record<string, Bindable>, centered: boolean): Tensor => {
    const perPlane = planeSums(op, 'planeSums', bindings, l, 1, { constants: { CENTERED: centered ? 1 : 0 } });
    const total = planesToRows(perPlane, l);
    const scaled = mapRaw(op, 'mul', total, 1 / l.count);
    const flat = scaled.withShape([l.rows]);
    for (const t of [perPlane, total, scaled]) t.dispose();
    return flat;
  };
  const mean = perRow({ x, mean: x }, false);
  return { mean, variance: perRow({ x, mean }, true) };
}

/** A pass over every (sample, channel) plane: at most maxPlaneWorkgroups workgroups along each plane. */
function planeWork(l: Layout, entry: string): { invocations: number; planes: number } {
  return {
    invocations: Math.min(maxPlaneWorkgroups * invocationsPerWorkgroup(l.kernel, entry), l.params.inner!),
    planes: l.n * l.channels,
  };
}

/** Row i of a [2, ...] tensor as its own tensor of shape `shape` (in a backward, whose scope frees the copy). */
function rowOf(t: Tensor, i: number, shape: number[]): Tensor {
  return narrow(t, 0, i, 1).withShape(shape);
}

interface Normalization {
  op: string;
  x: Tensor;
  groups: number | 'batch';
  weight: Tensor | null;
  bias: Tensor | null;
  eps: number;
  /** Fixed statistics (batch norm at inference): no row statistics and no gradient through them. */
  running?: { mean: Tensor; variance: Tensor };
  /** Called with the batch statistics (batch norm's running update). */
  onStats?: (mean: Tensor, variance: Tensor, l: Layout) => void;
}

function normalize({ op, x, groups, weight, bias, eps, running, onStats }: Normalization): Tensor {
  const l = layout(x, groups);
  const ctx = getContext();
  const stats = running ?? rowStats(op, x, l);
  if (!running) onStats?.(stats.mean, stats.variance, l);
  const { mean, variance } = stats;
  const params = { ...l.params, eps };
  // An absent weight (1) or bias (0) is a constant of the kernel, not a tensor made per call.
  const affine = { WEIGHT: weight ? 1 : 0, BIAS: bias ? 1 : 0 };
  const out = empty(x.shape);
  ctx.dispatch({
    op,
    kernel: l.kernel,
    entry: 'normalize',
    bindings: { x, mean, variance, weight, bias, out },
    params,
    constants: affine,
    ...planeWork(l, 'normalize'),
  });
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(
    op,
    inputs,
    out,
    (g) => {
      const wantAffine = !!weight?.requiresGrad || !!bias?.requiresGrad;
      const sums =
        wantAffine || (x.requiresGrad && !running)
          ? planeSums(op, 'gradientSums', { x, g, mean, variance }, l, 2, { params: { eps } })
          : null;
      let gx: Tensor | null = null;
      if (x.requiresGrad) {
        gx = empty(x.shape);
        const rowGrads = running ? null : rowGradients(op, sums!, weight, l);
        ctx.dispatch({
          op,
          kernel: l.kernel,
          entry: 'backward',
          bindings: { x, g, mean, variance, weight, rowGrads, out: gx },
          params: { ...params, rows: l.rows },
          constants: { BATCH_STATS: running ? 0 : 1, WEIGHT: affine.WEIGHT },
          ...planeWork(l, 'backward'),
        });
      }
      let gw: Tensor | null = null;
      let gb: Tensor | null = null;
      if (sums && wantAffine) {
        const perChannel = sum(sums, 1);
        gb = bias?.requiresGrad ? rowOf(perChannel, 0, [l.channels]) : null;
        gw = weight?.requiresGrad ? rowOf(perChannel, 1, [l.channels]) : null;
      }
      // The backward's scope frees the sums (autograd.ts).
      return [gx, ...(weight ? [gw] : []), ...(bias ? [gb] : [])];
    },
    running ? [] : [mean, variance],
  );
}

/** [2, rows]: Σ g·w and Σ g·w·x̂ over each statistics row, from the per-plane sums [2, N, C] (in a backward). */
function rowGradients(op: string, sums: Tensor, w: Tensor | null, l: Layout): Tensor {
  return planesToRows(w ? binaryRaw(op, 'mul', sums, w) : sums, l);
}

function checkAtLeast(op: string, x: Tensor, rank: number, layoutText: string): void {
  if (x.rank < rank) throw new Error(`${op}: x must have rank ${rank} or more (${layoutText}), got shape ${formatShape(x.shape)}`);
}

function checkChannelVector(op: string, name: string, t: Tensor | null | undefined, x: Tensor): void {
  const c = x.shape[1]!;
  if (t && (t.rank !== 1 || t.shape[0] !== c)) {
    throw new Error(
      `${op}: ${name} must have shape [${c}] (one value per channel of x ${formatShape(x.shape)}), got ${formatShape(t.shape)}`,
    );
  }
}

function checkNumber(op: string, name: string, v: number, min: number): void {
  if (!Number.isFinite(v) || v < min) throw new Error(`${op}: ${name} must be a finite number ≥ ${min}, got ${v}`);
}

function checkAffine(op: string, x: Tensor, o: NormOptions): number {
  checkChannelVector(op, 'weight', o.weight, x);
  checkChannelVector(op, 'bias', o.bias, x);
  const eps = o.eps ?? 1e-5;
  checkNumber(op, 'eps', eps, 0);
  return eps;
}

/**
 * The statistics instanceNorm normalises with: per (sample, channel) mean and biased variance over
 * the spatial elements, [N, C] each (two-pass, deterministic), without autograd. A path that cannot
 * hold a whole volume can take them per slab, merge them (count-weighted means; variances plus the
 * spread of the slab means, Chan et al.) and normalise each slab with batchNorm(slab, { runningMean,
 * runningVar, training: false }), which equals instanceNorm over the whole volume for one sample.
 */
export function instanceNormStatistics(x: Tensor): { mean: Tensor; variance: Tensor } {
  checkAtLeast('instanceNormStatistics', x, 3, 'N, C, spatial...');
  const { mean, variance } = rowStats('instanceNormStatistics', x, layout(x, x.shape[1]!));
  const shaped = { mean: mean.withShape([x.shape[0]!, x.shape[1]!]), variance: variance.withShape([x.shape[0]!, x.shape[1]!]) };
  mean.dispose();
  variance.dispose();
  return shaped;
}

/**
 * Normalises each (sample, channel) over its spatial elements, x [N, C, ...] (NCDHW for 3D), then
 * scales and shifts per channel (torch.nn.functional.instance_norm with batch statistics; ONNX
 * InstanceNormalization).
 */
export function instanceNorm(x: Tensor, options: NormOptions = {}): Tensor {
  checkAtLeast('instanceNorm', x, 3, 'N, C, spatial...');
  const eps = checkAffine('instanceNorm', x, options);
  return normalize({ op: 'instanceNorm', x, groups: x.shape[1]!, weight: options.weight ?? null, bias: options.bias ?? null, eps });
}

/**
 * Normalises each sample over each of `groups` equal groups of channels and their spatial elements,
 * then scales and shifts per channel (torch.nn.functional.group_norm).
 */
export function groupNorm(x: Tensor, groups: number, options: NormOptions = {}): Tensor {
  checkAtLeast('groupNorm', x, 2, 'N, C, ...');
  const channels = x.shape[1]!;
  if (!Number.isInteger(groups) || groups < 1 || channels % groups !== 0) {
    throw new Error(
      `groupNorm: groups must be a positive integer dividing the ${channels} channels of x ${formatShape(x.shape)}, got ${groups}`,
    );
  }
  const eps = checkAffine('groupNorm', x, options);
  return normalize({ op: 'groupNorm', x, groups, weight: options.weight ?? null, bias: options.bias ?? null, eps });
}

/**
 * torch.nn.functional.batch_norm over x [N, C, ...]: in training, the statistics of the batch per
 * channel, and runningMean / runningVar (when given) updated in place to (1 − momentum)·running +
 * momentum·batch, with the unbiased variance; at inference, the running statistics.
 */
export function batchNorm(x: Tensor, options: BatchNormOptions): Tensor {
  const op = 'batchNorm';
  checkAtLeast(op, x, 2, 'N, C, ...');
  const eps = checkAffine(op, x, options);
  const { runningMean, runningVar, training } = options;
  const momentum = options.momentum ?? 0.1;
  checkNumber(op, 'momentum', momentum, 0);
  checkChannelVector(op, 'runningMean', runningMean, x);
  checkChannelVector(op, 'runningVar', runningVar, x);
  if (!runningMean !== !runningVar) throw new Error(`${op}: runningMean and runningVar must be given together`);
  const base = { op, x, groups: 'batch' as const, weight: options.weight ?? null, bias: options.bias ?? null, eps };
  if (!training) {
    if (!runningMean || !runningVar) throw new Error(`${op}: inference (training: false) needs runningMean and runningVar`);
    return normalize({ ...base, running: { mean: runningMean, variance: runningVar } });
  }
  const perChannel = x.size / x.shape[1]!;
  if (perChannel <= 1) throw new Error(`${op}: expected more than 1 value per channel when training, got x ${formatShape(x.shape)}`);
  const onStats = (mean: Tensor, variance: Tensor, l: Layout): void => {
    if (!runningMean || !runningVar) return;
    getContext().dispatch({
      op,
      kernel: l.kernel,
      entry: 'updateRunning',
      bindings: { mean, variance, runningMean, runningVar },
      params: { ...l.params, momentum, unbiased: l.count / (l.count - 1) },
      invocations: l.channels,
    });
  };
  return normalize({ ...base, onStats });
}
