// Whole-network figures: one V-Net training step (forward, Dice loss, backward, SGD with the
// paper's momentum) per input size, and one inference pass. Each also reports the peak GPU memory
// the pool saw during the step (ctx.pool.resetPeak() before it, ctx.memory().peakBytes after):
// "peak" is everything live at the worst moment; "held" is what lives between steps (weights, their
// gradients — kept until the next zeroGrad — momentum, input and labels); "step" = peak − held, the
// activations and temporaries of one step.
import type { Context } from '../src/device/context.js';
import { noGrad } from '../src/core/autograd.js';
import { tidy } from '../src/core/memory.js';
import { randn } from '../src/ops/creation.js';
import { SGD } from '../src/optim/sgd.js';
import { trainStep } from '../src/nn/train-step.js';
import { VNet, type VNetOptions } from '../src/nn/vnet.js';
import { ballLabels } from './ops.js';
import { fmtDims, vnetForwardFlops, vox, type Dims3 } from './lib/flops.js';
import { rates, timed, type Ceiling, type Row } from './lib/report.js';
import { recordDispatches } from './lib/recorder.js';
import { timeGpu, type TimingOptions } from './lib/timing.js';
import { foreignLoad, mark } from './lib/load.js';

export interface VNetBenchConfig {
  baseChannels: number;
  kernelSize: number;
  /** Input sizes [D, H, W] for the training step (time vs voxel count). */
  trainSizes: Dims3[];
  inferenceSize: Dims3;
}

const paper = { inChannels: 1, numClasses: 2, encoderConvs: [1, 2, 3, 3, 3], decoderConvs: [3, 3, 2, 1] } as const;

const mib = (b: number) => b / 2 ** 20;

export async function vnetCases(
  ctx: Context,
  c: VNetBenchConfig,
  ceiling: Ceiling | null,
  timing: TimingOptions,
  log: (s: string) => void,
  /** Which cases to run, by "name shape" (the --only filter). */
  wanted: (nameAndShape: string) => boolean = () => true,
): Promise<Row[]> {
  const rows: Row[] = [];
  const options: VNetOptions = { ...paper, baseChannels: c.baseChannels, kernelSize: c.kernelSize, seed: 1 };
  const shapeOf = { ...paper, baseChannels: c.baseChannels, kernelSize: c.kernelSize };
  const label = (size: Dims3) => `base ${c.baseChannels}, k ${c.kernelSize} @ ${fmtDims(size)}`;
  const measure = async (name: string, size: Dims3, flops: number, build: () => { run: () => void; dispose: () => void }): Promise<Row> => {
    const row: Row = { section: 'vnet', name, shape: label(size), status: 'ok', flops };
    let built: ReturnType<typeof build> | null = null;
    try {
      built = build();
      await ctx.sync();
      // First run: compiles, fills the pool, and tells which kernels a step runs.
      const seen = recordDispatches(ctx, built.run);
      await ctx.sync();
      row.kernels = seen.kernels;
      row.dispatches = seen.dispatches;
      const before = ctx.memory().bytesInUse;
      ctx.pool.resetPeak();
      built.run();
      await ctx.sync();
      const peak = ctx.memory().peakBytes;
      const m = mark();
      const t = await timeGpu(ctx, built.run, { ...timing, warmup: 0 });
      timed(row, t, foreignLoad(m));
      row.extra = {
        peakBytes: peak,
        heldBytes: before,
        stepBytes: peak - before,
        voxels: vox(size),
        msPerMvoxel: t.medianMs / (vox(size) / 1e6),
      };
      row.note =
        `peak ${mib(peak).toFixed(0)} MiB = ${mib(before).toFixed(0)} held + ${mib(peak - before).toFixed(0)} step, ` +
        `${seen.dispatches} dispatches`;
      rates(row, ceiling);
      log(`  ${name} ${row.shape}: ${t.medianMs.toFixed(1)} ms, ${row.note}`);
    } catch (e) {
      row.status = 'failed';
      row.note = (e as Error).message.split('\n')[0];
      await ctx.sync().catch(() => undefined);
    } finally {
      built?.dispose();
    }
    return row;
  };

  for (const size of c.trainSizes) {
    if (!wanted(`training step ${label(size)}`)) continue;
    rows.push(
      await measure('training step', size, 3 * vnetForwardFlops(shapeOf, size), () => {
        const model = new VNet(options);
        const opt = new SGD(model.parameters(), { lr: 1e-4, momentum: 0.99 });
        const image = randn([1, 1, ...size], { seed: 5 });
        const labels = ballLabels(size);
        return {
          run: () => trainStep(model, opt, image, labels).dispose(),
          dispose: () => {
            opt.dispose();
            model.dispose();
            image.dispose();
            labels.dispose();
          },
        };
      }),
    );
  }
  const size = c.inferenceSize;
  if (!wanted(`inference ${label(size)}`)) return rows;
  rows.push(
    await measure('inference', size, vnetForwardFlops(shapeOf, size), () => {
      const model = new VNet(options);
      const image = randn([1, 1, ...size], { seed: 6 });
      return {
        // tidy: under noGrad nothing else frees the activations (trainStep has its own tidy).
        run: () => tidy(() => noGrad(() => void model.forward(image))),
        dispose: () => {
          model.dispose();
          image.dispose();
        },
      };
    }),
  );
  return rows;
}
