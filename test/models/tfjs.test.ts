// TF.js layers-models imported as Modules, checked against TensorFlow.js itself (CPU backend): models
// built here with its layers API and seeded weights, saved as model.json + shard, run by both on the
// same volume (voxgpu channels first, TF.js channels last, same D, H, W order) within 1e-4 relative.
// Then the way back: fine-tuned here, exported, and loaded by TF.js from the files.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchLoss, exportTfjsModel, fit, importTfjsModel, noGrad, SGD, tensor, tidy, type TfjsModel } from '../../src/index.js';
import { loadTfjsModel, saveTfjsModel } from '../../src/node.js';
import { gpu, maxRelError, randomArray } from '../helpers.js';
import { cpuBackend, loadFromFile, predictChannelsFirst, saveToMemory, seedWeights, tf } from '../helpers/tfjs.js';

beforeAll(async () => {
  await gpu();
  await cpuBackend();
});

type Shape5 = [number, number, number, number, number];

/** A functional TF.js model: `layers` applied in a chain to an input of `spatial` and `channels`. */
function chain(spatial: readonly number[], channels: number, layers: tf.layers.Layer[], seed: number): tf.LayersModel {
  const input = tf.input({ shape: [...spatial, channels] });
  let h = input;
  for (const l of layers) h = l.apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: h });
  seedWeights(model, seed);
  return model;
}

async function forward(model: TfjsModel, data: Float32Array, shape: Shape5): Promise<Float32Array> {
  return noGrad(() => tidy(() => model.forward(tensor(data, shape)))).toArray();
}

/** voxgpu's and TF.js' outputs for one seeded input; the relative error between them. */
async function compare(reference: tf.LayersModel, model: TfjsModel, shape: Shape5, seed: number): Promise<number> {
  const x = Float32Array.from(
    randomArray(
      shape.reduce((a, b) => a * b),
      seed,
    ),
  );
  const ours = await forward(model, x, shape);
  const theirs = predictChannelsFirst(reference, x, shape);
  expect(ours.length).toBe(theirs.length);
  return maxRelError(ours, theirs);
}

const conv = (config: Parameters<typeof tf.layers.conv3d>[0]) => tf.layers.conv3d(config);

