// An imported ONNX graph as the network of sliding-window segmentation (segment, segmentVolume): a
// graph exported with fixed spatial sizes runs on windows of exactly those sizes; one with free sizes
// on windows of the whole (resampled) volume rounded up to `sizeMultiple`. The scores become
// probabilities by a softmax over the channels (the graph's own final Softmax is not applied twice).
import { softmax } from '../../ops/softmax.js';
import type { SegmentModel } from '../../nn/segment.js';
import type { Tensor } from '../../tensor.js';
import { declaredShape, type OnnxModule } from './graph-module.js';

export interface OnnxSegmentModel extends SegmentModel {
  /** The window [D, H, W] the graph takes, when its file fixes the spatial sizes; pass it as segment()'s window. */
  readonly window?: [number, number, number];
}

/** The default size multiple of a graph with free spatial sizes: four stride-2 levels, as U-Nets and V-Nets have. */
export const FREE_SIZE_MULTIPLE = 16;

export function onnxSegmentModel(module: OnnxModule, options: { sizeMultiple?: number } = {}): OnnxSegmentModel {
  const input = module.inputs[0];
  if (module.inputs.length !== 1 || input!.shape.length !== 5) {
    const got = module.inputs.map((i) => `${i.name} [${i.shape.map((d) => d ?? '?').join(', ')}]`).join(', ');
    throw new Error(`onnxSegmentModel: segmentation takes a graph with one input [N, C, D, H, W], got ${got}`);
  }
  const inChannels = input!.shape[1];
  const output = module.model.graph!.output[0];
  const outShape = output ? declaredShape(output) : undefined;
  const numClasses = outShape?.[1];
  if (inChannels == null || numClasses == null)
    throw new Error(
      `onnxSegmentModel: the graph must fix its input and output channels, got input [${input!.shape.map((d) => d ?? '?').join(', ')}] and output [${(outShape ?? []).map((d) => d ?? '?').join(', ')}]`,
    );
  if (numClasses < 2) throw new Error(`onnxSegmentModel: the graph's output has ${numClasses} channel; segmentation needs one score per class (at least 2)`);
  const spatial = input!.shape.slice(2);
  const window = spatial.every((d) => d !== null) ? (spatial as [number, number, number]) : undefined;
  return {
    config: { inChannels, numClasses },
    sizeMultiple: window ? 1 : (options.sizeMultiple ?? FREE_SIZE_MULTIPLE),
    window,
    get training() {
      return module.training;
    },
    train: (mode?: boolean) => module.train(mode),
    eval: () => module.eval(),
    // Intermediates are freed by the caller's tidy(), as segment() runs every window.
    forward: (x: Tensor) => softmax(module.logits(x), 1),
  };
}
