// Resize on volumes against ONNX Runtime: every mode, coordinate_transformation_mode and nearest_mode
// it runs on 5-D data, by fractional, whole and shrinking scales and by sizes, at opsets 11 (with the
// roi input), 13 and 18 (with axes and keep_aspect_ratio_policy), the backward by the adjoint identity against ONNX Runtime's forward; the settings it does not run refused with the node, op type and opset.
import { beforeAll, describe, expect, it } from 'vitest';
import { importOnnx, noGrad, zeros } from '../../../src/index.js';
import { type AttributeValue, GraphBuilder } from '../../../src/models/onnx/builder.js';
import { gpu } from '../../helpers.js';
import { expectMatchesOrt, type OrtCase } from './helpers.js';

beforeAll(gpu);

const X = [1, 2, 3, 4, 5];

/** Resize of x by scales or sizes; before opset 13 the roi and scales inputs are required (empty when unused). */
function resizeNode(
  b: GraphBuilder,
  opset: number,
  by: { scales: number[] } | { sizes: number[] },
  attributes: Record<string, AttributeValue>,
) {
  const empty = (name: string) => (opset < 13 ? b.weight(name, [0], new Float32Array(0)) : '');
  const inputs =
    'scales' in by
      ? ['x', empty('roi'), b.weight('scales', [by.scales.length], Float32Array.from(by.scales))]
      : ['x', empty('roi'), empty('scales'), b.ints(by.sizes)];
  return b.node('Resize', inputs, attributes);
}

const resizes = [{ scales: [1, 1, 1.5, 0.5, 2] }, { scales: [1, 1, 3, 1.25, 0.6] }, { sizes: [1, 2, 7, 3, 8] }];

const settings: Record<string, { string: string }>[] = [];
for (const transform of ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn']) {
  for (const rounding of ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'])
    settings.push({
      mode: { string: 'nearest' },
      coordinate_transformation_mode: { string: transform },
      nearest_mode: { string: rounding },
    });
  if (transform !== 'tf_half_pixel_for_nn')
    settings.push({ mode: { string: 'linear' }, coordinate_transformation_mode: { string: transform } });
}

const cases: OrtCase[] = settings.flatMap((attributes, k) =>
  resizes.map((by, j) => {
    // tf_half_pixel_for_nn exists up to opset 12; the others rotate through 11, 13 and 18.
    const opset = attributes.coordinate_transformation_mode!.string === 'tf_half_pixel_for_nn' ? 11 : [11, 13, 18][(k + j) % 3]!;
    const what = Object.values(attributes).map((v) => v.string);
    return {
      name: `${what.join(' ')} by ${JSON.stringify(by)} (opset ${opset})`,
      opset,
      linear: true,
      build: (b: GraphBuilder) => resizeNode(b, opset, by, attributes),
    };
  }),
);

describe('Resize against ONNX Runtime', () => {
  it.each(cases)('$name', (c) => expectMatchesOrt(c, X));

  it('defaults (nearest, half_pixel, round_prefer_floor)', () =>
    expectMatchesOrt({ name: 'defaults', build: (b) => resizeNode(b, 13, { sizes: [1, 2, 5, 9, 2] }, {}) }, X));

  // Opset 18: scales or sizes for the listed axes only, and sizes that keep the aspect ratio.
  const linear = { mode: { string: 'linear' } };
  const opset18: [string, { scales: number[] } | { sizes: number[] }, Record<string, AttributeValue>][] = [
    ['linear, scales of axes [2, 3, 4]', { scales: [1.5, 0.5, 2] }, { ...linear, axes: { ints: [2, 3, 4] } }],
    ['nearest, sizes of axes [4, -3]', { sizes: [8, 7] }, { axes: { ints: [4, -3] } }],
    [
      'linear, sizes not_larger',
      { sizes: [7, 3, 8] },
      { ...linear, axes: { ints: [2, 3, 4] }, keep_aspect_ratio_policy: { string: 'not_larger' } },
    ],
    [
      'nearest, sizes not_smaller',
      { sizes: [4, 6, 8] },
      { axes: { ints: [2, 3, 4] }, keep_aspect_ratio_policy: { string: 'not_smaller' } },
    ],
  ];
  it.each(opset18)('%s (opset 18)', (name, by, attributes) =>
    expectMatchesOrt({ name, opset: 18, linear: true, build: (b) => resizeNode(b, 18, by, attributes) }, X),
  );
});

describe('Resize settings it does not run', () => {
  const refused = (
    attributes: Record<string, AttributeValue>,
    by: { scales: number[] } | { sizes: number[] } = resizes[0]!,
    opset = 13,
  ) => {
    const b = new GraphBuilder(opset);
    const out = resizeNode(b, opset, by, attributes);
    const model = importOnnx(b.toBytes([{ name: 'x', shape: X }], [{ name: out }]));
    return () => noGrad(() => model.forward(zeros(X)));
  };
  it('names the node, op type, opset and setting', () => {
    expect(refused({ mode: { string: 'cubic' } })).toThrow(
      "ONNX node 'Resize_0' (Resize, opset 13): mode 'cubic' is not supported (nearest and linear are)",
    );
    expect(refused({ coordinate_transformation_mode: { string: 'tf_crop_and_resize' } })).toThrow(
      "ONNX node 'Resize_0' (Resize, opset 13): coordinate_transformation_mode 'tf_crop_and_resize' is not supported (half_pixel, " +
        'pytorch_half_pixel, asymmetric, align_corners, tf_half_pixel_for_nn are)',
    );
    expect(refused({ antialias: { int: 1 }, mode: { string: 'linear' } }, resizes[0], 18)).toThrow(
      "ONNX node 'Resize_0' (Resize, opset 18): antialias '1' is not supported (only 0 is)",
    );
    expect(refused({}, { scales: [1, 2, 2, 2, 2] })).toThrow(
      "ONNX node 'Resize_0' (Resize, opset 13): scales [1, 2, 2, 2, 2] must have one value per axis (5) and keep N and C of x " +
        '[1, 2, 3, 4, 5]',
    );
    expect(refused({ axes: { ints: [2, 3] } }, { sizes: [1, 2, 4] }, 18)).toThrow(
      "ONNX node 'Resize_0' (Resize, opset 18): sizes [1, 2, 4] must have one value per axis (2) and keep N and C of x [1, 2, 3, 4, 5]",
    );
    expect(refused({}, { scales: [1, 1, 0.2, 1, 1] })).toThrow(
      "ONNX node 'Resize_0' (Resize, opset 13): scales [1, 1, 0.20000000298023224, 1, 1] leave no voxels of x [1, 2, 3, 4, 5]",
    );
  });
});
