import { it, expect } from 'vitest';
import { gpu, finiteDifference } from '../helpers.js';
import { tensor, VNet, diceLoss, tidy, syntheticCase } from '../../src/index.js';
import { paramsOf, vnetDiceLossRef } from '../reference/vnet.js';

// The end-to-end check that every op's backward is wired into the network correctly: autograd's
// gradient of the Dice loss against central differences of the whole forward pass, for one
// parameter of every kind of layer (convs at several depths, down/up convs, PReLU slopes, biases).
//
// The differences are taken of the float64 reference network (test/reference/vnet.ts) with the
// model's own weights, not of the float32 GPU forward: float32 losses near 1 resolve a difference
// only to about 2⁻²⁴/h, which for a small weight's small step swamps a small gradient (a per-parameter
// error of 175 % once passed that way, so a zero gradient would have). In float64 the differences are
// exact to ~1e-9 of the gradient, and what remains is the GPU gradient's own float32 rounding (the
// default precision; the mixed one is checked in bench/precision.ts): sums over thousands of voxels
// and taps through some 25 layers, measured at most 9.4e-7 of the entry on llvmpipe. Allowed: 1e-4,
// room for other adapters' summation orders, and far below the error of a wrong or zero gradient (1).
it('V-Net gradients match finite differences of the whole network', async () => {
  await gpu();
  const s = 16;
  const model = new VNet({ baseChannels: 4, kernelSize: 3, seed: 3 });
  const c = syntheticCase(1, [s, s, s]);
  const x = tensor(c.image, [1, 1, s, s, s]);
  const y = tensor(Float32Array.from(c.label), [1, s, s, s]);
  tidy(() => diceLoss(model.forward(x), y).backward());
  const params = await paramsOf(model);
  const input = { data: Float64Array.from(c.image), shape: [1, 1, s, s, s] as [number, number, number, number, number] };
  const checked = new Set([
    'enc1.conv0.weight',
    'enc1.prelu.weight',
    'down1.conv.weight',
    'enc2.conv0.bias',
    'enc3.conv1.weight',
    'up2.prelu.weight',
    'up1.conv.weight',
    'dec1.conv0.weight',
    'head.weight',
    'classifier.bias',
  ]);
  const report: string[] = [];
  for (const [name, p] of model.namedParameters()) {
    if (!checked.has(name)) continue;
    const g = await p.grad!.toArray();
    // The entry with the largest gradient: the one float32 sums resolve best.
    let k = 0;
    for (let i = 1; i < g.length; i++) if (Math.abs(g[i]!) > Math.abs(g[k]!)) k = i;
    const own = params.get(name)!;
    const lossWith = (data: Float64Array) =>
      vnetDiceLossRef(model.config, new Map(params).set(name, { shape: own.shape, data }), input, c.label);
    const [fd] = finiteDifference(lossWith, own.data, 1e-6, [k]);
    const error = Math.abs(g[k]! - fd!) / Math.abs(fd!);
    report.push(`${name}[${k}]: ${g[k]} vs ${fd} (relative error ${error.toExponential(1)})`);
    // A right gradient's largest entry is not 0; a zero gradient's "largest" is entry 0, whatever it is.
    expect(Math.abs(fd!), `${report.at(-1)}: no gradient to compare`).toBeGreaterThan(0);
    expect(error, report.at(-1)).toBeLessThan(1e-4);
  }
  expect(report).toHaveLength(10);
});
