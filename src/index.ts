// voxgpu: volumetric segmentation networks on WebGPU. This entry point runs in Node and in
// browsers; file-path helpers (checkpoints, volumes, data folders) are in 'voxgpu/node'.
export { getContext, Context, type Description } from './device/context.js';
export { init, type InitOptions } from './init.js';
export type { AdapterChoice } from './device/adapter.js';
export type { MemoryStats } from './device/buffer-pool.js';
export { autotune, type AutotuneOptions, type AutotuneReport, type TunedOp } from './autotune.js';
export type { TuningCache } from './tuning/storage.js';
export { Tensor, tensor, empty, type Shape, type TensorOptions } from './core/tensor.js';
export { noGrad, isGradEnabled } from './core/autograd.js';
export { tidy, keep } from './core/memory.js';
export * from './ops/index.js';
export { Module, type StateDict, type HostTensor } from './nn/module.js';
export { Conv3d, ConvTranspose3d, PReLU } from './nn/layers.js';
export { InstanceNorm3d, GroupNorm, BatchNorm3d, type InstanceNormArgs, type GroupNormArgs, type BatchNormArgs } from './nn/norm.js';
export { VNet, vnetPresets, receptiveField, type VNetOptions, type StageField } from './nn/vnet.js';
export { segment, type SegmentOptions, type Segmentation, type Segmenter } from './nn/segment.js';
export { segmentVolume, type VolumeSegmentOptions, type VolumeSegmentation } from './nn/segment-volume.js';
export { TfjsModel, importTfjsModel, exportTfjsModel, type TfjsImportOptions, type TfjsExport } from './models/tfjs-model.js';
export { predictVolume, type VolumeInferenceOptions, type VolumeInference } from './models/tfjs-tiles.js';
export {
  segmentBrainchop,
  brainchopSettings,
  reverseAxes,
  type BrainchopSegmentOptions,
  type BrainchopSegmentation,
} from './models/brainchop.js';
export {
  segmentScan,
  isConformed,
  parseBrainchopSettings,
  type BrainchopSettings,
  type BrainchopModel,
  type BrainchopModelType,
  type ScanSegmentOptions,
  type ScanSegmentation,
} from './models/brainchop-pipeline.js';
export type { TfjsModelJson, KerasLayerJson, WeightsGroup, WeightEntry } from './models/tfjs-format.js';
export { trainStep, batchLoss, type LogitsModel, type LossKind, type StepOptions } from './nn/train-step.js';
export { fit, DivergedError, type FitOptions } from './nn/fit.js';
export type { HostBatch, DeviceBatch } from './data/batch.js';
export * from './optim/index.js';
export { encodeSafetensors, decodeSafetensors, type NamedArray } from './io/safetensors.js';
export { checkpointBytes, loadCheckpointBytes, checkpointInfo, type CheckpointInfo, type SaveOptions } from './io/checkpoint.js';
export * from './io/index.js';
export {
  importOnnx,
  exportOnnx,
  EXPORT_OPSET,
  onnxSegmenter,
  type OnnxSegmenterOptions,
  OnnxModule,
  SUPPORTED_OPSETS,
  type OnnxInput,
  type ImportOnnxOptions,
  type ExternalDataReader,
} from './models/onnx/index.js';
export * from './metrics/index.js';
export { syntheticCase, type SyntheticCase, type SyntheticOptions } from './data/synthetic.js';
export * from './data/resample.js';
export * from './data/conform.js';
export * from './data/crop.js';
export * from './data/intensity.js';
export * from './data/augment.js';
export { Rng } from './data/random.js';
export { prepareCase, batchIterator, type PrepareOptions, type PreparedCase, type Batch, type BatchOptions } from './data/loader.js';
export * from './data/augment-gpu.js';
export { gpuBatchIterator, augmentedBatches, type GpuBatch } from './data/batches-gpu.js';
export { renderSlices, type SlicesImage } from './viz/slices.js';
