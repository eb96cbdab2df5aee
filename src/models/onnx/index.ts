// ONNX in (importOnnx) and out (exportOnnx), browser-safe; loadOnnx(path) is in 'voxgpu/node'.
import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from './generated/onnx/onnx_pb.js';
import { OnnxModule } from './graph-module.js';
import type { ExternalDataReader } from './proto.js';

export { OnnxModule, SUPPORTED_OPSETS, type OnnxInput } from './graph-module.js';
export type { ExternalDataReader } from './proto.js';
export { exportOnnx, EXPORT_OPSET } from './export.js';
export { onnxSegmenter, type OnnxSegmenterOptions } from './segmenter.js';

export interface ImportOnnxOptions {
  /** Reads tensors stored outside the .onnx file (location relative to it, byte offset, length or null for the rest). */
  externalData?: ExternalDataReader;
}

/** An ONNX model (the bytes of a .onnx file) as a Module running on voxgpu's ops, in eval mode. */
export function importOnnx(bytes: Uint8Array, options: ImportOnnxOptions = {}): OnnxModule {
  return new OnnxModule(fromBinary(ModelProtoSchema, bytes), options.externalData);
}
