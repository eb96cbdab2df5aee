// Normalisation kernels on planes of whole vec4s (S % 4 == 0), one vec4 per step: on llvmpipe a
// vec4 load costs what a scalar one does (src/ops/norm.ts).
alias V = vec4<f32>;

fn total(v: V) -> f32 {
  return dot(v, vec4<f32>(1.0));
}

// @include parts/body.wgsl
