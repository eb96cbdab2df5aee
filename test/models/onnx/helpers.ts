// The committed ONNX fixtures (test/fixtures/onnx, made by make_onnx_fixtures.py with PyTorch) and
// ONNX Runtime (onnxruntime-node, CPU) as the second reference.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeSafetensors } from '../../../src/index.js';

export const FIXTURES = join(import.meta.dirname, '../../fixtures/onnx');
export const FIXTURE_NAMES = ['monai_unet', 'monai_vnet', 'meshnet', 'paper_vnet'] as const;

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

export interface Fixture {
  bytes: Uint8Array;
  input: HostTensor;
  /** PyTorch's output for the input. */
  output: HostTensor;
}

export function readFixture(name: string): Fixture {
  const io = decodeSafetensors(readFileSync(join(FIXTURES, `${name}.io.safetensors`)));
  const get = (key: string): HostTensor => {
    const t = io.tensors.get(key)!;
    return { shape: [...t.shape], data: t.data };
  };
  return { bytes: readFileSync(join(FIXTURES, `${name}.onnx`)), input: get('input'), output: get('output') };
}

/** The model's first output from ONNX Runtime for the given inputs (by name). */
export async function runOrt(bytes: Uint8Array, inputs: Record<string, HostTensor>): Promise<HostTensor> {
  const session = await ort.InferenceSession.create(bytes);
  const feeds = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, new ort.Tensor('float32', v.data, v.shape)]));
  const result = await session.run(feeds);
  const out = result[session.outputNames[0]!]!;
  await session.release();
  // ArgMax gives int64: compared as floats like voxgpu's indices.
  const data = out.data instanceof Float32Array ? out.data : Float32Array.from(out.data as ArrayLike<number | bigint>, Number);
  return { shape: [...out.dims], data };
}
