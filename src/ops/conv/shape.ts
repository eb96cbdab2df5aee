// Argument normalisation and the shape checks of conv3d and convTranspose3d: PyTorch's output
// sizes and rules, checked before any GPU work so a bad call names the op and the shapes.
import { sizeClass } from '../../device/buffer-pool.js';
import { getContext } from '../../device/context.js';
import { formatShape, type Tensor } from '../../core/tensor.js';
import { checkRank } from '../util.js';
import { shapeSize } from '../../core/shape.js';

export type Triple = readonly [number, number, number];
/** One value for all three spatial dimensions, or [d, h, w]. */
export type Size3 = number | Triple;

export interface Conv3dOptions {
  stride?: Size3;
  padding?: Size3;
  dilation?: Size3;
}

export interface ConvTranspose3dOptions extends Conv3dOptions {
  outputPadding?: Size3;
}

/**
 * The geometry both ops share: a position `big` of the larger tensor (conv3d's input,
 * convTranspose3d's output) meets a position `small` of the other through kernel tap k when
 * big = small·stride − padding + k·dilation.
 */
export interface ConvGeometry {
  stride: Triple;
  padding: Triple;
  dilation: Triple;
  kernel: Triple;
}

/** A spatial size as the GEMM kernels' vec4<u32> uniform member: D, H, W and its voxels D·H·W. */
export const size4 = (spatial: readonly number[]): number[] => [spatial[0]!, spatial[1]!, spatial[2]!, shapeSize(spatial)];

/** Padding and dilation as the GEMM kernels' vec4<i32> uniform members. */
export const offsets4 = (g: ConvGeometry): { padding: number[]; dilation: number[] } => ({
  padding: [...g.padding, 0],
  dilation: [...g.dilation, 0],
});

/** The taps and the stride per dimension as the GEMM kernels' override constants. */
export const gemmConstants = (g: ConvGeometry): Record<string, number> => ({
  KD: g.kernel[0],
  KH: g.kernel[1],
  KW: g.kernel[2],
  SD: g.stride[0],
  SH: g.stride[1],
  SW: g.stride[2],
});

/**
 * What kernels/conv/mma.wgsl takes of a pass's geometry: source and output sizes, padding and
 * dilation as uniform members, the taps and stride as override constants. (kernels/conv/gemm.wgsl
 * takes the same facts in one parameter struct per pass, from the helpers above.)
 */
export function gemmGeometry(
  g: ConvGeometry,
  src: readonly number[],
  out: readonly number[],
): { params: Record<string, number[]>; constants: Record<string, number> } {
  return { params: { srcSize: size4(src), outSize: size4(out), ...offsets4(g) }, constants: gemmConstants(g) };
}

/** Stride equal to the kernel, no padding or dilation: kernel blocks tile the volume without overlap. */
export function isBlockGeometry(g: ConvGeometry): boolean {
  return [0, 1, 2].every((i) => g.stride[i] === g.kernel[i] && g.padding[i] === 0 && g.dilation[i] === 1);
}

/** A size per spatial axis from a number or [d, h, w] (the fallback where absent), each an integer ≥ min. */
export function triple(op: string, name: string, value: Size3 | undefined, fallback: Size3, min: number): Triple {
  const v = value ?? fallback;
  const t = typeof v === 'number' ? ([v, v, v] as const) : v;
  if (!Array.isArray(t) || t.length !== 3 || t.some((x) => !Number.isInteger(x) || x < min)) {
    const what = min > 0 ? 'positive integers' : 'non-negative integers';
    throw new Error(`${op}: ${name} must be ${what} (a number or [d, h, w]), got ${JSON.stringify(value)}`);
  }
  return [t[0], t[1], t[2]];
}

function spatial(t: Tensor): Triple {
  return [t.shape[2]!, t.shape[3]!, t.shape[4]!];
}

function fmt(t: Triple): string {
  return formatShape(t);
}

function checkBias(op: string, bias: Tensor | null, channels: number): void {
  if (bias && (bias.rank !== 1 || bias.shape[0] !== channels)) {
    throw new Error(`${op}: bias must have shape [${channels}] (one value per output channel), got ${formatShape(bias.shape)}`);
  }
}

/** A storage binding holds the whole tensor: reject what the adapter cannot bind, by name. */
export function checkBindable(op: string, what: string, shape: readonly number[]): void {
  const limit = getContext().limits.maxStorageBufferBindingSize;
  const bytes = shape.reduce((a, b) => a * b, 4);
  if (sizeClass(bytes) > limit) {
    throw new Error(
      `${op}: ${what} ${formatShape(shape)} needs ${bytes} bytes, over the adapter's maxStorageBufferBindingSize (${limit} ` +
        `bytes); use a smaller batch or volume`,
    );
  }
}

