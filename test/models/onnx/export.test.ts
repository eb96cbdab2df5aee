// exportOnnx: voxgpu's V-Net and imported graphs (fine-tuned here) written as ONNX that ONNX
// Runtime runs with voxgpu's results (within 1e-4 relative); loadOnnx reads external data; the CLI's
// export --onnx and segment --model model.onnx.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { beforeAll, expect, it } from 'vitest';
import { Adam, exportOnnx, importOnnx, noGrad, type OnnxModule, SGD, tensor, tidy, trainStep, VNet, zscore } from '../../../src/index.js';
import { ModelProtoSchema, TensorProto_DataLocation } from '../../../src/models/onnx/generated/onnx/onnx_pb.js';
import { loadOnnx, readVolume, saveCheckpoint, writeVolume } from '../../../src/node.js';
import { voxgpu } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/volumes.js';
import { gpu, maxRelError, randomArray } from '../../helpers.js';
import { FIXTURES, type HostTensor, randomInput, readFixture, runOrt, tinyGraph } from './helpers.js';

beforeAll(gpu);

async function forward(model: { forward(x: ReturnType<typeof tensor>): ReturnType<typeof tensor> }, x: HostTensor): Promise<Float32Array> {
  const out = tidy(() => noGrad(() => model.forward(tensor(x.data, x.shape))));
  const data = await out.toArray();
  out.dispose();
  return data;
}

it("voxgpu's V-Net exported runs in ONNX Runtime with the same probabilities, and imports back", async () => {
  const model = new VNet({ baseChannels: 4, kernelSize: 3, encoderConvs: [1, 2, 2], decoderConvs: [2, 1], seed: 5 }).eval();
  const x = randomInput([2, 1, 16, 16, 16], 11);
  const ours = await forward(model, x);
  const bytes = await exportOnnx(model, [1, 1, 16, 16, 16]);
  const ort = await runOrt(bytes, { input: x });
  expect(ort.shape).toEqual([2, 2, 16, 16, 16]);
  expect(maxRelError(ort.data, ours)).toBeLessThan(1e-4);
  const back = importOnnx(bytes);
  expect(maxRelError(await forward(back, x), ours)).toBeLessThan(1e-4);
  model.dispose();
  back.dispose();
});

it('an imported PyTorch export, fine-tuned here, exports with its new weights', async () => {
  const f = readFixture('paper_vnet');
  const model = importOnnx(f.bytes).train();
  const labels = tensor(
    Float32Array.from(f.input.data, (v) => (v > 0.5 ? 1 : 0)),
    [1, 16, 16, 16],
  );
  trainStep(model, new Adam(model.parameters(), { lr: 1e-2 }), tensor(f.input.data, f.input.shape), labels).dispose();
  model.eval();
  const ours = await forward(model, f.input);
  expect(maxRelError(ours, f.output.data)).toBeGreaterThan(1e-3); // the step changed the network
  const ort = await runOrt(await exportOnnx(model, f.input.shape), { input: f.input });
  expect(maxRelError(ort.data, ours)).toBeLessThan(1e-4);
  model.dispose();
});

it('BatchNorm running statistics updated by training here are exported', async () => {
  const model = importOnnx(tinyGraph()).train();
  const x = randomInput([2, 1, 6, 6, 6], 12);
  const labels = tensor(Float32Array.from(randomArray(432, 13, 0, 2), Math.floor), [2, 6, 6, 6]);
  trainStep(model, new SGD(model.parameters(), { lr: 0.1 }), tensor(x.data, x.shape), labels).dispose();
  model.eval();
  const ours = await forward(model, x);
  const ort = await runOrt(await exportOnnx(model, x.shape), { x });
  expect(maxRelError(ort.data, ours)).toBeLessThan(1e-4);
  model.dispose();
});