describe('importTfjsModel against TF.js', () => {
  it('matches convs of odd and even kernels, dilations, same and valid padding, with and without bias, and activations', async () => {
    const reference = chain(
      [7, 6, 5],
      2,
      [
        conv({ name: 'c1', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
        conv({ name: 'c2', filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same', useBias: false }),
        tf.layers.activation({ name: 'act', activation: 'relu' }),
        conv({ name: 'even', filters: 3, kernelSize: 2, padding: 'same' }),
        conv({ name: 'mixed', filters: 3, kernelSize: [1, 3, 2], dilationRate: [2, 1, 3], padding: 'same', activation: 'relu' }),
        conv({ name: 'valid', filters: 3, kernelSize: 3, padding: 'valid' }),
        conv({ name: 'output', filters: 4, kernelSize: 1, padding: 'same', activation: 'softmax' }),
      ],
      1,
    );
    const { json, weights } = await saveToMemory(reference);
    const model = importTfjsModel(json, weights);
    expect([...model.namedParameters()].map(([n, p]) => `${n} ${p.shape.join('x')}`)).toEqual([
      'c1.weight 4x2x3x3x3',
      'c1.bias 4',
      'c2.weight 3x4x3x3x3',
      'even.weight 3x3x2x2x2',
      'even.bias 3',
      'mixed.weight 3x3x1x3x2',
      'mixed.bias 3',
      'valid.weight 3x3x3x3x3',
      'valid.bias 3',
      'output.weight 4x3x1x1x1',
      'output.bias 4',
    ]);
    expect(await compare(reference, model, [2, 2, 7, 6, 5], 2)).toBeLessThan(1e-4);
    model.dispose();
  });

  it(
    "matches BatchNormalization as Keras defines it (TF.js cannot run it on volumes: the preceding layers' output through its " +
      'formula in float64)',
    async () => {
      const layers = [
        conv({ name: 'c', filters: 3, kernelSize: 3, padding: 'same' }),
        tf.layers.batchNormalization({ name: 'bn', epsilon: 0.01 }),
      ];
      const withBn = chain([5, 4, 3], 2, layers, 10);
      const beforeBn = tf.model({ inputs: withBn.inputs, outputs: withBn.layers[1]!.output as tf.SymbolicTensor });
      const [gamma, beta, mean, variance] = await Promise.all(layers[1]!.getWeights().map((w) => w.data()));
      const shape: Shape5 = [1, 2, 5, 4, 3];
      const x = Float32Array.from(randomArray(120, 11));
      const convOut = predictChannelsFirst(beforeBn, x, shape);
      const expected = Array.from(convOut, (v, i) => {
        const c = Math.floor(i / 60) % 3;
        return ((v - mean![c]!) / Math.sqrt(variance![c]! + 0.01)) * gamma![c]! + beta![c]!;
      });
      const { json, weights } = await saveToMemory(withBn);
      const model = importTfjsModel(json, weights);
      expect(maxRelError(await forward(model, x, shape), expected)).toBeLessThan(1e-4);
      // Exported, TF.js reads back every weight, the moving statistics included, value for value.
      const dir = mkdtempSync(join(tmpdir(), 'voxgpu-tfjs-bn-'));
      await saveTfjsModel(join(dir, 'model.json'), model);
      const back = await loadFromFile(join(dir, 'model.json'));
      expect(await Promise.all(back.getWeights().map((w) => w.data()))).toEqual(
        await Promise.all(withBn.getWeights().map((w) => w.data())),
      );
      model.dispose();
    },
  );

  it('matches every activation the models use: elu, exact and tanh gelu, sigmoid, in convs and as layers', async () => {
    const reference = chain(
      [5, 7, 6],
      1,
      [
        conv({ name: 'a', filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'elu' }),
        conv({ name: 'b', filters: 3, kernelSize: 3, dilationRate: [3, 1, 2], padding: 'same' }),
        tf.layers.activation({ name: 'g', activation: 'gelu' }),
        conv({ name: 'c', filters: 3, kernelSize: 3, padding: 'same', activation: 'gelu_new' }),
        conv({ name: 'd', filters: 2, kernelSize: 1, padding: 'same', activation: 'sigmoid' }),
      ],
      12,
    );
    const { json, weights } = await saveToMemory(reference);
    const model = importTfjsModel(json, weights);
    expect(await compare(reference, model, [1, 1, 5, 7, 6], 13)).toBeLessThan(1e-4);
    model.dispose();
  });

  it("follows brainchop's convention: a layer named *_gn is followed by an instance normalisation (as mindgrab's are)", async () => {
    const reference = chain(
      [6, 5, 7],
      1,
      [
        conv({ name: 'conv3d_0_gn', filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same', useBias: false }),
        tf.layers.activation({ name: 'activation_0', activation: 'gelu' }),
        conv({ name: 'conv3d_1_gn', filters: 3, kernelSize: 3, padding: 'same', useBias: false }),
        tf.layers.activation({ name: 'activation_1', activation: 'gelu' }),
        conv({ name: 'output', filters: 2, kernelSize: 1, padding: 'same' }),
      ],
      14,
    );
    const { json, weights } = await saveToMemory(reference);
    const model = importTfjsModel(json, weights);
    expect([...model.instanceNormAfter]).toEqual([0, 2]);
    expect(await compare(reference, model, [1, 1, 6, 5, 7], 15)).toBeLessThan(1e-4);
    model.dispose();
    const plain = importTfjsModel(json, weights, { brainchop: false });
    expect([...plain.instanceNormAfter]).toEqual([]);
    plain.dispose();
  });

  it('matches a Sequential model whose first layer carries the input shape', async () => {
    const reference = tf.sequential({
      layers: [
        conv({
          name: 'a',
          inputShape: [5, 4, 6, 1],
          filters: 3,
          kernelSize: 3,
          dilationRate: [1, 2, 1],
          padding: 'same',
          activation: 'relu',
        }),
        conv({ name: 'b', filters: 2, kernelSize: 1, padding: 'same' }),
      ],
    });
    seedWeights(reference, 3);
    const { json, weights } = await saveToMemory(reference);
    const model = importTfjsModel(json, weights);
    expect(await compare(reference, model, [1, 1, 5, 4, 6], 4)).toBeLessThan(1e-4);
    model.dispose();
  });
});

describe('importTfjsModel refuses what it does not run', () => {
  async function refusal(layers: tf.layers.Layer[]): Promise<string> {
    const { json, weights } = await saveToMemory(chain([4, 4, 4], 1, layers, 5));
    try {
      importTfjsModel(json, weights).dispose();
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  }

  it('names the layer, its class and the setting', async () => {
    expect(await refusal([tf.layers.maxPooling3d({ name: 'pool', poolSize: 2 })])).toBe(
      'importTfjsModel: layer "pool" (MaxPooling3D): this layer class is not supported (only InputLayer, Conv3D, Activation, ' +
        'BatchNormalization)',
    );
    expect(await refusal([conv({ name: 'down', filters: 2, kernelSize: 2, strides: 2 })])).toBe(
      'importTfjsModel: layer "down" (Conv3D): strides [2,2,2] are not supported (only 1)',
    );
    expect(await refusal([conv({ name: 'c', filters: 2, kernelSize: 3, padding: 'same', activation: 'tanh' })])).toBe(
      'importTfjsModel: layer "c" (Conv3D): activation "tanh" is not supported (supported: linear, relu, elu, gelu, gelu_new, ' +
        'sigmoid, softmax)',
    );
    expect(await refusal([tf.layers.batchNormalization({ name: 'bn', axis: 2 })])).toBe(
      'importTfjsModel: layer "bn" (BatchNormalization): axis 2 is not supported (only the channels, -1 or 4)',
    );
  });

  it('refuses a graph that is not a chain, weights that do not fit, and an input of the wrong channels', async () => {
    const input = tf.input({ shape: [4, 4, 4, 1], name: 'in' });
    const a = conv({ name: 'a', filters: 1, kernelSize: 1 }).apply(input) as tf.SymbolicTensor;
    const b = conv({ name: 'b', filters: 1, kernelSize: 1 }).apply(input) as tf.SymbolicTensor;
    const branched = await saveToMemory(tf.model({ inputs: input, outputs: tf.layers.add().apply([a, b]) as tf.SymbolicTensor }));
    expect(() => importTfjsModel(branched.json, branched.weights)).toThrow(
      'importTfjsModel: layer "b" (Conv3D): inputs [[["in",0,0,{}]]] are not the previous layer "a" alone; only a chain of ' +
        'layers is supported',
    );

    const { json, weights } = await saveToMemory(chain([4, 4, 4], 2, [conv({ name: 'c', filters: 3, kernelSize: 3, padding: 'same' })], 6));
    expect(() => importTfjsModel(json, weights.subarray(0, weights.length - 4))).toThrow(
      'importTfjsModel: the weight shards hold 656 bytes, the manifest needs 660 (weight "c/bias" ends past the data)',
    );
    const model = importTfjsModel(json, weights);
    expect(() => model.forward(tensor(new Float32Array(64), [1, 1, 4, 4, 4]))).toThrow(
      "TfjsModel: expected input [N, 2, D, H, W] (TF.js' [N, D, H, W, 2] with the channels first), got [1, 1, 4, 4, 4]",
    );
    model.dispose();
  });
});

describe('fine-tuning and export', () => {
  it('fit() trains the imported model: one step changes the weights and lowers the loss; TF.js loads the export and agrees', async () => {
    const reference = chain(
      [6, 5, 4],
      1,
      [
        conv({ name: 'c1', filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu' }),
        tf.layers.activation({ name: 'act', activation: 'softmax' }),
        conv({ name: 'output', filters: 2, kernelSize: 1, padding: 'same' }),
      ],
      7,
    );
    const { json, weights } = await saveToMemory(reference);
    const model = importTfjsModel(json, weights);
    const shape: Shape5 = [1, 1, 6, 5, 4];
    const image = Float32Array.from(randomArray(120, 8));
    const labels = Array.from(image, (v) => (v > 0.2 ? 1 : 0));
    const loss = async () =>
      noGrad(() => tidy(() => batchLoss(model, tensor(image, shape), tensor(labels, [1, 6, 5, 4]), { loss: 'crossEntropy' }))).item();
    const before = await loss();
    const kernelBefore = await model.stateDict().get('c1.weight')!.toArray();
    // biome-ignore lint/suspicious/noFocusedTests: voxgpu's training loop, not Jasmine's focused test
    await fit(model, new SGD(model.parameters(), { lr: 0.05 }), [{ image, labels, shape }], {
      iterations: 1,
      loss: 'crossEntropy',
      tune: false,
    });
    const after = await loss();
    expect(after).toBeLessThan(before);
    expect(maxRelError(await model.stateDict().get('c1.weight')!.toArray(), kernelBefore)).toBeGreaterThan(1e-4);

    const dir = mkdtempSync(join(tmpdir(), 'voxgpu-tfjs-'));
    await saveTfjsModel(join(dir, 'model.json'), model);
    const exported = await loadFromFile(join(dir, 'model.json'));
    expect(await compare(exported, model, [1, 1, 6, 5, 4], 9)).toBeLessThan(1e-4);
    // Read back by voxgpu too: the same parameters, value for value.
    const again = await loadTfjsModel(join(dir, 'model.json'));
    for (const [name, p] of model.stateDict()) expect(await again.stateDict().get(name)!.toArray()).toEqual(await p.toArray());
    expect((await exportTfjsModel(again)).json.modelTopology).toEqual(json.modelTopology);
    again.dispose();
    model.dispose();
  });
});