function commonChecks(op: string, x: Tensor, weight: Tensor, weightLayout: string, options: Conv3dOptions): ConvGeometry {
  checkRank(op, 'x', x, 5, 'N, C, D, H, W');
  checkRank(op, 'weight', weight, 5, weightLayout);
  if (spatial(weight).some((k) => k < 1)) throw new Error(`${op}: weight ${formatShape(weight.shape)} has an empty kernel`);
  return {
    stride: triple(op, 'stride', options.stride, 1, 1),
    padding: triple(op, 'padding', options.padding, 0, 0),
    dilation: triple(op, 'dilation', options.dilation, 1, 1),
    kernel: spatial(weight),
  };
}

/** Checks conv3d's arguments; returns its geometry and output shape. */
export function conv3dShape(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  options: Conv3dOptions,
): { geometry: ConvGeometry; outShape: number[] } {
  const op = 'conv3d';
  const g = commonChecks(op, x, weight, 'Cout, Cin, kD, kH, kW', options);
  if (x.shape[1] !== weight.shape[1]) {
    throw new Error(
      `${op}: x has ${x.shape[1]} channels (shape ${formatShape(x.shape)}) but weight ${formatShape(weight.shape)} expects ` +
        `${weight.shape[1]} input channels`,
    );
  }
  checkBias(op, bias, weight.shape[0]!);
  const size = spatial(x);
  const extent = g.kernel.map((k, i) => g.dilation[i]! * (k - 1) + 1) as unknown as Triple;
  const padded = size.map((s, i) => s + 2 * g.padding[i]!) as unknown as Triple;
  if (extent.some((e, i) => e > padded[i]!)) {
    throw new Error(
      `${op}: kernel ${fmt(g.kernel)} with dilation ${fmt(g.dilation)} spans ${fmt(extent)}, larger than the padded input ` +
        `${fmt(padded)} (x ${formatShape(x.shape)}, padding ${fmt(g.padding)})`,
    );
  }
  const out = padded.map((p, i) => Math.floor((p - extent[i]!) / g.stride[i]!) + 1);
  const outShape = [x.shape[0]!, weight.shape[0]!, ...out];
  checkBindable(op, 'x', x.shape);
  checkBindable(op, 'weight', weight.shape);
  checkBindable(op, 'output', outShape);
  return { geometry: g, outShape };
}

/** Checks convTranspose3d's arguments; returns its geometry and output shape. */
export function convTranspose3dShape(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  options: ConvTranspose3dOptions,
): { geometry: ConvGeometry; outShape: number[] } {
  const op = 'convTranspose3d';
  const g = commonChecks(op, x, weight, 'Cin, Cout, kD, kH, kW', options);
  const outputPadding = triple(op, 'outputPadding', options.outputPadding, 0, 0);
  // PyTorch's rule: the extra size must be smaller than either the stride or the dilation.
  if (outputPadding.some((o, i) => o >= g.stride[i]! && o >= g.dilation[i]!)) {
    throw new Error(
      `${op}: outputPadding ${fmt(outputPadding)} must be smaller than either stride ${fmt(g.stride)} or dilation ${fmt(g.dilation)}`,
    );
  }
  if (x.shape[1] !== weight.shape[0]) {
    throw new Error(
      `${op}: x has ${x.shape[1]} channels (shape ${formatShape(x.shape)}) but weight ${formatShape(weight.shape)} expects ` +
        `${weight.shape[0]} input channels`,
    );
  }
  checkBias(op, bias, weight.shape[1]!);
  const out = spatial(x).map(
    (s, i) => (s - 1) * g.stride[i]! - 2 * g.padding[i]! + g.dilation[i]! * (g.kernel[i]! - 1) + outputPadding[i]! + 1,
  );
  if (out.some((o) => o < 1)) {
    throw new Error(
      `${op}: output size ${formatShape(out)} is not positive (x ${formatShape(x.shape)}, kernel ${fmt(g.kernel)}, stride ` +
        `${fmt(g.stride)}, padding ${fmt(g.padding)}, dilation ${fmt(g.dilation)})`,
    );
  }
  const outShape = [x.shape[0]!, weight.shape[1]!, ...out];
  checkBindable(op, 'x', x.shape);
  checkBindable(op, 'weight', weight.shape);
  checkBindable(op, 'output', outShape);
  return { geometry: g, outShape };
}
