// The phases of a transposed pass (src/ops/conv/phases.ts) with plain numbers: which taps reach
// which output voxels, and the stride-1 forward conv each phase is.
import { expect, it } from 'vitest';
import { forwardPhase, transposedPhases } from '../../src/ops/conv/phases.js';
import type { ConvGeometry } from '../../src/ops/conv/shape.js';

const geometry = (kernel: number, stride: number, padding: number, dilation = 1): ConvGeometry => ({
  kernel: [kernel, 1, 1],
  stride: [stride, 1, 1],
  padding: [padding, 0, 0],
  dilation: [dilation, 1, 1],
});

/** The first axis of each phase: origin, voxels, taps, first tap, step, dilation, padding. */
const axis0 = (g: ConvGeometry, out: number) =>
  transposedPhases(g, [out, 1, 1]).map((p) => [
    p.origin[0],
    p.outSpatial[0],
    p.reached ? p.geometry.kernel[0] : 0,
    p.tapFirst[0],
    p.tapStep[0],
    p.geometry.dilation[0],
    p.geometry.padding[0],
  ]);

it('stride 1: one phase, the whole kernel flipped, padding dilation·(k − 1) − padding', () => {
  expect(axis0(geometry(3, 1, 1), 7)).toEqual([[0, 7, 3, 2, -1, 1, 1]]);
  expect(axis0(geometry(3, 1, 0, 2), 9)).toEqual([[0, 9, 3, 2, -1, 2, 4]]);
});

it('kernel 2, stride 2 (V-Net’s up-convolution): each phase one tap, in place', () => {
  expect(axis0(geometry(2, 2, 0), 8)).toEqual([
    [0, 4, 1, 0, -1, 1, 0],
    [1, 4, 1, 1, -1, 1, 0],
  ]);
  const all = transposedPhases({ kernel: [2, 2, 2], stride: [2, 2, 2], padding: [0, 0, 0], dilation: [1, 1, 1] }, [4, 6, 8]);
  expect(all.map((p) => p.origin.join(''))).toEqual(['000', '001', '010', '011', '100', '101', '110', '111']);
  expect(all.every((p) => p.geometry.kernel.join() === '1,1,1' && p.outSpatial.join() === '2,3,4')).toBe(true);
});

it('kernel 3, stride 2, padding 1: the even voxels meet tap 1, the odd taps 2 and 0 (one source voxel apart)', () => {
  // Output i = 2q meets o = q through tap 1; i = 2q + 1 meets o = q + 1 through tap 0 and o = q through tap 2.
  expect(axis0(geometry(3, 2, 1), 7)).toEqual([
    [0, 4, 1, 1, -1, 1, 0],
    [1, 3, 2, 2, -2, 1, 0],
  ]);
});

it('dilation sharing a factor with the stride: a phase no tap reaches; fewer phases than the stride where the output is short', () => {
  expect(axis0(geometry(3, 2, 0, 2), 8)).toEqual([
    [0, 4, 3, 2, -1, 1, 2],
    [1, 4, 0, 0, 1, 1, 0],
  ]);
  expect(axis0(geometry(2, 3, 0), 2)).toEqual([
    [0, 1, 1, 0, -1, 1, 0],
    [1, 1, 1, 1, -1, 1, 0],
  ]);
});

it('the forward pass is its own single phase', () => {
  const g = geometry(3, 2, 1);
  expect(forwardPhase(g, [4, 1, 1])).toEqual({
    geometry: g,
    outSpatial: [4, 1, 1],
    origin: [0, 0, 0],
    tapFirst: [0, 0, 0],
    tapStep: [1, 1, 1],
    reached: true,
  });
});
