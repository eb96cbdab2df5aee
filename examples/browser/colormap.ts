// Label colours and names for the overlay. brainchop ships them beside each model as colormap.json:
// { "R": [...], "G": [...], "B": [...], "labels": [...] }, one entry per class, class 0 the background
// (never drawn). Without one, class 1 is the demo's red and the others get well-separated hues.

export type Rgb = readonly [number, number, number];

export interface Colormap {
  colours: Rgb[];
  names: string[];
  /** The file the colours came from, or null for the default palette. */
  source: string | null;
}

export interface ColormapJson {
  R?: unknown;
  G?: unknown;
  B?: unknown;
  labels?: unknown;
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
  const names = Array.from({ length: classes }, (_, k) => (k === 0 ? 'background' : classes === 2 ? 'foreground' : `label ${k}`));
  return { colours, names, source: null };
}

function channel(v: unknown, classes: number): number[] | null {
  return Array.isArray(v) && v.length === classes && v.every((x) => Number.isFinite(x)) ? v.map((x) => Math.max(0, Math.min(255, Number(x)))) : null;
}

/** The first colormap with exactly one colour per class (brainchop's model5_gw_ae has two: for 2 and for 3 classes), else the default. */
export function colormapFor(classes: number, files: readonly { name: string; json: ColormapJson }[]): Colormap {
  for (const { name, json } of files) {
    const [r, g, b] = [json.R, json.G, json.B].map((c) => channel(c, classes));
    if (!r || !g || !b) continue;
    const labels = Array.isArray(json.labels) && json.labels.length === classes ? json.labels.map(String) : defaultColormap(classes).names;
    return { colours: r.map((_, k): Rgb => [r[k]!, g[k]!, b[k]!]), names: labels, source: name };
  }
  return defaultColormap(classes);
}
