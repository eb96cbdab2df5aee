// AveragePool in every 3-D form against ONNX Runtime: overlapping windows, symmetric and asymmetric
// pads, auto_pad, count_include_pad 0 and 1, ceil_mode 0 and 1 (the last window dropped where it would
// start in the end pad); the backward by the adjoint identity against ONNX Runtime's forward. MaxPool
// over the same padded and ceil_mode windows.
import { beforeAll, describe, it } from 'vitest';
import type { AttributeValue } from '../../../src/models/onnx/builder.js';
import { gpu } from '../../helpers.js';
import { expectMatchesOrt, type OrtCase } from './helpers.js';

beforeAll(gpu);

const X = [1, 2, 6, 7, 5];

const forms: [string, Record<string, AttributeValue>][] = [
  ['non-overlapping 2×3×1 blocks', { kernel_shape: { ints: [2, 3, 1] }, strides: { ints: [2, 3, 1] } }],
  ['k3 stride 1 (overlapping)', { kernel_shape: { ints: [3, 3, 3] } }],
  ['k3 s2 pads 1', { kernel_shape: { ints: [3, 3, 3] }, strides: { ints: [2, 2, 2] }, pads: { ints: [1, 1, 1, 1, 1, 1] } }],
  [
    'k3×2×3 s2×1×2 asymmetric pads',
    { kernel_shape: { ints: [3, 2, 3] }, strides: { ints: [2, 1, 2] }, pads: { ints: [0, 1, 2, 1, 0, 1] } },
  ],
  [
    'k2 s2 end pads 1 (a last window in the pad)',
    { kernel_shape: { ints: [2, 2, 2] }, strides: { ints: [2, 2, 2] }, pads: { ints: [0, 0, 0, 1, 1, 1] } },
  ],
  ['k3 s2 SAME_UPPER', { kernel_shape: { ints: [3, 3, 3] }, strides: { ints: [2, 2, 2] }, auto_pad: { string: 'SAME_UPPER' } }],
  ['k2×4×2 s2 SAME_LOWER', { kernel_shape: { ints: [2, 4, 2] }, strides: { ints: [2, 2, 2] }, auto_pad: { string: 'SAME_LOWER' } }],
  ['k2×3×2 s2×2×1 VALID', { kernel_shape: { ints: [2, 3, 2] }, strides: { ints: [2, 2, 1] }, auto_pad: { string: 'VALID' } }],
];

const cases: OrtCase[] = forms.flatMap(([name, attributes]) =>
  [0, 1].flatMap((includePad) =>
    [0, 1].map((ceil) => ({
      name: `${name}, count_include_pad ${includePad}, ceil_mode ${ceil}`,
      linear: true,
      build: (b) => b.node('AveragePool', ['x'], { ...attributes, count_include_pad: { int: includePad }, ceil_mode: { int: ceil } }),
    })),
  ),
);

describe('AveragePool against ONNX Runtime', () => {
  it.each(cases)('$name', (c) => expectMatchesOrt(c, X));
});

// MaxPool's windows (ceil_mode, asymmetric pads, auto_pad) are the same; what its pads hold is −∞.
const maxForms = forms.filter(([name]) => !name.startsWith('non-overlapping') && !name.startsWith('k3 stride 1'));
const maxCases: OrtCase[] = maxForms.flatMap(([name, attributes]) =>
  [0, 1].map((ceil) => ({
    name: `${name}, ceil_mode ${ceil}`,
    build: (b) => b.node('MaxPool', ['x'], { ...attributes, ceil_mode: { int: ceil } }),
  })),
);

describe('MaxPool against ONNX Runtime', () => {
  it.each(maxCases)('$name', (c) => expectMatchesOrt(c, X));
});