it('loadOnnx reads weights stored as external data beside the model', async () => {
  const bytes = tinyGraph();
  const proto = fromBinary(ModelProtoSchema, bytes);
  const dir = mkdtempSync(join(tmpdir(), 'voxgpu-onnx-'));
  // Move every initializer's bytes into weights.bin, as onnx.save(..., save_as_external_data=True) does.
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const init of proto.graph!.initializer) {
    chunks.push(init.rawData);
    init.externalData = [
      { key: 'location', value: 'weights.bin' },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(init.rawData.length) },
    ].map((e) => ({ ...e, $typeName: 'onnx.StringStringEntryProto' as const }));
    init.dataLocation = TensorProto_DataLocation.EXTERNAL;
    offset += init.rawData.length;
    init.rawData = new Uint8Array();
  }
  writeFileSync(join(dir, 'weights.bin'), Buffer.concat(chunks));
  const external = toBinary(ModelProtoSchema, proto);
  writeFileSync(join(dir, 'model.onnx'), external);
  const x = randomInput([1, 1, 6, 6, 6], 14);
  const [inline, loaded]: OnnxModule[] = [importOnnx(bytes), loadOnnx(join(dir, 'model.onnx'))];
  expect(await forward(loaded, x)).toEqual(await forward(inline, x));
  expect(() => importOnnx(external)).toThrow(
    "ONNX tensor 'conv1.weight': its data is in the external file 'weights.bin'; read the model with loadOnnx(path) from " +
      "'voxgpu/node', or pass { externalData } to importOnnx",
  );
  inline.dispose();
  loaded.dispose();
});

it('voxgpu export --onnx writes a checkpoint that ONNX Runtime runs at any size', async () => {
  const dir = tempDir();
  const model = new VNet({ baseChannels: 2, kernelSize: 3, encoderConvs: [1, 1], decoderConvs: [1], seed: 8 }).eval();
  await saveCheckpoint(join(dir, 'ckpt.safetensors'), model, { config: model.config });
  const result = await voxgpu('export', join(dir, 'ckpt.safetensors'), '--onnx', join(dir, 'model.onnx'));
  expect(result.stderr).toBe('');
  expect(result.stdout).toBe(`wrote ${join(dir, 'model.onnx')}: V-Net, input [N, 1, D, H, W], output softmax probabilities [N, 2, ...]\n`);
  const x = randomInput([1, 1, 6, 8, 10], 15);
  const ort = await runOrt(readFileSync(join(dir, 'model.onnx')), { input: x });
  expect(maxRelError(ort.data, await forward(model, x))).toBeLessThan(1e-4);
  model.dispose();
});

it('voxgpu segment --model model.onnx segments a scan with a PyTorch export (MONAI UNet, logits out)', async () => {
  const dir = tempDir();
  const f = readFixture('monai_unet');
  // One window: a 16³ scan at the default 1×1×1.5 mm spacing is the graph's own input size.
  await writeVolume(join(dir, 'scan.nii.gz'), {
    data: f.input.data,
    shape: [16, 16, 16],
    spacing: [1, 1, 1.5],
    origin: [0, 0, 0],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  });
  const result = await voxgpu(
    'segment',
    join(dir, 'scan.nii.gz'),
    '--model',
    join(FIXTURES, 'monai_unet.onnx'),
    '-o',
    join(dir, 'mask.nii.gz'),
  );
  expect(result.stderr).toBe('');
  const mask = await readVolume(join(dir, 'mask.nii.gz'));
  const logits = await runOrt(f.bytes, { input: { shape: f.input.shape, data: zscore(f.input.data) } });
  const expected = Array.from({ length: 4096 }, (_, i) => (logits.data[4096 + i]! > logits.data[i]! ? 1 : 0));
  expect(Array.from(mask.data)).toEqual(expected);
  expect(result.stdout).toContain(`wrote ${join(dir, 'mask.nii.gz')}: ${expected.filter(Boolean).length} foreground voxels`);
});
