// Three orthogonal slices through a volume's centre, side by side as an RGBA image, with the
// outline of a prediction (red) and of the ground truth (green): the figure a person checks first.
export interface SlicesImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

type Vec3 = readonly [number, number, number];

/** Slice k of axis a as a 2-D accessor (rows, cols) into [D, H, W] data. */
function sliceAccess(shape: Vec3, axis: number, k: number): { rows: number; cols: number; at: (r: number, c: number) => number } {
  const [D, H, W] = shape;
  if (axis === 0) return { rows: H, cols: W, at: (r, c) => (k * H + r) * W + c };
  if (axis === 1) return { rows: D, cols: W, at: (r, c) => (r * H + k) * W + c };
  return { rows: D, cols: H, at: (r, c) => (r * H + c) * W + k };
}

function isEdge(mask: Uint8Array, s: ReturnType<typeof sliceAccess>, r: number, c: number): boolean {
  if (!mask[s.at(r, c)]) return false;
  for (const [dr, dc] of [
    [1, 0],
    [-1, 0],
    [0, 1],
    [0, -1],
  ] as const) {
    const rr = r + dr;
    const cc = c + dc;
    if (rr < 0 || cc < 0 || rr >= s.rows || cc >= s.cols || !mask[s.at(rr, cc)]) return true;
  }
  return false;
}

/**
 * Renders axial (through D), coronal (through H) and sagittal (through W) centre slices of `image`
 * [D, H, W], scaled by `zoom`, with mask outlines. Intensities are windowed to the 1st–99th percentile.
 */
export function renderSlices(image: Float32Array, shape: Vec3, prediction: Uint8Array, truth: Uint8Array, zoom = 4): SlicesImage {
  const sorted = Float32Array.from(image).sort();
  const lo = sorted[Math.floor(sorted.length * 0.01)]!;
  const hi = sorted[Math.floor(sorted.length * 0.99)]! + 1e-6;
  const slices = [0, 1, 2].map((a) => sliceAccess(shape, a, Math.floor(shape[a]! / 2)));
  const gap = 4;
  const width = slices.reduce((a, s) => a + s.cols * zoom + gap, -gap);
  const height = Math.max(...slices.map((s) => s.rows * zoom));
  const rgba = new Uint8Array(width * height * 4);
  let x0 = 0;
  for (const s of slices) {
    for (let r = 0; r < s.rows; r++)
      for (let c = 0; c < s.cols; c++) {
        const i = s.at(r, c);
        const g = Math.round(255 * Math.min(1, Math.max(0, (image[i]! - lo) / (hi - lo))));
        const rgb = isEdge(prediction, s, r, c) ? [255, 40, 40] : isEdge(truth, s, r, c) ? [40, 255, 40] : [g, g, g];
        for (let dy = 0; dy < zoom; dy++)
          for (let dx = 0; dx < zoom; dx++) {
            const p = ((r * zoom + dy) * width + x0 + c * zoom + dx) * 4;
            rgba.set([...rgb, 255], p);
          }
      }
    x0 += s.cols * zoom + gap;
  }
  return { width, height, rgba };
}
