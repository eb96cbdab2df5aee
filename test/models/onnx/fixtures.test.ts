// The four fixture networks exported by PyTorch (MONAI's UNet and VNet re-created, a MeshNet,
// voxgpu's V-Net) imported and run on voxgpu's ops: outputs within 1e-4 (relative to the largest
// value) of PyTorch's and of ONNX Runtime's.
import { beforeAll, describe, expect, it } from 'vitest';
import { importOnnx, noGrad, tensor, tidy } from '../../../src/index.js';
import { gpu, maxRelError } from '../../helpers.js';
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
