// Float64 references for conv3d and convTranspose3d, forward and analytic gradients, written as
// plain loops over every (input voxel, output voxel, tap) triple the geometry connects.
import { shapeSize } from '../../src/core/shape.js';

export type Triple = [number, number, number];
export type Shape5 = [number, number, number, number, number];

export interface Geometry {
  stride: Triple;
  padding: Triple;
  dilation: Triple;
}

export interface ConvCase extends Geometry {
  xShape: Shape5;
  /** conv3d: [Cout, Cin, k...]; convTranspose3d: [Cin, Cout, k...]. */
  wShape: Shape5;
  outputPadding?: Triple;
}

export interface Grads {
  x: Float64Array;
  weight: Float64Array;
  bias: Float64Array;
}

export function conv3dOutShape(c: ConvCase): Shape5 {
  const sp = [0, 1, 2].map(
    (i) => Math.floor((c.xShape[2 + i]! + 2 * c.padding[i]! - c.dilation[i]! * (c.wShape[2 + i]! - 1) - 1) / c.stride[i]!) + 1,
  );
  return [c.xShape[0], c.wShape[0], sp[0]!, sp[1]!, sp[2]!];
}

export function convTranspose3dOutShape(c: ConvCase): Shape5 {
  const op = c.outputPadding ?? [0, 0, 0];
  const sp = [0, 1, 2].map(
    (i) => (c.xShape[2 + i]! - 1) * c.stride[i]! - 2 * c.padding[i]! + c.dilation[i]! * (c.wShape[2 + i]! - 1) + op[i]! + 1,
  );
  return [c.xShape[0], c.wShape[1], sp[0]!, sp[1]!, sp[2]!];
}

/**
 * Calls visit(bigIndex, smallIndex, weightIndex) for every element pair with
 * big = small·stride − padding + k·dilation inside both tensors. In both ops the weight is
 * [small channels, big channels, k...] (conv3d: [Cout, Cin, k], convTranspose3d: [Cin, Cout, k]).
 */
function visitPairs(
  g: Geometry,
  bigShape: Shape5,
  smallShape: Shape5,
  kernel: Triple,
  visit: (big: number, small: number, w: number) => void,
): void {
  const [N, Cb] = bigShape;
  const Cs = smallShape[1];
  const K = shapeSize(kernel);
  for (let n = 0; n < N; n++)
    for (let cs = 0; cs < Cs; cs++)
      for (let cb = 0; cb < Cb; cb++)
        for (let od = 0; od < smallShape[2]; od++)
          for (let oh = 0; oh < smallShape[3]; oh++)
            for (let ow = 0; ow < smallShape[4]; ow++)
              for (let kd = 0; kd < kernel[0]; kd++) {
                const id = od * g.stride[0] - g.padding[0] + kd * g.dilation[0];
                if (id < 0 || id >= bigShape[2]) continue;
                for (let kh = 0; kh < kernel[1]; kh++) {
                  const ih = oh * g.stride[1] - g.padding[1] + kh * g.dilation[1];
                  if (ih < 0 || ih >= bigShape[3]) continue;
                  for (let kw = 0; kw < kernel[2]; kw++) {
                    const iw = ow * g.stride[2] - g.padding[2] + kw * g.dilation[2];
                    if (iw < 0 || iw >= bigShape[4]) continue;
                    const big = (((n * Cb + cb) * bigShape[2] + id) * bigShape[3] + ih) * bigShape[4] + iw;
                    const small = (((n * Cs + cs) * smallShape[2] + od) * smallShape[3] + oh) * smallShape[4] + ow;
                    const tap = (kd * kernel[1] + kh) * kernel[2] + kw;
                    visit(big, small, (cs * Cb + cb) * K + tap);
                  }
                }
              }
}

const kernelOf = (c: ConvCase): Triple => [c.wShape[2], c.wShape[3], c.wShape[4]];

/** conv3d forward: out = small tensor, x = big tensor, weight [Cout = small channels, Cin, k]. */
export function conv3dRef(c: ConvCase, x: ArrayLike<number>, w: ArrayLike<number>, bias?: ArrayLike<number>): Float64Array {
  const outShape = conv3dOutShape(c);
  const out = new Float64Array(shapeSize(outShape));
  visitPairs(c, c.xShape, outShape, kernelOf(c), (big, small, wi) => {
    out[small] += x[big]! * w[wi]!;
  });
  if (bias) addBias(out, outShape, bias);
  return out;
}

export function conv3dGradRef(c: ConvCase, x: ArrayLike<number>, w: ArrayLike<number>, gOut: ArrayLike<number>): Grads {
  const outShape = conv3dOutShape(c);
  const gx = new Float64Array(shapeSize(c.xShape));
  const gw = new Float64Array(shapeSize(c.wShape));
  visitPairs(c, c.xShape, outShape, kernelOf(c), (big, small, wi) => {
    gx[big] += gOut[small]! * w[wi]!;
    gw[wi] += gOut[small]! * x[big]!;
  });
  return { x: gx, weight: gw, bias: channelSums(gOut, outShape) };
}

/** convTranspose3d forward: x = small tensor, out = big tensor, weight [Cin = small channels, Cout, k]. */
export function convTranspose3dRef(c: ConvCase, x: ArrayLike<number>, w: ArrayLike<number>, bias?: ArrayLike<number>): Float64Array {
  const outShape = convTranspose3dOutShape(c);
  const out = new Float64Array(shapeSize(outShape));
  visitPairs(c, outShape, c.xShape, kernelOf(c), (big, small, wi) => {
    out[big] += x[small]! * w[wi]!;
  });
  if (bias) addBias(out, outShape, bias);
  return out;
}

export function convTranspose3dGradRef(c: ConvCase, x: ArrayLike<number>, w: ArrayLike<number>, gOut: ArrayLike<number>): Grads {
  const outShape = convTranspose3dOutShape(c);
  const gx = new Float64Array(shapeSize(c.xShape));
  const gw = new Float64Array(shapeSize(c.wShape));
  visitPairs(c, outShape, c.xShape, kernelOf(c), (big, small, wi) => {
    gx[small] += gOut[big]! * w[wi]!;
    gw[wi] += gOut[big]! * x[small]!;
  });
  return { x: gx, weight: gw, bias: channelSums(gOut, outShape) };
}

function addBias(out: Float64Array, shape: Shape5, bias: ArrayLike<number>): void {
  const inner = shape[2] * shape[3] * shape[4];
  for (let i = 0; i < out.length; i++) out[i] += bias[Math.floor(i / inner) % shape[1]]!;
}

function channelSums(g: ArrayLike<number>, shape: Shape5): Float64Array {
  const inner = shape[2] * shape[3] * shape[4];
  const s = new Float64Array(shape[1]);
  for (let i = 0; i < g.length; i++) s[Math.floor(i / inner) % shape[1]] += g[i]!;
  return s;
}
