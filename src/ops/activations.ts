// The pointwise activations imported models use (TF.js layers-models, ONNX), with PyTorch's names
// and semantics: elu, gelu (exact or tanh), sigmoid, leakyRelu, and erf (ONNX's Erf, the pieces
// PyTorch exports an exact GELU as). kernels/activation.wgsl; backward recomputes f'(x) from x.
import { record } from '../core/autograd.js';
import type { Tensor } from '../core/tensor.js';
import { empty } from '../core/tensor.js';
import { runElementwise } from './util.js';

const FN = { elu: 0, leakyRelu: 1, sigmoid: 2, gelu: 3, geluTanh: 4, erf: 5 } as const;

function activation(op: string, fn: keyof typeof FN, x: Tensor, s = 0): Tensor {
  const run = (entry: 'forward' | 'backward', g?: Tensor): Tensor => {
    const out = empty(x.shape);
    runElementwise(op, 'activation', entry, Math.ceil(x.size / 4), g ? { x, g, out } : { x, out }, { n: x.size, s }, { FN: FN[fn] });
    return out;
  };
  return record(op, [x], run('forward'), (g) => [run('backward', g)]);
}

function checkFinite(op: string, name: string, v: number): void {
  if (!Number.isFinite(v)) throw new Error(`${op}: ${name} must be a finite number, got ${v}`);
}

/** x for x > 0, alpha·(exp(x) − 1) otherwise (torch.nn.functional.elu). */
export function elu(x: Tensor, alpha = 1): Tensor {
  checkFinite('elu', 'alpha', alpha);
  return activation('elu', 'elu', x, alpha);
}

/** x for x > 0, slope·x otherwise (torch.nn.functional.leaky_relu). */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  checkFinite('leakyRelu', 'slope', slope);
  return activation('leakyRelu', 'leakyRelu', x, slope);
}

/** 1 / (1 + exp(−x)). */
export function sigmoid(x: Tensor): Tensor {
  return activation('sigmoid', 'sigmoid', x);
}

export type GeluApproximate = 'none' | 'tanh';

/**
 * x·Φ(x), Φ the standard normal CDF (torch.nn.functional.gelu). 'none' is the exact form (ONNX Gelu's
 * default, TF.js layers' `gelu` activation); 'tanh' is ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
 * (ONNX's approximate="tanh", TF.js layers' `gelu_new`).
 */
export function gelu(x: Tensor, approximate: GeluApproximate = 'none'): Tensor {
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new Error(`gelu: approximate must be 'none' or 'tanh', got ${JSON.stringify(approximate)}`);
  }
  return activation('gelu', approximate === 'none' ? 'gelu' : 'geluTanh', x);
}

/** The error function, 2/√π ∫₀ˣ exp(−t²) dt (torch.erf). */
export function erf(x: Tensor): Tensor {
  return activation('erf', 'erf', x);
}
