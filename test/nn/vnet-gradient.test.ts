import { it, expect } from 'vitest';
import { gpu } from '../helpers.js';
import { tensor, VNet, diceLoss, noGrad, tidy, syntheticCase } from '../../src/index.js';

// The end-to-end check that every op's backward is wired into the network correctly: autograd's
// gradient of the Dice loss against central differences of the whole forward pass, for one
// parameter of every kind of layer (convs at several depths, down/up convs, PReLU slopes, biases).
it('V-Net gradients match finite differences of the whole network', async () => {
  await gpu();
  const s = 16;
  const model = new VNet({ baseChannels: 4, kernelSize: 3, seed: 3 });
  const c = syntheticCase(1, [s, s, s]);
  const x = tensor(c.image, [1, 1, s, s, s]);
  const y = tensor(Float32Array.from(c.label), [1, s, s, s]);
  const lossOf = () => noGrad(() => tidy(() => diceLoss(model.forward(x), y)));
  tidy(() => diceLoss(model.forward(x), y).backward());
  const checked =
    /^(enc1\.conv0\.weight|enc1\.prelu\.weight|down1\.conv\.weight|enc2\.conv0\.bias|enc3\.conv1\.weight|up2\.prelu\.weight|up1\.conv\.weight|dec1\.conv0\.weight|head\.weight|classifier\.bias)$/;
  const report: string[] = [];
  for (const [name, p] of model.namedParameters()) {
    if (!checked.test(name)) continue;
    const g = await p.grad!.toArray();
    // The entry with the largest gradient: float32 differences of a loss near 1 resolve it well.
    let k = 0;
    for (let i = 1; i < g.length; i++) if (Math.abs(g[i]!) > Math.abs(g[k]!)) k = i;
    const data = await p.toArray();
    const orig = data[k]!;
    const h = 1e-2 * Math.max(1e-2, Math.abs(orig));
    const at = async (v: number) => {
      data[k] = v;
      p.ctx.upload(p.buffer, data);
      return (await lossOf()).item();
    };
    const [up, down] = [await at(orig + h), await at(orig - h)];
    const fd = (up - down) / (2 * h);
    await at(orig);
    report.push(`${name}: ${g[k]} vs ${fd}`);
    // Allowed: 3% plus the float32 rounding of the two losses, divided by the step.
    const roundoff = (4 * 2 ** -24 * Math.abs(up)) / h;
    expect(Math.abs(g[k]! - fd), name).toBeLessThan(0.03 * Math.abs(fd) + roundoff);
  }
  expect(report).toHaveLength(10);
});
