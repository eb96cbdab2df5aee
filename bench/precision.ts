// npx tsx bench/precision.ts [--size 64,64,64] [--base-channels 16]
// Does the mixed precision need loss scaling? One V-Net Dice-loss backward pass on the same
// weights and input in fp32 and in mixed precision (a context each; --no-scale: without the loss
// scale trainStep applies), then per parameter: the relative difference of the gradients (largest
// |difference| over the largest |fp32 gradient|), and how many gradient values are 0 in mixed
// precision but not in fp32 (f16 underflow). Prints a table; needs an adapter with tensor cores.
import { Command } from 'commander';
import { init } from '../src/init.js';
import { tidy } from '../src/core/memory.js';
import { randn } from '../src/ops/creation.js';
import { VNet } from '../src/nn/vnet.js';
import { batchLoss, scaledBackward } from '../src/nn/train-step.js';
import { ballLabels } from './ops.js';
import type { Dims3 } from './lib/flops.js';

const opts = new Command()
  .option('--size <d,h,w>', 'input size', '64,64,64')
  .option('--base-channels <n>', 'V-Net base width', '16')
  .option('--no-scale', 'mixed precision without the loss scale')
  .parse()
  .opts<{ size: string; baseChannels: string; scale: boolean }>();
const [d, h, w] = opts.size.split(',').map(Number);
const size: Dims3 = [d!, h!, w!];
const options = { inChannels: 1, numClasses: 2, baseChannels: Number(opts.baseChannels), kernelSize: 5, seed: 1 };

/** Every parameter's gradient after one backward pass, with the loss, under this precision. */
async function gradients(precision: 'fp32' | 'mixed'): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  const ctx = await init({ precision, tuningCache: false });
  console.log(`${precision}: ${ctx.describe().adapter}, ${ctx.describe().precision}`);
  const model = new VNet(options);
  const image = randn([1, 1, ...size], { seed: 5 });
  const labels = ballLabels(size);
  const loss = tidy(() => {
    const l = batchLoss(model, image, labels);
    if (opts.scale) scaledBackward(l, model.parameters());
    else l.backward();
    return l.detach();
  });
  const grads = new Map<string, Float32Array>();
  for (const [name, p] of model.namedParameters()) grads.set(name, await p.grad!.toArray());
  return { loss: await loss.item(), grads };
}

const full = await gradients('fp32');
const mixed = await gradients('mixed');
console.log(`loss: fp32 ${full.loss.toFixed(6)}, mixed ${mixed.loss.toFixed(6)}`);
console.log('parameter | rel. difference | zero only in mixed | |grad| max');
for (const [name, g] of full.grads) {
  const m = mixed.grads.get(name)!;
  let scale = 0;
  let diff = 0;
  let lost = 0;
  for (let i = 0; i < g.length; i++) {
    scale = Math.max(scale, Math.abs(g[i]!));
    diff = Math.max(diff, Math.abs(g[i]! - m[i]!));
    if (m[i] === 0 && g[i] !== 0) lost++;
  }
  console.log(`${name} | ${(diff / (scale || 1)).toExponential(2)} | ${lost} of ${g.length} | ${scale.toExponential(2)}`);
}
