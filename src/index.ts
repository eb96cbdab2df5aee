// voxgpu: volumetric segmentation networks on WebGPU.
export { init, getContext, Context, type InitOptions, type Description } from './device/context.js';
export type { AdapterChoice } from './device/adapter.js';
export type { MemoryStats } from './device/buffer-pool.js';
export { Tensor, tensor, empty, type Shape, type TensorOptions } from './tensor.js';
export { noGrad, isGradEnabled } from './autograd.js';
export { tidy, keep } from './memory.js';
export * from './ops/index.js';
