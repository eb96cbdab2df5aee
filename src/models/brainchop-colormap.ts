// brainchop's colormap JSON, shipped beside a model as colormap.json, colormap3.json, …:
// { "R": [...], "G": [...], "B": [...], "labels": [...] }, one entry per class, class 0 the background.
// One parser for the CLI's loader (brainchop-node.ts) and the browser demo, so no Node imports here.

/** brainchop's colormap: one colour (channels in 0–255) and one label per class. */
export interface BrainchopColormap {
  R: number[];
  G: number[];
  B: number[];
  labels: string[];
}

/** Class names when a model has no labels of its own: background, then foreground or `label k`. */
export function defaultLabelNames(classes: number): string[] {
  return Array.from({ length: classes }, (_, k) => (k === 0 ? 'background' : classes === 2 ? 'foreground' : `label ${k}`));
}

function channel(v: unknown, classes: number): number[] | undefined {
  return Array.isArray(v) && v.length === classes && v.every((x) => Number.isFinite(x))
    ? v.map((x) => Math.max(0, Math.min(255, Number(x))))
    : undefined;
}

/**
 * The colormap in a parsed colormap*.json if it has exactly one finite colour per class (brainchop's
 * model5_gw_ae ships two: for 2 and for 3 classes), else undefined. Channels are clamped to 0–255;
 * labels that are not one per class give way to `defaultLabelNames`.
 */
export function parseBrainchopColormap(json: unknown, classes: number): BrainchopColormap | undefined {
  const { R, G, B, labels } = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const [r, g, b] = [R, G, B].map((c) => channel(c, classes));
  if (!r || !g || !b) return undefined;
  return { R: r, G: g, B: b, labels: Array.isArray(labels) && labels.length === classes ? labels.map(String) : defaultLabelNames(classes) };
}
