// The demo's work, with no DOM: the model, live training on synthetic volumes, and segmentation of a
// scan on its own grid (the same steps as `voxgpu segment`: resample to the model's spacing,
// z-score, sliding windows, mask back onto the scan's grid).
import { syntheticCase } from '../../src/data/synthetic.js';
import { checkpointInfo, loadCheckpointBytes } from '../../src/io/checkpoint.js';
import { cloneGrid, IDENTITY_DIRECTION, type Vec3, type VoxelArray, type Volume } from '../../src/image/volume.js';
import { fit } from '../../src/nn/fit.js';
import { zscore } from '../../src/data/intensity.js';
import { gpuBatchIterator } from '../../src/data/batches-gpu.js';
import type { PreparedCase } from '../../src/data/loader.js';
import { segmentVolume } from '../../src/nn/segment-volume.js';
import { VNet, type VNetOptions } from '../../src/nn/vnet.js';
import { Adam } from '../../src/optim/adam.js';

/**
 * Tiny on purpose: software WebGPU (SwiftShader) runs every kernel on the CPU. Three levels (sizes in
 * multiples of 4), 4 base channels, 3×3×3 kernels.
 */
export const demoModelOptions: VNetOptions = { baseChannels: 4, kernelSize: 3, encoderConvs: [1, 2, 2], decoderConvs: [2, 1], seed: 1 };

/** Synthetic volumes and training windows: [D, H, W] (tensor order) = 32 × 32 × 16 voxels (x, y, z). */
export const syntheticShape: [number, number, number] = [16, 32, 32];
/** Spacing (mm, x y z) the demo model works at; synthetic volumes are made at it. */
export const defaultSpacing: Vec3 = [1, 1, 1.5];

export interface ModelState {
  model: VNet;
  optimizer: Adam;
  /** Iterations trained so far (continues across "Train" clicks and from a loaded checkpoint). */
  iteration: number;
  losses: number[];
  /** Where the weights came from, for the page. */
  source: string;
}

export function newModel(options: VNetOptions = demoModelOptions, source = 'random initialisation'): ModelState {
  const model = new VNet(options);
  return { model, optimizer: new Adam(model.parameters(), { lr: 3e-3 }), iteration: 0, losses: [], source };
}

/** Frees a model's GPU memory: parameters, their gradients and the optimizer's moments. */
export function disposeModel(s: ModelState): void {
  s.model.dispose();
  s.optimizer.dispose();
}

/** A model built from a checkpoint's saved configuration, with its weights (and Adam state, if any). */
export function modelFromCheckpoint(bytes: Uint8Array, name: string): ModelState {
  const info = checkpointInfo(bytes, name);
  if (!info.config) throw new Error(`${name} holds no model configuration (save checkpoints with { config: model.config })`);
  const s = newModel(info.config as VNetOptions, name);
  try {
    const withAdam = info.metadata.optimizer?.includes('"Adam"');
    const loaded = loadCheckpointBytes(bytes, s.model, withAdam ? s.optimizer : undefined, name);
    s.iteration = loaded.iteration;
  } catch (e) {
    disposeModel(s);
    throw e;
  }
  return s;
}

/** A synthetic scan ([D, H, W] voxels, tensor order) as a Volume at the demo spacing, with its ground truth. */
export function syntheticScan(seed: number, shape: [number, number, number] = syntheticShape): { scan: Volume; truth: Uint8Array } {
  const c = syntheticCase(seed, shape);
  const [d, h, w] = shape;
  const grid = {
    shape: [w, h, d] as Vec3,
    spacing: [...defaultSpacing] as Vec3,
    origin: [0, 0, 0] as Vec3,
    direction: [...IDENTITY_DIRECTION] as Volume['direction'],
  };
  return { scan: { ...grid, data: c.image }, truth: c.label };
}

/** The training volumes, made on first use: a fixed set, as a real one would be. */
let trainingCases: PreparedCase[] | null = null;

function demoTrainingCases(): PreparedCase[] {
  const [d, h, w] = syntheticShape;
  trainingCases ??= Array.from({ length: 16 }, (_, i) => {
    const c = syntheticCase(1_000_000 + i, syntheticShape);
    return { id: `train${i}`, image: zscore(c.image), label: c.label, shape: [w, h, d] };
  });
  return trainingCases;
}

/**
 * Trains `iterations` more steps with the Dice loss; `onIteration` sees every loss as it arrives. Each
 * batch is augmented on the GPU as in `voxgpu train` (the paper's deformation, σ scaled to 16 voxels,
 * and histogram matching), so the page's main thread only records dispatches and stays responsive.
 */
export async function train(s: ModelState, iterations: number, onIteration: (iteration: number, loss: number) => void): Promise<void> {
  const end = s.iteration + iterations;
  const batches = gpuBatchIterator(demoTrainingCases(), { batchSize: 1, seed: s.iteration, deformation: { sigma: (15 * 16) / 128 } });
  await fit(s.model, s.optimizer, batches, {
    iterations: end,
    startIteration: s.iteration,
    loss: 'dice',
    // A browser keeps tuned winners in memory only, so every page load would measure them anew
    // (slow on a software adapter); this small model trains fast enough on the default tiles.
    tune: false,
    // Every loss for the page's curve: the steps are small, and a read between them keeps the tab's
    // event loop turning.
    lossEvery: 1,
    onIteration: (it, loss) => {
      s.iteration = it;
      if (loss === undefined) return;
      s.losses.push(loss);
      onIteration(it, loss);
    },
  });
}

export interface ScanSegmentation {
  /** Labels on the scan's own grid (0/1), x fastest. */
  mask: Uint8Array;
  foregroundVoxels: number;
  /** Foreground voxels × the scan's voxel volume, in mL. */
  foregroundMl: number;
  milliseconds: number;
}

/** Segments a scan and returns the mask on the scan's own grid. */
export async function segmentScan(s: ModelState, scan: Volume, spacing: Vec3 = defaultSpacing): Promise<ScanSegmentation> {
  const t0 = performance.now();
  const result = await segmentVolume(s.model, scan, { spacing });
  return {
    mask: result.mask.data as Uint8Array,
    foregroundVoxels: result.foregroundVoxels,
    foregroundMl: result.foregroundMl,
    milliseconds: performance.now() - t0,
  };
}

/** A mask or labels as a volume with the scan's geometry, so it overlays the scan in any viewer. */
export function maskVolume(scan: Volume, mask: VoxelArray): Volume {
  return { ...cloneGrid(scan), data: mask };
}
