// The four fixture networks exported by PyTorch (MONAI's UNet and VNet re-created, a MeshNet,
// voxgpu's V-Net) imported and run on voxgpu's ops: outputs within 1e-4 (relative to the largest
// value) of PyTorch's and of ONNX Runtime's.
import { beforeAll, describe, expect, it } from 'vitest';
import { importOnnx, noGrad, tensor, tidy } from '../../../src/index.js';
import { gpu, maxRelError, randomArray } from '../../helpers.js';
import { FIXTURE_NAMES, readFixture, runOrt } from './helpers.js';

beforeAll(gpu);

describe.each(FIXTURE_NAMES)('ONNX fixture %s', (name) => {
  it('matches PyTorch and ONNX Runtime within 1e-4', async () => {
    const f = readFixture(name);
    const model = importOnnx(f.bytes);
    const out = tidy(() => noGrad(() => model.forward(tensor(f.input.data, f.input.shape))));
    expect(out.shape).toEqual(f.output.shape);
    const ours = await out.toArray();
    const ort = await runOrt(f.bytes, { input: f.input });
    const vsTorch = maxRelError(ours, f.output.data);
    const vsOrt = maxRelError(ours, ort.data);
    console.log(`${name}: max error vs PyTorch ${vsTorch.toExponential(2)}, vs ONNX Runtime ${vsOrt.toExponential(2)}`);
    expect(vsTorch).toBeLessThan(1e-4);
    expect(vsOrt).toBeLessThan(1e-4);
    out.dispose();
    model.dispose();
  });
});

it('a graph exported with dynamic axes runs at other sizes, its shape arithmetic folded per call', async () => {
  const f = readFixture('paper_vnet_dynamic');
  const model = importOnnx(f.bytes);
  expect(model.inputs).toEqual([{ name: 'input', shape: [null, 1, null, null, null] }]);
  const x = { shape: [2, 1, 12, 8, 20], data: Float32Array.from(randomArray(2 * 12 * 8 * 20, 3, -2, 2)) };
  const out = tidy(() => noGrad(() => model.forward(tensor(x.data, x.shape))));
  expect(out.shape).toEqual([2, 2, 12, 8, 20]);
  const ort = await runOrt(f.bytes, { input: x });
  expect(maxRelError(await out.toArray(), ort.data)).toBeLessThan(1e-4);
  out.dispose();
  model.dispose();
});
