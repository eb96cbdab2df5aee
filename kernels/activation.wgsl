// Pointwise activations (src/ops/activations.ts): forward out = f(x), backward out = g · f'(x),
// recomputed from x (no saved output). FN picks f at pipeline creation. One vec4 per invocation
// (on llvmpipe a vec4 load costs what a scalar one does), the array's last, partial vec4 stored
// lane by lane by the one invocation that owns it.
//
// WGSL has no erf: erfc on z ≥ 0 is Numerical Recipes' erfcc (Chebyshev fit, relative error
// < 1.2e-7 for every z ≥ 0, so tails stay accurate), erf near 0 a Taylor series; the measured
// float32 errors are in test/ops/activations.test.ts.
struct Params {
  n: u32,
  // elu's alpha, leakyRelu's negative slope; unused by the others.
  s: f32,
}

// 0 elu, 1 leaky relu, 2 sigmoid, 3 gelu (exact, x·Φ(x)), 4 gelu (tanh approximation), 5 erf
override FN: u32 = 0u;
override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> p: Params;

const zero = vec4<f32>(0.0);
const one = vec4<f32>(1.0);
const sqrtHalf = 0.70710678118654752;
// 1/√(2π), 2/√π, √(2/π)
const invSqrt2Pi = 0.39894228040143268;
const twoOverSqrtPi = 1.1283791670955126;
const sqrt2OverPi = 0.79788456080286536;
const tanhCubic = 0.044715;

// exp(v) − 1 without the cancellation near 0: Taylor to v⁸/8! where |v| < 0.5 (truncation < 2e-8
// relative).
fn expm1(v: vec4<f32>) -> vec4<f32> {
  var t = v * (1.0 / 40320.0) + 1.0 / 5040.0;
  t = t * v + 1.0 / 720.0;
  t = t * v + 1.0 / 120.0;
  t = t * v + 1.0 / 24.0;
  t = t * v + 1.0 / 6.0;
  t = t * v + 0.5;
  t = t * v + 1.0;
  return select(exp(v) - 1.0, t * v, abs(v) < vec4<f32>(0.5));
}

// erfc(z) for z ≥ 0 (Numerical Recipes, 2nd ed., §6.2 erfcc), given e = exp(−z²): the callers
// compute that factor, whose accuracy sets the relative accuracy of the tail.
fn erfcPositive(z: vec4<f32>, e: vec4<f32>) -> vec4<f32> {
  let t = 1.0 / (1.0 + 0.5 * z);
  var q = t * 0.17087277 - 0.82215223;
  q = q * t + 1.48851587;
  q = q * t - 1.13520398;
  q = q * t + 0.27886807;
  q = q * t - 0.18628806;
  q = q * t + 0.09678418;
  q = q * t + 0.37409196;
  q = q * t + 1.00002368;
  q = q * t - 1.26551223;
  return t * exp(q) * e;
}

// exp(−v²/2) with v² not rounded: v = h + (v − h) with h a multiple of 1/16, so h² is exact in
// float32 and the rest, (v − h)(v + h), is small (as glibc's erfc does). Rounding v² itself would
// cost |v|²·2⁻²⁵ of relative error: 3e-6 at |v| = 10.
fn gaussian(v: vec4<f32>) -> vec4<f32> {
  let h = round(v * 16.0) / 16.0;
  return exp(-0.5 * h * h) * exp(-0.5 * (v - h) * (v + h));
}

// erf(v) = 2/√π (v − v³/3 + v⁵/10 − v⁷/42 + v⁹/216 − v¹¹/1320) for |v| < 0.5 (where 1 − erfc
// would cancel; truncation < 3e-8 relative), else sign(v)·(1 − erfc(|v|)).
fn erf4(v: vec4<f32>) -> vec4<f32> {
  let v2 = v * v;
  var t = v2 * (-1.0 / 1320.0) + 1.0 / 216.0;
  t = t * v2 - 1.0 / 42.0;
  t = t * v2 + 1.0 / 10.0;
  t = t * v2 - 1.0 / 3.0;
  t = t * v2 + 1.0;
  let series = twoOverSqrtPi * v * t;
  let a = abs(v);
  return select(sign(v) * (1.0 - erfcPositive(a, exp(-a * a))), series, a < vec4<f32>(0.5));
}

// Φ(v), the standard normal CDF: ½·erfc(−v/√2), from the tail side for v < 0 so that it keeps its
// relative accuracy where it is tiny.
fn normalCdf(v: vec4<f32>) -> vec4<f32> {
  let tail = 0.5 * erfcPositive(abs(v) * sqrtHalf, gaussian(v));
  return select(1.0 - tail, tail, v < zero);
}

fn sigmoid(v: vec4<f32>) -> vec4<f32> {
  return 1.0 / (1.0 + exp(-v));
}

// The tanh form's Φ: ½(1 + tanh(u)) = sigmoid(2u), which does not cancel for v < 0.
fn tanhCdf(v: vec4<f32>) -> vec4<f32> {
  return sigmoid(2.0 * sqrt2OverPi * (v + tanhCubic * v * v * v));
}

fn f(v: vec4<f32>) -> vec4<f32> {
  switch FN {
    case 0u: { return select(p.s * expm1(min(v, zero)), v, v > zero); }
    case 1u: { return select(p.s * v, v, v > zero); }
    case 2u: { return sigmoid(v); }
    case 3u: { return v * normalCdf(v); }
    case 4u: { return v * tanhCdf(v); }
    default: { return erf4(v); }
  }
}

// f'(v); at 0, elu and leaky relu take the left derivative (alpha, slope) as PyTorch does.
fn derivative(v: vec4<f32>) -> vec4<f32> {
  switch FN {
    case 0u: { return select(p.s * exp(min(v, zero)), one, v > zero); }
    case 1u: { return select(vec4<f32>(p.s), one, v > zero); }
    case 2u: {
      let y = sigmoid(v);
      return y * (1.0 - y);
    }
    case 3u: { return normalCdf(v) + v * invSqrt2Pi * gaussian(v); }
    case 4u: {
      let c = tanhCdf(v);
      // Past |v| = 1e4, c·(1 − c) is exactly 0; the clamp keeps v² finite so that 0 · ∞ makes no NaN.
      let w = clamp(v, vec4<f32>(-1e4), vec4<f32>(1e4));
      return c + v * 2.0 * c * (1.0 - c) * sqrt2OverPi * (1.0 + 3.0 * tanhCubic * w * w);
    }
    default: { return twoOverSqrtPi * exp(-v * v); }
  }
}

// @include parts/vec4-out.wgsl

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG;
  let count = lanes(k);
  if (count == 0u) { return; }
  store(k, count, f(x[k]));
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG;
  let count = lanes(k);
  if (count == 0u) { return; }
  store(k, count, g[k] * derivative(x[k]));
}
