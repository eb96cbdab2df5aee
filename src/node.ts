// voxgpu/node: everything in 'voxgpu' plus the helpers that read and write files.
export * from './index.js';
export { saveCheckpoint, loadCheckpoint, readCheckpointInfo } from './io/checkpoint-node.js';
export { readVolume, writeVolume, readNifti, writeNifti, readMetaImage, writeMetaImage, writeFileAtomic } from './io/node.js';
export { findCases, loadCases } from './data/loader-node.js';
export { loadTfjsModel, saveTfjsModel } from './models/tfjs-node.js';
export { loadOnnx } from './models/onnx/load-node.js';
export { loadBrainchopModel, type LoadedBrainchopModel, type BrainchopColormap } from './models/brainchop-node.js';
