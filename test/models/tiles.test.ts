// predictVolume: an imported model over a whole volume in tiles with halos, under a device budget
// small enough to force many tiles on some layers (the others run whole on the device), equals one
// pass of model.forward over the whole volume.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { argmax, importTfjsModel, noGrad, predictVolume, tensor, tidy, type TfjsModel } from '../../src/index.js';
import { loadTfjsModel } from '../../src/node.js';
import { gpu, maxRelError, randomArray } from '../helpers.js';
import { cpuBackend, saveToMemory, seedWeights, tf } from '../helpers/tfjs.js';

beforeAll(async () => {
  await gpu();
  await cpuBackend();
});

async function onePass(
  model: TfjsModel,
  data: Float32Array,
  shape: readonly number[],
): Promise<{ scores: Float32Array; labels: Float32Array }> {
  const { y, best } = noGrad(() =>
    tidy(() => {
      const y = model.forward(tensor(data, [1, model.inChannels, ...shape]));
      return { y, best: argmax(y, 1) };
    }),
  );
  const out = { scores: await y.toArray(), labels: await best.toArray() };
  y.dispose();
  best.dispose();
  return out;
}

async function expectTiledEqualsOnePass(model: TfjsModel, shape: readonly number[], maxTileBytes: number, seed: number): Promise<number> {
  const data = Float32Array.from(randomArray(model.inChannels * shape.reduce((a, b) => a * b), seed, 0, 1));
  const whole = await onePass(model, data, shape);
  const given = data.slice();
  let layers = 0;
  const tiled = await predictVolume(model, data, shape, { maxTileBytes, scores: true, onLayer: (done) => (layers = done) });
  expect(layers).toBe(model.layers.length);
  // Layers that keep their channels and size write their output over their input, never over the caller's data.
  expect(data).toEqual(given);
  expect(maxRelError(tiled.scores!, whole.scores)).toBeLessThan(1e-5);
  expect(Array.from(tiled.labels)).toEqual(Array.from(whole.labels));
  const labelsOnly = await predictVolume(model, data, shape, { maxTileBytes });
  expect(labelsOnly.scores).toBeUndefined();
  expect(labelsOnly.labels).toEqual(tiled.labels);
  // A budget every layer fits runs each as one pass on the device, as forward() does.
  const untiled = await predictVolume(model, data, shape, { maxTileBytes: 2 ** 30, scores: true });
  expect(untiled.scores).toEqual(whole.scores);
  expect(Array.from(untiled.labels)).toEqual(Array.from(whole.labels));
  return tiled.labels.length;
}

describe('predictVolume', () => {
  it("brainchop's model5_gw_ae (dilations up to 16) over a volume in tiles of a few rows equals one pass", async () => {
    const model = await loadTfjsModel(join(import.meta.dirname, '../fixtures/brainchop/model5_gw_ae/model.json'));
    // A one-plane tile of a dilation-16 layer reads 33 × 33 input rows of 5 channels (500 kB): 600 kB allows a few rows of H.
    expect(await expectTiledEqualsOnePass(model, [21, 18, 23], 600_000, 1)).toBe(21 * 18 * 23);
    // 1.2 MB: the dilation-16 layers in two D-slabs of 20 and 1 planes, more than their halo of 16.
    await expectTiledEqualsOnePass(model, [21, 18, 23], 1_200_000, 2);
    model.dispose();
  });

  it('equals one pass with *_gn instance normalisations, even kernels and valid convs (which shrink the volume)', async () => {
    const input = tf.input({ shape: [9, 11, 10, 2] });
    const layers = [
      tf.layers.conv3d({ name: 'a_gn', filters: 3, kernelSize: 3, dilationRate: [2, 1, 3], padding: 'same' }),
      tf.layers.activation({ name: 'g', activation: 'gelu' }),
      tf.layers.conv3d({ name: 'even', filters: 3, kernelSize: [2, 4, 2], padding: 'same', activation: 'elu' }),
      tf.layers.conv3d({ name: 'valid', filters: 3, kernelSize: [3, 2, 3], padding: 'valid', activation: 'relu' }),
      tf.layers.conv3d({ name: 'output', filters: 4, kernelSize: 1, padding: 'same', activation: 'softmax' }),
    ];
    let h = input;
    for (const l of layers) h = l.apply(h) as tf.SymbolicTensor;
    const reference = tf.model({ inputs: input, outputs: h });
    seedWeights(reference, 2);
    const { json, weights } = await saveToMemory(reference);
    const model = importTfjsModel(json, weights);
    expect(await expectTiledEqualsOnePass(model, [9, 11, 10], 8_000, 3)).toBe(7 * 10 * 8);
    model.dispose();
  });

  it('autotunes every layer at its tile shape first when asked, and still equals one pass', async () => {
    const model = await loadTfjsModel(join(import.meta.dirname, '../fixtures/brainchop/model5_gw_ae/model.json'));
    const shape = [12, 14, 13];
    const data = Float32Array.from(
      randomArray(
        shape.reduce((a, b) => a * b),
        5,
        0,
        1,
      ),
    );
    const whole = await onePass(model, data, shape);
    const lines: string[] = [];
    const tuned = await predictVolume(model, data, shape, {
      maxTileBytes: 300_000,
      scores: true,
      tune: { budgetSeconds: Infinity, log: (line) => lines.push(line) },
    });
    expect(lines.length).toBeGreaterThan(0);
    expect(maxRelError(tuned.scores!, whole.scores)).toBeLessThan(1e-5);
    model.dispose();
  });

  it('says which layer cannot fit its smallest tile', async () => {
    const model = await loadTfjsModel(join(import.meta.dirname, '../fixtures/brainchop/model5_gw_ae/model.json'));
    await expect(predictVolume(model, new Float32Array(8 * 8 * 8), [8, 8, 8], { maxTileBytes: 1000 })).rejects.toThrow(
      'predictVolume: layer "23" needs 4000 bytes for a one-voxel-high tile, more than maxTileBytes (1000)',
    );
    model.dispose();
  });
});
