// Imported ONNX graphs segment volumes with sliding windows (onnxSegmenter + segment): the
// probabilities are the float64 softmax of PyTorch's scores (a graph's own final Softmax is not
// applied twice), a graph with free spatial sizes runs on a zero-padded window and equals ONNX
// Runtime on the whole volume, and a graph segmentation cannot use is refused.
import { beforeAll, describe, expect, it } from 'vitest';
import { importOnnx, onnxSegmenter, segment } from '../../../src/index.js';
import { GraphBuilder } from '../../../src/models/onnx/builder.js';
import { gpu, maxRelError, randomArray } from '../../helpers.js';
import { readFixture, runOrt } from './helpers.js';

beforeAll(gpu);

/** Softmax over the channels of [1, C, ...] scores, in float64. */
function softmaxChannels(scores: Float32Array, classes: number): Float64Array {
  const n = scores.length / classes;
  const out = new Float64Array(scores.length);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, scores[c * n + i]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(scores[c * n + i]! - max);
    for (let c = 0; c < classes; c++) out[c * n + i] = Math.exp(scores[c * n + i]! - max) / sum;
  }
  return out;
}

/** One 3×3×3 conv (2 classes) and a channel Softmax, every size but the channels free. */
function freeSizeGraph(opts: { inputs?: number } = {}): Uint8Array {
  const classes = 2;
  const b = new GraphBuilder(13);
  const w = b.weight('conv.weight', [classes, 1, 3, 3, 3], Float32Array.from(randomArray(classes * 27, 5, -0.5, 0.5)));
  const scores = b.node('Conv', ['x', w], { pads: { ints: [1, 1, 1, 1, 1, 1] } });
  b.node('Softmax', [scores], { axis: { int: 1 } }, 'probs');
  const inputs = [{ name: 'x', shape: ['N', 1, 'D', 'H', 'W'] }];
  if (opts.inputs === 2) inputs.push({ name: 'y', shape: ['N', 1, 'D', 'H', 'W'] });
  return b.toBytes(inputs, [{ name: 'probs', shape: ['N', classes, 'D', 'H', 'W'] }]);
}

describe('onnxSegmenter', () => {
  it.each([
    ['monai_unet', 'ends in an Add (scores)'],
    ['paper_vnet', 'ends in a Softmax'],
  ])("%s (%s): segment's probabilities are the softmax of PyTorch's scores within 1e-5", async (name) => {
    const f = readFixture(name);
    const module = importOnnx(f.bytes);
    const model = onnxSegmenter(module);
    expect(model.window).toEqual(f.input.shape.slice(2));
    const classes = f.output.shape[1]!;
    // The fixture's output is PyTorch's scores, or its probabilities when the graph ends in a Softmax.
    const expected = name === 'paper_vnet' ? f.output.data : softmaxChannels(f.output.data, classes);
    const result = await segment(model, f.input.data, f.input.shape.slice(2), { window: model.window! });
    module.dispose();
    expect(result.numClasses).toBe(classes);
    const error = maxRelError(result.probs, expected);
    console.log(`${name}: segment vs PyTorch, max error ${error.toExponential(2)}`);
    expect(error).toBeLessThan(1e-5);
  });

  it('runs a graph with free sizes on a zero-padded window, equal to ONNX Runtime on the whole volume', async () => {
    const bytes = freeSizeGraph();
    const module = importOnnx(bytes);
    const model = onnxSegmenter(module);
    expect(model.window).toBeNull();
    expect(model.sizeMultiple).toBe(16);
    const shape = [7, 10, 13];
    const data = Float32Array.from(randomArray(7 * 10 * 13, 9));
    const result = await segment(model, data, shape);
    module.dispose();
    const ort = await runOrt(bytes, { x: { shape: [1, 1, ...shape], data } });
    expect(maxRelError(result.probs, ort.data)).toBeLessThan(1e-5);
  });

  it('refuses a graph that does not take one volume', () => {
    const two = importOnnx(freeSizeGraph({ inputs: 2 }));
    expect(() => onnxSegmenter(two)).toThrow(
      'onnxSegmenter: the graph must take one input [N, C, D, H, W] and give [N, classes, D, H, W] with C and classes fixed; it ' +
        'takes 2 input(s), the first [?, 1, ?, ?, ?], and gives [?, 2, ?, ?, ?]',
    );
    two.dispose();
  });
});
