// The normalisation layers: PyTorch's parameters, buffers and state-dict names; BatchNorm3d's
// running statistics and num_batches_tracked over training steps, then eval mode on them; buffers
// through loadStateDict and a checkpoint; InstanceNorm3d and GroupNorm as their ops; bad inputs.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BatchNorm3d,
  checkpointBytes,
  GroupNorm,
  InstanceNorm3d,
  loadCheckpointBytes,
  Module,
  tensor,
  type Tensor,
} from '../../src/index.js';
import { shapeSize } from '../../src/core/shape.js';
import { gpu } from '../helpers.js';
import { expectClose, inputs, reportErrors } from '../helpers/gradcheck.js';
import * as ref from '../reference/norm.js';

beforeAll(async () => {
  await gpu();
});
reportErrors('nn norm');

const shape = [2, 3, 3, 4, 2];

/** A container, so that names come out dotted. */
class Block extends Module {
  readonly norm = this.addModule('norm', new BatchNorm3d(3));
  forward(x: Tensor): Tensor {
    return this.norm.forward(x);
  }
}

async function host(t: Tensor | null): Promise<Float32Array> {
  return t!.toArray();
}

describe('BatchNorm3d', () => {
  it("has PyTorch's parameters, buffers and state-dict names", async () => {
    const block = new Block();
    expect([...block.namedParameters()].map(([n]) => n)).toEqual(['norm.weight', 'norm.bias']);
    expect([...block.namedBuffers()].map(([n, t]) => `${n} [${t.shape}]`)).toEqual([
      'norm.running_mean [3]',
      'norm.running_var [3]',
      'norm.num_batches_tracked []',
    ]);
    expect([...block.stateDict().keys()]).toEqual([
      'norm.weight',
      'norm.bias',
      'norm.running_mean',
      'norm.running_var',
      'norm.num_batches_tracked',
    ]);
    expect(Array.from(await host(block.norm.runningVar))).toEqual([1, 1, 1]);
    expect(new BatchNorm3d(3, { affine: false, trackRunningStats: false }).stateDict().size).toBe(0);
    block.dispose();
  });

  it('training: batch statistics, running statistics updated, batches counted; eval: the running statistics', async () => {
    const bn = new BatchNorm3d(3, { momentum: 0.2 });
    let running: { mean: Float64Array; variance: Float64Array } = { mean: new Float64Array(3), variance: new Float64Array(3).fill(1) };
    for (const seed of [1, 2]) {
      const xs = inputs(shapeSize(shape), seed, -1, 3);
      const y = bn.forward(tensor(xs, shape));
      expectClose('train forward', await y.toArray(), ref.normalize(xs, shape, 'batch'));
      y.dispose();
      running = ref.updatedRunning(running, ref.rowStats(xs, shape, 'batch'), 0.2);
    }
    expectClose('running mean', await host(bn.runningMean), running.mean);
    expectClose('running var', await host(bn.runningVar), running.variance);
    expect(Array.from(await host(bn.numBatchesTracked))).toEqual([2]);

    bn.eval();
    const xs = inputs(shapeSize(shape), 3);
    const y = bn.forward(tensor(xs, shape));
    expectClose('eval forward', await y.toArray(), ref.normalize(xs, shape, 'batch', {}, { ...running, count: 0 }));
    expect(Array.from(await host(bn.numBatchesTracked))).toEqual([2]);
    expectClose('running mean unchanged in eval', await host(bn.runningMean), running.mean);
    bn.dispose();
  });

  it("changes nothing in autotune's dry run (no GPU work)", async () => {
    const bn = new BatchNorm3d(3);
    const ctx = await gpu();
    ctx.dryRun(() => bn.forward(tensor(inputs(shapeSize(shape), 5), shape)));
    expect(Array.from(await host(bn.numBatchesTracked))).toEqual([0]);
    expect(Array.from(await host(bn.runningVar))).toEqual([1, 1, 1]);
    bn.dispose();
  });

  it('loads buffers with loadStateDict and through a checkpoint', async () => {
    const a = new BatchNorm3d(3);
    a.forward(tensor(inputs(shapeSize(shape), 4), shape)).dispose();
    const b = new BatchNorm3d(3);
    loadCheckpointBytes(await checkpointBytes(a), b);
    for (const [name, t] of a.stateDict())
      expect(Array.from(await b.stateDict().get(name)!.toArray()), name).toEqual(Array.from(await t.toArray()));
    expect(() => b.loadStateDict(new Map([...a.stateDict()].filter(([k]) => k !== 'running_var')))).toThrow(
      'loadStateDict: state does not match the model (missing: running_var)',
    );
    a.dispose();
    b.dispose();
  });
});

describe('InstanceNorm3d and GroupNorm', () => {
  it('InstanceNorm3d: no parameters by default (affine false), weight and bias with affine', async () => {
    const xs = inputs(shapeSize(shape), 5);
    const plain = new InstanceNorm3d(3);
    expect(plain.stateDict().size).toBe(0);
    const y = plain.forward(tensor(xs, shape));
    expectClose('instance norm', await y.toArray(), ref.normalize(xs, shape, 3));
    const affine = new InstanceNorm3d(3, { affine: true, eps: 1e-3 });
    expect([...affine.stateDict().keys()]).toEqual(['weight', 'bias']);
    const z = affine.forward(tensor(xs, shape));
    expectClose('instance norm affine', await z.toArray(), ref.normalize(xs, shape, 3, { eps: 1e-3 }));
  });

  it('GroupNorm: weight and bias by default, any rank from 2', async () => {
    const xs = inputs(shapeSize(shape), 6);
    const gn = new GroupNorm(1, 3);
    expect([...gn.stateDict().keys()]).toEqual(['weight', 'bias']);
    const y = gn.forward(tensor(xs, shape));
    expectClose('group norm', await y.toArray(), ref.normalize(xs, shape, 1));
  });

  it('reject inputs of the wrong rank or channel count, and groups that do not divide', () => {
    const x = tensor(new Float32Array(24), [2, 4, 3]);
    expect(() => new InstanceNorm3d(4).forward(x)).toThrow('InstanceNorm3d: expected 5D input (N, C, D, H, W), got shape [2, 4, 3]');
    expect(() => new BatchNorm3d(3).forward(tensor(new Float32Array(16), [1, 2, 2, 2, 2]))).toThrow(
      'BatchNorm3d: expected 3 channels (numFeatures), got x [1, 2, 2, 2, 2]',
    );
    expect(() => new GroupNorm(3, 4)).toThrow('GroupNorm: numChannels 4 must be divisible by numGroups, got 3');
    expect(() => new GroupNorm(2, 6).forward(x)).toThrow('GroupNorm: expected input [N, 6, ...], got shape [2, 4, 3]');
  });
});
