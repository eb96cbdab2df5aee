// The implicit-GEMM convolutions on tensor cores (see parts/gemm-core.wgsl): f16 operands, f32
// accumulation in subgroup matrices. Needs shader-f16 and chromium-experimental-subgroup-matrix.
// wgsl_reflect reads the bindings and constants from the core alone (its parser knows neither).
// @include parts/gemm-mma.wgsl
// @include parts/gemm-core.wgsl
// @reflect parts/gemm-core.wgsl
