// Every ONNX op type the importer runs, by name.
import type { OnnxOp } from './node-context.js';
import { nnOps } from './ops-nn.js';
import { tensorOps } from './ops-tensor.js';

export const onnxOps: Readonly<Record<string, OnnxOp>> = { ...nnOps, ...tensorOps };
