/**
 * `voxgpu train --data DIR -o model.safetensors`: train V-Net on a folder of scans and labels
 * (PROMISE12 `Case00.mhd` + `Case00_segmentation.mhd`, `*.nii.gz` + `*_seg.nii.gz`, or images/ + labels/),
 * preprocessed and augmented as in the paper, with a progress bar and periodic atomic checkpoints.
 */
import { Command } from 'commander';
import { init } from '../init.js';
import { loadCheckpoint, readCheckpointInfo, saveCheckpoint } from '../io/checkpoint-node.js';
import { loadCases } from '../data/loader-node.js';
import { augmentedBatches } from '../data/batches-gpu.js';
import { fit } from '../nn/fit.js';
import { VNet, vnetPresets, type VNetOptions } from '../nn/vnet.js';
import { Adam } from '../optim/adam.js';
import { SGD } from '../optim/sgd.js';
import { StepLR } from '../optim/step-lr.js';
import { parseVec3 } from './options.js';
import { checkOutputs } from './output-guard.js';
import { trainingProgress, type TrainingProgress } from './progress.js';

interface TrainCliOptions {
  data: string;
  output: string;
  iterations: string;
  size: [number, number, number];
  spacing: [number, number, number];
  batch: string;
  baseChannels: string;
  preset: 'paper' | 'caffe';
  optimizer: 'sgd' | 'adam';
  lr?: string;
  loss: 'dice' | 'ce';
  checkpointEvery: string;
  seed: string;
  resume?: boolean;
  force?: boolean;
  tune: boolean;
  augment: 'gpu' | 'cpu';
  mirror?: boolean;
}

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return n;
}

export function trainCommand(): Command {
  return new Command('train')
    .description("train V-Net on a folder of scans and labels (the paper's preprocessing and augmentation)")
    .requiredOption('--data <dir>', 'folder with image/label pairs')
    .requiredOption('-o, --output <file>', 'checkpoint to write (safetensors)')
    .option('--iterations <n>', 'training iterations', '1000')
    .option('--size <x,y,z>', 'network input size in voxels (multiples of 16)', parseVec3, [128, 128, 64])
    .option('--spacing <x,y,z>', 'resample every scan to this spacing (mm)', parseVec3, [1, 1, 1.5])
    .option('--batch <n>', 'volumes per iteration', '2')
    .option('--base-channels <n>', 'channels of the first stage', '16')
    .option('--preset <name>', "conv counts: 'paper' (Fig. 2) or 'caffe' (the original prototxt)", 'paper')
    .option('--optimizer <name>', "'sgd' (the paper: momentum 0.99) or 'adam'", 'sgd')
    .option('--lr <x>', 'learning rate (default: 1e-4 for sgd, 1e-3 for adam)')
    .option('--loss <name>', "'dice' or 'ce'", 'dice')
    .option('--checkpoint-every <n>', 'save every n iterations', '100')
    .option('--seed <n>', 'seed for augmentation and weights', '1')
    .option('--resume', 'continue from the checkpoint at --output (weights, optimizer, iteration)')
    .option('--force', 'replace an existing output checkpoint (without --resume)')
    .option('--augment <where>', "where the paper's augmentation runs: 'gpu' or 'cpu' (the reference, same seeded draws)", 'gpu')
    .option('--mirror', 'also mirror each sample along each axis with probability ½ (nnU-Net’s augmentation, not the paper’s)')
    .option('--no-tune', 'skip measuring the kernel variants for these shapes before training (see the README: autotune)')
    .action(async (o: TrainCliOptions) => {
      const iterations = positiveInt('iterations', o.iterations);
      if (!['sgd', 'adam'].includes(o.optimizer)) throw new Error(`--optimizer must be sgd or adam, got ${o.optimizer}`);
      if (!['dice', 'ce'].includes(o.loss)) throw new Error(`--loss must be dice or ce, got ${o.loss}`);
      if (!['gpu', 'cpu'].includes(o.augment)) throw new Error(`--augment must be gpu or cpu, got ${o.augment}`);
      if (!(o.preset in vnetPresets)) throw new Error(`--preset must be paper or caffe, got ${o.preset}`);
      if (!o.resume) await checkOutputs([o.output], [], o);
      await init();
      const config: VNetOptions = o.resume
        ? ((await readCheckpointInfo(o.output)).config as VNetOptions)
        : { baseChannels: positiveInt('base-channels', o.baseChannels), ...vnetPresets[o.preset], seed: Number(o.seed) };
      const model = new VNet(config);
      const lr = o.lr === undefined ? (o.optimizer === 'sgd' ? 1e-4 : 1e-3) : Number(o.lr);
      const optimizer = o.optimizer === 'sgd' ? new SGD(model.parameters(), { lr, momentum: 0.99 }) : new Adam(model.parameters(), { lr });
      const scheduler = new StepLR(optimizer, { stepSize: 25_000, gamma: 0.1 });
      const start = o.resume ? (await loadCheckpoint(o.output, model, optimizer)).iteration : 0;
      scheduler.iteration = start;
      const cases = await loadCases(o.data, { size: o.size, spacing: o.spacing });
      process.stdout.write(`${cases.length} cases from ${o.data}; V-Net with ${model.parameterCount()} parameters\n`);
      let progress = null as TrainingProgress | null;
      try {
        const batches = augmentedBatches(cases, {
          augmentOn: o.augment,
          batchSize: positiveInt('batch', o.batch),
          seed: Number(o.seed) + start,
          mirror: o.mirror,
        });
        await fit(model, optimizer, batches, {
          iterations,
          startIteration: start,
          loss: o.loss === 'dice' ? 'dice' : 'crossEntropy',
          scheduler,
          checkpointEvery: positiveInt('checkpoint-every', o.checkpointEvery),
          saveCheckpoint: (iteration) => saveCheckpoint(o.output, model, { optimizer, iteration, config: model.config }),
          tune: o.tune && { log: (line) => process.stdout.write(`${line}\n`) },
          // The bar starts after tuning, whose log lines it would otherwise overwrite.
          onStart: () => (progress = trainingProgress('train', iterations, start)),
          onIteration: (it, loss) => progress?.update(it, loss),
        });
      } finally {
        progress?.stop();
      }
      process.stdout.write(`wrote ${o.output}\n`);
    });
}
