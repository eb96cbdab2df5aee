// Elementwise maps of one tensor with a scalar: scalar add/multiply, exp, log, sqrt, abs, relu.
// kernels/map.wgsl; each backward is a product with the local derivative.
import { record } from '../core/autograd.js';
import type { Tensor } from '../core/tensor.js';
import { binaryRaw, mapRaw } from './raw.js';

export function addScalar(x: Tensor, s: number): Tensor {
  return record('add', [x], mapRaw('add', 'add', x, s), (g) => [mapRaw('add', 'mul', g, 1)]);
}

export function mulScalar(x: Tensor, s: number): Tensor {
  return record('mul', [x], mapRaw('mul', 'mul', x, s), (g) => [mapRaw('mul', 'mul', g, s)]);
}

export function neg(x: Tensor): Tensor {
  return mulScalar(x, -1);
}

export function exp(x: Tensor): Tensor {
  const out = mapRaw('exp', 'exp', x);
  return record('exp', [x], out, (g) => [mulRaw('exp', g, out)]);
}

export function log(x: Tensor): Tensor {
  return record('log', [x], mapRaw('log', 'log', x), (g) => [binaryRaw('log', 'div', g, x)]);
}

export function sqrt(x: Tensor): Tensor {
  const out = mapRaw('sqrt', 'sqrt', x);
  return record('sqrt', [x], out, (g) => [mapRaw('sqrt', 'mul', binaryRaw('sqrt', 'div', g, out), 0.5)]);
}

export function abs(x: Tensor): Tensor {
  return record('abs', [x], mapRaw('abs', 'abs', x), (g) => {
    // d|x|/dx = 2·step(x) − 1 (0 taken as negative, as good as any subgradient).
    const sign = mapRaw('abs', 'add', mapRaw('abs', 'mul', mapRaw('abs', 'step', x, 0), 2), -1);
    return [mulRaw('abs', g, sign)];
  });
}

export function relu(x: Tensor): Tensor {
  return record('relu', [x], mapRaw('relu', 'max', x, 0), (g) => [mulRaw('relu', g, mapRaw('relu', 'step', x, 0))]);
}

function mulRaw(op: string, a: Tensor, b: Tensor): Tensor {
  return binaryRaw(op, 'mul', a, b);
}
