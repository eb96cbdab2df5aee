// Label colours and names for the overlay: from a brainchop colormap.json beside the model (parsed by
// src/models/brainchop-colormap.ts, as the CLI does; class 0 the background, never drawn), or without
// one, class 1 the demo's red and the others well-separated hues.
import { defaultLabelNames, parseBrainchopColormap } from '../../src/models/brainchop-colormap.js';

export type Rgb = readonly [number, number, number];

export interface Colormap {
  colours: Rgb[];
  names: string[];
  /** The file the colours came from, or null for the default palette. */
  source: string | null;
}

/** The overlay colour of a two-class model's foreground; the tests look for pixels where red clearly dominates. */
export const foregroundRgb: Rgb = [255, 48, 48];

/** Hues spaced by the golden angle from red, so neighbouring class indices never look alike. */
function hueColour(k: number): Rgb {
  const h = ((k - 1) * 137.508) % 360;
  const f = (n: number) => {
    const a = (n + h / 30) % 12;
    return Math.round(255 * (0.55 - 0.45 * Math.max(-1, Math.min(a - 3, 9 - a, 1))));
  };
  return [f(0), f(8), f(4)];
}

export function defaultColormap(classes: number): Colormap {
  const colours = Array.from({ length: classes }, (_, k): Rgb => (k === 1 ? foregroundRgb : hueColour(k)));
  return { colours, names: defaultLabelNames(classes), source: null };
}

/** The first parsed colormap file with exactly one colour per class, else the default. */
export function colormapFor(classes: number, files: readonly { name: string; json: unknown }[]): Colormap {
  for (const { name, json } of files) {
    const map = parseBrainchopColormap(json, classes);
    if (map) return { colours: map.R.map((r, k): Rgb => [r, map.G[k]!, map.B[k]!]), names: map.labels, source: name };
  }
  return defaultColormap(classes);
}
