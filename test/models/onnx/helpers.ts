// The committed ONNX fixtures (test/fixtures/onnx, made by make_onnx_fixtures.py with PyTorch) and
// ONNX Runtime (onnxruntime-node, CPU) as the second reference.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { decodeSafetensors, importOnnx, noGrad, tensor, tidy } from '../../../src/index.js';
import { GraphBuilder } from '../../../src/models/onnx/builder.js';
import { dot, maxRelError, randomArray } from '../../helpers.js';

export const FIXTURES = join(import.meta.dirname, '../../fixtures/onnx');
export const FIXTURE_NAMES = ['monai_unet', 'monai_vnet', 'meshnet', 'paper_vnet', 'paper_vnet_dynamic'] as const;

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

/** Uniform values in [lo, hi) of a shape, seeded: an input for voxgpu and ONNX Runtime alike. */
export function randomInput(shape: number[], seed: number, lo = -2, hi = 2): HostTensor {
  return {
    shape,
    data: Float32Array.from(
      randomArray(
        shape.reduce((a, d) => a * d, 1),
        seed,
        lo,
        hi,
      ),
    ),
  };
}

/** A float32 initializer of uniform values in [lo, hi), seeded. */
export function randomWeight(b: GraphBuilder, name: string, shape: number[], seed: number, lo: number, hi: number): string {
  return b.weight(name, shape, randomInput(shape, seed, lo, hi).data);
}

/** A one-node (or few-node) model built by `build`, checked against ONNX Runtime by expectMatchesOrt. */
export interface OrtCase {
  name: string;
  opset?: number;
  /** Input shapes by name (default: x of the shape expectMatchesOrt is given). */
  inputs?: Record<string, number[]>;
  outputType?: 'int64';
  /**
   * The model is linear in its one input x (y = A·x): also check the backward, by the identity
   * ⟨Aᵀr, x⟩ = ⟨r, A·x⟩ for a random upstream gradient r, with ONNX Runtime's A·x.
   */
  linear?: boolean;
  build: (b: GraphBuilder, w: (shape: number[], lo?: number, hi?: number) => string) => string;
}

/** Runs the case's model in voxgpu and in ONNX Runtime on random inputs: outputs within 1e-4 relative. */
export async function expectMatchesOrt(c: OrtCase, x: number[]): Promise<void> {
  const b = new GraphBuilder(c.opset ?? 13);
  let seed = 100;
  const w = (shape: number[], lo = -1, hi = 1) => randomWeight(b, `w${seed}`, shape, seed++, lo, hi);
  const output = c.build(b, w);
  const shapes = c.inputs ?? { x };
  const bytes = b.toBytes(
    Object.entries(shapes).map(([name, shape]) => ({ name, shape })),
    [{ name: output, type: c.outputType }],
  );
  const inputs = Object.fromEntries(Object.entries(shapes).map(([name, shape], i) => [name, randomInput(shape, 7 + i)]));
  const expected = await runOrt(bytes, inputs);
  const model = importOnnx(bytes);
  const out = tidy(() => noGrad(() => model.forward(...Object.values(inputs).map((v) => tensor(v.data, v.shape)))));
  expect(out.shape).toEqual(expected.shape);
  expect(maxRelError(await out.toArray(), expected.data)).toBeLessThan(1e-4);
  out.dispose();
  if (c.linear) {
    const x = tensor(inputs.x!.data, inputs.x!.shape, { requiresGrad: true });
    const r = randomInput(expected.shape, 11);
    tidy(() => model.forward(x).backward(tensor(r.data, r.shape)));
    const gx = await x.grad!.toArray();
    const [adjoint, forward] = [dot(gx, inputs.x!.data), dot(r.data, expected.data)];
    const scale = dot(gx.map(Math.abs), inputs.x!.data.map(Math.abs));
    expect(Math.abs(adjoint - forward), `⟨Aᵀr, x⟩ ${adjoint} vs ⟨r, A·x⟩ ${forward}`).toBeLessThan(1e-5 * scale);
    x.grad!.dispose();
    x.dispose();
  }
  model.dispose();
}

/** A small graph with one of each trainable kind: conv, BatchNorm, ELU, transposed conv, InstanceNorm, PRelu, skip, 1×1 conv, Softmax. */
export function tinyGraph(): Uint8Array {
  const b = new GraphBuilder(13);
  let seed = 40;
  const w = (name: string, shape: number[], lo = -0.5, hi = 0.5) => randomWeight(b, name, shape, seed++, lo, hi);
  const pads = { ints: [1, 1, 1, 1, 1, 1] };
  const c1 = b.node('Conv', ['x', w('conv1.weight', [3, 1, 3, 3, 3]), w('conv1.bias', [3])], { pads, strides: { ints: [2, 2, 2] } });
  const bn = b.node('BatchNormalization', [
    c1,
    w('bn.weight', [3], 0.5, 1.5),
    w('bn.bias', [3]),
    w('bn.running_mean', [3]),
    w('bn.running_var', [3], 0.5, 1.5),
  ]);
  const up = b.node('ConvTranspose', [b.node('Elu', [bn]), w('up.weight', [3, 2, 3, 3, 3]), w('up.bias', [2])], {
    pads,
    strides: { ints: [2, 2, 2] },
    output_padding: { ints: [1, 1, 1] },
  });
  const act = b.node('PRelu', [
    b.node('InstanceNormalization', [up, w('in.weight', [2], 0.5, 1.5), w('in.bias', [2])]),
    w('prelu.weight', [2, 1, 1, 1], 0.1, 0.3),
  ]);
  const joined = b.node('Concat', [act, 'x'], { axis: { int: 1 } });
  const logits = b.node('Conv', [joined, w('head.weight', [2, 3, 1, 1, 1]), w('head.bias', [2])]);
  b.node('Softmax', [logits], { axis: { int: 1 } }, 'probs');
  return b.toBytes([{ name: 'x', shape: ['N', 1, 6, 6, 6] }], [{ name: 'probs' }]);
}
