// Training through an imported graph: autograd's gradients for every initializer against central
// differences of the whole graph, BatchNormalization's running statistics updated in training mode
// (PyTorch's momentum and unbiased variance), and fit() lowering the loss of a PyTorch export.
import { beforeAll, expect, it } from 'vitest';
import { Adam, batchLoss, conv3d, fit, importOnnx, mul, noGrad, sum, tensor, tidy } from '../../../src/index.js';
import { gpu, randomArray } from '../../helpers.js';
import { readFixture, tinyGraph } from './helpers.js';

beforeAll(gpu);

it('gradients of every initializer match finite differences of the imported graph', async () => {
  const model = importOnnx(tinyGraph());
  const x = tensor(Float32Array.from(randomArray(216, 1, -2, 2)), [1, 1, 6, 6, 6]);
  // A linear loss of the logits: gradients of order 1, which float32 differences resolve well.
  const r = tensor(Float32Array.from(randomArray(2 * 216, 2, -1, 1)), [1, 2, 6, 6, 6]);
  const loss = () => sum(mul(model.logits(x), r));
  const lossOf = () => noGrad(() => tidy(loss));
  tidy(() => loss().backward());
  const names = [...model.namedParameters()].map(([n]) => n);
  expect(names).toEqual([
    'conv1.weight',
    'conv1.bias',
    'bn.weight',
    'bn.bias',
    'up.weight',
    'up.bias',
    'in.weight',
    'in.bias',
    'prelu.weight',
    'head.weight',
    'head.bias',
  ]);
  expect([...model.namedBuffers()].map(([n]) => n)).toEqual(['bn.running_mean', 'bn.running_var']);
  const report: string[] = [];
  for (const [name, p] of model.namedParameters()) {
    const g = await p.grad!.toArray();
    let k = 0;
    for (let i = 1; i < g.length; i++) if (Math.abs(g[i]!) > Math.abs(g[k]!)) k = i;
    const data = await p.toArray();
    const orig = data[k]!;
    // Small, since ELU and PReLU have kinks at 0 that a larger step straddles.
    const h = 1e-2 * Math.max(1e-1, Math.abs(orig));
    const at = async (v: number) => {
      data[k] = v;
      p.ctx.upload(p.buffer, data);
      return (await lossOf()).item();
    };
    const [lossUp, lossDown] = [await at(orig + h), await at(orig - h)];
    await at(orig);
    const fd = (lossUp - lossDown) / (2 * h);
    // 3% plus the float32 rounding of the two losses, divided by the step.
    const roundoff = (4 * 2 ** -24 * Math.abs(lossUp)) / h;
    report.push(`${name}: ${g[k]!.toExponential(3)} vs ${fd.toExponential(3)}`);
    expect(Math.abs(g[k]! - fd), `${name}: autograd ${g[k]} vs differences ${fd}`).toBeLessThan(0.03 * Math.abs(fd) + roundoff);
  }
  console.log(report.join('\n'));
  model.dispose();
});

it('BatchNormalization in training mode updates the running statistics as PyTorch does', async () => {
  const model = importOnnx(tinyGraph()).train();
  const state = model.stateDict();
  const [mean0, var0] = [await state.get('bn.running_mean')!.toArray(), await state.get('bn.running_var')!.toArray()];
  const x = tensor(Float32Array.from(randomArray(2 * 216, 3, -2, 2)), [2, 1, 6, 6, 6]);
  // BatchNorm's input is conv1's output: its batch statistics per channel, in float64.
  const h = await noGrad(() => conv3d(x, state.get('conv1.weight')!, state.get('conv1.bias')!, { stride: 2, padding: 1 })).toArray();
  tidy(() => noGrad(() => model.forward(x)));
  const [mean1, var1] = [await state.get('bn.running_mean')!.toArray(), await state.get('bn.running_var')!.toArray()];
  const perChannel = 27; // 3³ positions of each of the 2 samples
  for (let c = 0; c < 3; c++) {
    const values = [0, 1].flatMap((n) => Array.from(h.subarray((n * 3 + c) * perChannel, (n * 3 + c + 1) * perChannel)));
    const mean = values.reduce((a, v) => a + v, 0) / values.length;
    const unbiased = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
    // ONNX's momentum 0.9 is PyTorch's 0.1: running = 0.9·running + 0.1·batch.
    expect(mean1[c]).toBeCloseTo(0.9 * mean0[c]! + 0.1 * mean, 5);
    expect(var1[c]).toBeCloseTo(0.9 * var0[c]! + 0.1 * unbiased, 5);
  }
  model.dispose();
});

it('fit() fine-tunes an imported PyTorch export (the loss goes down)', async () => {
  const f = readFixture('paper_vnet');
  const model = importOnnx(f.bytes).train();
  const labels = Float32Array.from(f.input.data, (v) => (v > 0.5 ? 1 : 0));
  const shape = f.input.shape as [number, number, number, number, number];
  const before = await noGrad(() => tidy(() => batchLoss(model, tensor(f.input.data, shape), tensor(labels, [1, 16, 16, 16])))).item();
  const optimizer = new Adam(model.parameters(), { lr: 1e-2 });
  // biome-ignore lint/suspicious/noFocusedTests: voxgpu's training loop, not Jasmine's focused test
  const losses = await fit(
    model,
    optimizer,
    Array.from({ length: 3 }, () => ({ image: f.input.data, labels, shape })),
    { iterations: 3, lossEvery: 1 },
  );
  const after = await noGrad(() => tidy(() => batchLoss(model, tensor(f.input.data, shape), tensor(labels, [1, 16, 16, 16])))).item();
  expect(losses).toHaveLength(3);
  expect(after).toBeLessThan(before);
  model.dispose();
});
