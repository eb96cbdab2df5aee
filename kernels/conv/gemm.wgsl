// The implicit-GEMM convolutions in f32 (see parts/gemm-core.wgsl): register tiles of f32 FMAs.
// @include parts/gemm-fma.wgsl
// @include parts/gemm-core.wgsl
