// brainchop's colormap*.json, as the CLI's loader and the browser demo both read it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultLabelNames, parseBrainchopColormap } from '../../src/models/brainchop-colormap.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/brainchop/model5_gw_ae/colormap3.json', import.meta.url), 'utf8')) as unknown;

describe('parseBrainchopColormap', () => {
  it("reads model5_gw_ae's colormap3.json for its 3 classes", () => {
    expect(parseBrainchopColormap(fixture, 3)).toEqual({
      R: [0, 255, 205],
      G: [0, 255, 62],
      B: [0, 255, 78],
      labels: ['background', 'White Matter', 'Grey Matter'],
    });
  });

  it('refuses a colormap without exactly one finite colour per class', () => {
    expect(parseBrainchopColormap(fixture, 2)).toBeUndefined();
    expect(parseBrainchopColormap({ R: [0, 1], G: [0, Number.NaN], B: [0, 1] }, 2)).toBeUndefined();
    expect(parseBrainchopColormap({ R: [0, 1], G: [0, 1] }, 2)).toBeUndefined();
    expect(parseBrainchopColormap(null, 2)).toBeUndefined();
  });

  it('clamps channels to 0–255 and names the classes itself when the labels do not fit', () => {
    expect(parseBrainchopColormap({ R: [-4, 300], G: [0, 12.5], B: [0, 255], labels: ['only one'] }, 2)).toEqual({
      R: [0, 255],
      G: [0, 12.5],
      B: [0, 255],
      labels: ['background', 'foreground'],
    });
    expect(defaultLabelNames(3)).toEqual(['background', 'label 1', 'label 2']);
  });
});
