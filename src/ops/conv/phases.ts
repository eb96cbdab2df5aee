// A transposed conv pass (conv3d's input gradient, convTranspose3d's forward) as forward convs of
// stride 1, one per output phase, so a GEMM built for forward convs runs it with no divisibility test
// per element: along an axis, output voxel i = q·s + r meets source voxel o through tap t where
// o·s − p + t·d = i, so only the taps with t·d ≡ r + p (mod s) reach phase r, every (s / gcd(s, d))-th
// tap, at o = q + (r + p − t·d) / s. Phase r is then a correlation over the source with those taps in
// reverse order (o grows as t falls), dilated by their spacing · d / s. Stride 1 is one phase: the
// whole kernel flipped, padding d·(k − 1) − p. The tensor-core family (tensor-core.ts) runs each phase
// as a forward GEMM whose rows land on every s-th output voxel.
import type { ConvGeometry, Triple } from './shape.js';

/** One phase: a stride-1 forward conv over the source, and where its outputs and weights are. */
export interface Phase {
  /** Stride 1; the phase's taps per axis as the kernel, their spacing as the dilation; padding may be negative. */
  geometry: ConvGeometry;
  /** The phase's output voxels per axis: output voxel q·stride + origin is its q. */
  outSpatial: Triple;
  origin: Triple;
  /** The kernel tap (per axis) of the phase's tap 0, and its step per phase tap (negative: the kernel reversed). */
  tapFirst: Triple;
  tapStep: Triple;
  /** False where no tap reaches the phase (a dilation sharing a factor with the stride): its outputs are the bias alone. */
  reached: boolean;
}

interface AxisPhase {
  origin: number;
  count: number;
  taps: number;
  first: number;
  step: number;
  dilation: number;
  padding: number;
}

/** The phases of one axis of kernel k, stride s, padding p, dilation d and output size `out` (fewer than s where out < s). */
function axisPhases(k: number, s: number, p: number, d: number, out: number): AxisPhase[] {
  const phases: AxisPhase[] = [];
  for (let r = 0; r < Math.min(s, out); r++) {
    const count = Math.ceil((out - r) / s);
    const reach = Array.from({ length: k }, (_, t) => t).filter((t) => (((r + p - t * d) % s) + s) % s === 0);
    if (reach.length === 0) {
      phases.push({ origin: r, count, taps: 0, first: 0, step: 1, dilation: 1, padding: 0 });
      continue;
    }
    const taps = reach.length;
    const spacing = taps > 1 ? reach[1]! - reach[0]! : 1;
    const dilation = taps > 1 ? (spacing * d) / s : 1;
    // o − q through the first tap that reaches; the phase's first tap is the last of these (reversed).
    const offset = (r + p - reach[0]! * d) / s;
    phases.push({ origin: r, count, taps, first: reach.at(-1)!, step: -spacing, dilation, padding: (taps - 1) * dilation - offset });
  }
  return phases;
}

const triple = (values: number[]): Triple => [values[0]!, values[1]!, values[2]!];

/** The phases of a transposed pass of geometry g with output size outSpatial: every combination of its axes' phases. */
export function transposedPhases(g: ConvGeometry, outSpatial: readonly number[]): Phase[] {
  const [d, h, w] = [0, 1, 2].map((i) => axisPhases(g.kernel[i]!, g.stride[i]!, g.padding[i]!, g.dilation[i]!, outSpatial[i]!));
  return d!.flatMap((a) =>
    h!.flatMap((b) =>
      w!.map((c): Phase => {
        const axes = [a, b, c];
        const reached = axes.every((x) => x.taps > 0);
        return {
          // A phase no tap reaches runs as one tap (its weights are packed as zeros).
          geometry: {
            kernel: triple(axes.map((x) => Math.max(1, x.taps))),
            stride: [1, 1, 1],
            padding: triple(axes.map((x) => x.padding)),
            dilation: triple(axes.map((x) => x.dilation)),
          },
          outSpatial: triple(axes.map((x) => x.count)),
          origin: triple(axes.map((x) => x.origin)),
          tapFirst: triple(axes.map((x) => x.first)),
          tapStep: triple(axes.map((x) => x.step)),
          reached,
        };
      }),
    ),
  );
}

/** The forward pass as its own single phase: the whole kernel in order, outputs in place. */
export function forwardPhase(g: ConvGeometry, outSpatial: readonly number[]): Phase {
  return { geometry: g, outSpatial: triple([...outSpatial]), origin: [0, 0, 0], tapFirst: [0, 0, 0], tapStep: [1, 1, 1], reached: true };
}
