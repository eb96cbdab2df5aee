// Normalisation kernels on planes of any length, one element per step (src/ops/norm.ts).
alias V = f32;

fn total(v: V) -> f32 {
  return v;
}

// @include parts/body.wgsl
