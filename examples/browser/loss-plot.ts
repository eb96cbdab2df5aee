// The training loss as a line on a canvas, redrawn after every iteration. The Dice loss lies in
// [0, 1], so the y axis is fixed there (growing only if a loss exceeds 1) and curves stay comparable.
export const lossLineColour = '#2f6fdf';

export function drawLossPlot(canvas: HTMLCanvasElement, losses: readonly number[]): void {
  const ctx = canvas.getContext('2d')!;
  const { width, height } = canvas;
  const pad = { left: 34, right: 8, top: 8, bottom: 20 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  const top = Math.max(1, ...losses.filter(Number.isFinite));
  const x = (i: number) => pad.left + (losses.length <= 1 ? plotW / 2 : (i / (losses.length - 1)) * plotW);
  const y = (v: number) => pad.top + plotH * (1 - v / top);

  ctx.strokeStyle = '#ccc';
  ctx.fillStyle = '#555';
  ctx.font = '11px sans-serif';
  ctx.lineWidth = 1;
  for (const v of [0, top / 2, top]) {
    ctx.beginPath();
    ctx.moveTo(pad.left, y(v));
    ctx.lineTo(width - pad.right, y(v));
    ctx.stroke();
    ctx.fillText(v.toFixed(1), 4, y(v) + 4);
  }
  ctx.fillText(losses.length ? `iteration ${losses.length}` : 'no training yet', pad.left, height - 5);
  if (losses.length === 0) return;

  ctx.strokeStyle = lossLineColour;
  ctx.fillStyle = lossLineColour;
  ctx.lineWidth = 2;
  ctx.beginPath();
  losses.forEach((v, i) => (i === 0 ? ctx.moveTo(x(i), y(v)) : ctx.lineTo(x(i), y(v))));
  ctx.stroke();
  // A dot on the latest value, so a single iteration is visible too.
  ctx.beginPath();
  ctx.arc(x(losses.length - 1), y(losses[losses.length - 1]!), 3, 0, 2 * Math.PI);
  ctx.fill();
}
