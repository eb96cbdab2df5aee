// Axial, coronal and sagittal slices of a scan with the labels filled in translucent colour (one
// colour per class, background clear), one slider per view. Each canvas holds the slice at one pixel per voxel; CSS scales it (pixelated)
// to the
// slice's physical aspect ratio, so anisotropic voxels do not squash the anatomy.
import { quantileOfSorted, sortedCopy } from '../../src/data/quantile.js';
import type { VoxelArray, Volume } from '../../src/image/volume.js';
import { defaultColormap, type Rgb } from './colormap.js';

const overlayAlpha = 0.5;
const displaySize = 260;

interface View {
  name: string;
  /** The voxel axis (0 = x, 1 = y, 2 = z) the slider moves along. */
  axis: 0 | 1 | 2;
  canvas: HTMLCanvasElement;
  slider: HTMLInputElement;
  label: HTMLElement;
}

/** For a view through `axis` at index k: rows and columns of the slice and the voxel at (r, c). */
function slicePlane(
  shape: readonly number[],
  axis: number,
  k: number,
): { rows: number; cols: number; rowAxis: number; colAxis: number; at: (r: number, c: number) => number } {
  const [nx, ny, nz] = shape as [number, number, number];
  const index = (i: number, j: number, l: number) => i + nx * (j + ny * l);
  // Axial: y down, x across. Coronal and sagittal: z up (the last slice at the top), like a viewer.
  if (axis === 2) return { rows: ny, cols: nx, rowAxis: 1, colAxis: 0, at: (r, c) => index(c, r, k) };
  if (axis === 1) return { rows: nz, cols: nx, rowAxis: 2, colAxis: 0, at: (r, c) => index(c, k, nz - 1 - r) };
  return { rows: nz, cols: ny, rowAxis: 2, colAxis: 1, at: (r, c) => index(k, c, nz - 1 - r) };
}

export class SliceViewer {
  private views: View[];
  private scan: Volume | null = null;
  private labels: VoxelArray | null = null;
  private colours: readonly Rgb[] = defaultColormap(2).colours;
  private low = 0;
  private high = 1;

  constructor(container: HTMLElement) {
    const specs = [
      { name: 'Axial', axis: 2 },
      { name: 'Coronal', axis: 1 },
      { name: 'Sagittal', axis: 0 },
    ] as const;
    this.views = specs.map(({ name, axis }) => {
      const figure = document.createElement('figure');
      figure.className = 'view';
      const canvas = document.createElement('canvas');
      canvas.dataset.view = name.toLowerCase();
      const slider = document.createElement('input');
      slider.type = 'range';
      slider.min = '0';
      slider.disabled = true;
      slider.setAttribute('aria-label', `${name} slice`);
      const label = document.createElement('figcaption');
      label.textContent = name;
      figure.append(canvas, slider, label);
      container.append(figure);
      const view: View = { name, axis, canvas, slider, label };
      slider.addEventListener('input', () => this.draw(view));
      return view;
    });
  }

  /** Shows a new scan (no labels), each view at its middle slice. */
  setScan(scan: Volume): void {
    this.scan = scan;
    this.labels = null;
    // Window the grey levels to the 1st–99th percentile: robust to a few very bright voxels.
    const sorted = sortedCopy(scan.data);
    this.low = quantileOfSorted(sorted, 0.01);
    this.high = Math.max(quantileOfSorted(sorted, 0.99), this.low + 1e-6);
    for (const v of this.views) {
      const n = scan.shape[v.axis];
      v.slider.max = String(n - 1);
      v.slider.value = String(Math.floor(n / 2));
      v.slider.disabled = false;
    }
    this.drawAll();
  }

  /** Overlays class indices on the scan's grid, class k in `colours[k]` (0, the background, is never drawn). */
  setLabels(labels: VoxelArray | null, colours: readonly Rgb[] = defaultColormap(2).colours): void {
    this.labels = labels;
    this.colours = colours;
    this.drawAll();
  }

  private drawAll(): void {
    for (const v of this.views) this.draw(v);
  }

  private draw(v: View): void {
    const scan = this.scan;
    if (!scan) return;
    const k = Number(v.slider.value);
    const plane = slicePlane(scan.shape, v.axis, k);
    const image = new ImageData(plane.cols, plane.rows);
    const scale = 255 / (this.high - this.low);
    for (let r = 0; r < plane.rows; r++)
      for (let c = 0; c < plane.cols; c++) {
        const i = plane.at(r, c);
        const g = Math.min(255, Math.max(0, (Number(scan.data[i]) - this.low) * scale));
        const label = this.labels ? Number(this.labels[i]) : 0;
        const [cr, cg, cb] = this.colours[label] ?? [g, g, g];
        const on = label > 0 ? overlayAlpha : 0;
        const p = 4 * (r * plane.cols + c);
        image.data[p] = g + on * (cr - g);
        image.data[p + 1] = g + on * (cg - g);
        image.data[p + 2] = g + on * (cb - g);
        image.data[p + 3] = 255;
      }
    v.canvas.width = plane.cols;
    v.canvas.height = plane.rows;
    v.canvas.getContext('2d')!.putImageData(image, 0, 0);
    const width = plane.cols * scan.spacing[plane.colAxis];
    const height = plane.rows * scan.spacing[plane.rowAxis];
    const fit = displaySize / Math.max(width, height);
    v.canvas.style.width = `${Math.round(width * fit)}px`;
    v.canvas.style.height = `${Math.round(height * fit)}px`;
    v.label.textContent = `${v.name} ${'xyz'[v.axis]} = ${k + 1} / ${scan.shape[v.axis]}`;
  }
}
