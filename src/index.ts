// voxgpu: volumetric segmentation networks on WebGPU. This entry point runs in Node and in
// browsers; file-path helpers (checkpoints, volumes, data folders) are in 'voxgpu/node'.
export { init, getContext, Context, type InitOptions, type Description } from './device/context.js';
export type { AdapterChoice } from './device/adapter.js';
export type { MemoryStats } from './device/buffer-pool.js';
export { Tensor, tensor, empty, type Shape, type TensorOptions } from './tensor.js';
export { noGrad, isGradEnabled } from './autograd.js';
export { tidy, keep } from './memory.js';
export * from './ops/index.js';
export { Module, type StateDict, type HostTensor } from './nn/module.js';
export { Conv3d, ConvTranspose3d, PReLU } from './nn/layers.js';
export { VNet, vnetPresets, receptiveField, type VNetOptions, type StageField } from './nn/vnet.js';
export { segment, type SegmentOptions, type Segmentation } from './nn/segment.js';
export { segmentVolume, type VolumeSegmentOptions, type VolumeSegmentation } from './nn/segment-volume.js';
export { trainStep, type LossKind, type StepOptions } from './nn/train-step.js';
export { fit, DivergedError, type FitOptions, type HostBatch } from './nn/fit.js';
export * from './optim/index.js';
export { encodeSafetensors, decodeSafetensors, type NamedArray } from './io/safetensors.js';
export { checkpointBytes, loadCheckpointBytes, checkpointInfo, type CheckpointInfo, type SaveOptions } from './io/checkpoint.js';
export * from './io/index.js';
export * from './metrics/index.js';
export { syntheticCase, type SyntheticCase, type SyntheticOptions } from './data/synthetic.js';
export * from './data/resample.js';
export * from './data/crop.js';
export * from './data/intensity.js';
export * from './data/augment.js';
export { Rng } from './data/random.js';
export { prepareCase, batchIterator, type PrepareOptions, type PreparedCase, type Batch, type BatchOptions } from './data/loader.js';
export { renderSlices, type SlicesImage } from './viz/slices.js';
