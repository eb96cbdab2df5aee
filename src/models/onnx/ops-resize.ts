// ONNX's Resize for volumes on voxgpu's resample3d: per spatial axis, the source coordinate of each
// output index by the node's coordinate_transformation_mode, then its nearest voxel (nearest_mode) or
// its two neighbours (linear). The arithmetic is float32, step by step as ONNX Runtime's CPU kernel
// does it, so ties between two voxels fall the same way.
import { formatShape, type Tensor } from '../../core/tensor.js';
import { type AxisTaps, linearTaps, nearestTaps, resample3d } from '../../ops/resample.js';
import { type NodeContext, onnxOp } from './node-context.js';

const f32 = Math.fround;

/** Source coordinate of output index o from the scale and the lengths, per coordinate_transformation_mode. */
type Transform = (o: number, scale: number, outLength: number, inLength: number) => number;

const halfPixel: Transform = (o, scale) => f32(f32(f32(o + 0.5) / scale) - 0.5);

const transforms: Record<string, Transform> = {
  half_pixel: halfPixel,
  pytorch_half_pixel: (o, scale, outLength) => (outLength > 1 ? halfPixel(o, scale, outLength, 0) : 0),
  asymmetric: (o, scale) => f32(o / scale),
  align_corners: (o, _, outLength, inLength) => (outLength === 1 ? 0 : f32(f32(o * (inLength - 1)) / (outLength - 1))),
  tf_half_pixel_for_nn: (o, scale) => f32(f32(o + 0.5) / scale),
};

/** nearest_mode: the voxel a source coordinate picks (clamped into the axis afterwards, so negative ties need no care). */
const roundings: Record<string, (s: number) => number> = {
  round_prefer_floor: (s) => (s === Math.trunc(s) + 0.5 ? Math.floor(s) : Math.round(s)),
  round_prefer_ceil: Math.round,
  floor: Math.floor,
  ceil: Math.ceil,
};

/**
 * Output sizes and per-axis scales from the scales input or the sizes input (one of them), given for
 * the axes in `axes` (opset 18; default all); N and C must be kept. keep_aspect_ratio_policy (with
 * sizes) gives every axis in `axes` the smallest (not_larger) or largest (not_smaller) of their
 * scales, as ONNX Runtime does.
 */
function outputGeometry(c: NodeContext, x: Tensor, policy: string): { outSize: number[]; scales: number[] } {
  const scales = c.has(2) ? Array.from(c.host(2, 'scales').data, f32) : [];
  const sizes = c.has(3) ? c.ints(3, 'sizes') : [];
  if (!scales.length === !sizes.length) throw c.fail('exactly one of the scales and sizes inputs must be given (non-empty)');
  const [given, what] = scales.length ? [scales, 'scales'] : [sizes, 'sizes'];
  const axes = c.attrs.ints('axes', [0, 1, 2, 3, 4]).map((a) => c.axis(a, 5));
  const full = scales.length ? [1, 1, 1, 1, 1] : [...x.shape];
  axes.forEach((a, i) => {
    full[a] = given[i]!;
  });
  let axisScales = scales.length ? full : full.map((d, a) => f32(d / x.shape[a]!));
  let outSize = scales.length ? x.shape.map((d, a) => Math.trunc(f32(full[a]! * d))) : full;
  if (sizes.length && policy !== 'stretch') {
    const listed = axes.map((a) => axisScales[a]!);
    const shared = policy === 'not_larger' ? Math.min(...listed) : Math.max(...listed);
    axisScales = axisScales.map((_, a) => (axes.includes(a) ? shared : 1));
    outSize = x.shape.map((d, a) => (axes.includes(a) ? Math.round(f32(shared * d)) : d));
  }
  if (given.length !== axes.length || axisScales[0] !== 1 || axisScales[1] !== 1)
    throw c.fail(
      `${what} [${given.join(', ')}] must have one value per axis (${axes.length}) and keep N and C of x ${formatShape(x.shape)}`,
    );
  if (outSize.some((d) => !(d >= 1))) throw c.fail(`${what} [${given.join(', ')}] leave no voxels of x ${formatShape(x.shape)}`);
  return { outSize: outSize.slice(2), scales: axisScales.slice(2) };
}

function unsupported(c: NodeContext, setting: string, value: string | number, supported: string): Error {
  return c.fail(`${setting} '${value}' is not supported (${supported})`);
}

/** Resize's attributes: cubic_coeff_a, exclude_outside and extrapolation_value matter only to settings refused below (cubic, tf_crop_and_resize). */
const RESIZE_ATTRIBUTES = [
  'mode',
  'coordinate_transformation_mode',
  'nearest_mode',
  'cubic_coeff_a',
  'exclude_outside',
  'extrapolation_value',
  'antialias',
  'keep_aspect_ratio_policy',
  'axes',
];

export const resize = onnxOp(RESIZE_ATTRIBUTES, (c) => {
  const x = c.volume(0);
  const mode = c.attrs.string('mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear') throw unsupported(c, 'mode', mode, 'nearest and linear are');
  const transformName = c.attrs.string('coordinate_transformation_mode', 'half_pixel');
  const transform = transforms[transformName];
  if (!transform) throw unsupported(c, 'coordinate_transformation_mode', transformName, `${Object.keys(transforms).join(', ')} are`);
  const roundingName = c.attrs.string('nearest_mode', 'round_prefer_floor');
  const rounding = roundings[roundingName];
  if (!rounding) throw unsupported(c, 'nearest_mode', roundingName, `${Object.keys(roundings).join(', ')} are`);
  const antialias = c.attrs.int('antialias', 0);
  if (antialias !== 0) throw unsupported(c, 'antialias', antialias, 'only 0 is');
  const policy = c.attrs.string('keep_aspect_ratio_policy', 'stretch');
  if (!['stretch', 'not_larger', 'not_smaller'].includes(policy))
    throw unsupported(c, 'keep_aspect_ratio_policy', policy, 'stretch, not_larger and not_smaller are');
  const { outSize, scales } = outputGeometry(c, x, policy);
  const axis = (a: number): AxisTaps => {
    const [inLength, outLength, scale] = [x.shape[2 + a]!, outSize[a]!, scales[a]!];
    const source = Array.from({ length: outLength }, (_, o) => transform(o, scale, outLength, inLength));
    return mode === 'nearest' ? nearestTaps(source.map(rounding), inLength) : linearTaps(source, inLength);
  };
  return resample3d(x, [axis(0), axis(1), axis(2)]);
});
