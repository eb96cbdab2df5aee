// An imported graph as a Segmenter for segment() and segmentVolume(): class probabilities (the
// graph's logits through a channel softmax, whether or not the file ends in one) and the sizes a
// window may take.
import { Module } from '../../nn/module.js';
import type { Segmenter } from '../../nn/segment.js';
import { softmax } from '../../ops/softmax.js';
import type { Tensor } from '../../core/tensor.js';
import type { OnnxModule } from './graph-module.js';

export interface OnnxSegmenterOptions {
  /**
   * Spatial sizes must be multiples of this when the graph leaves them free: 2^(number of stride-2
   * levels); default 16. A graph with fixed spatial sizes takes windows of exactly those sizes.
   */
  sizeMultiple?: number;
}

class OnnxSegmenter extends Module implements Segmenter {
  readonly config: { inChannels: number; numClasses: number };
  readonly sizeMultiple: number;
  /** The graph's fixed spatial input sizes [D, H, W], or null when any is free. */
  readonly window: [number, number, number] | null;
  constructor(
    private readonly graph: OnnxModule,
    options: OnnxSegmenterOptions,
  ) {
    super();
    this.addModule('graph', graph);
    const input = graph.inputs[0]?.shape ?? [];
    const inChannels = input[1];
    const numClasses = graph.outputShapes[0]?.[1];
    if (graph.inputs.length !== 1 || input.length !== 5 || typeof inChannels !== 'number' || typeof numClasses !== 'number') {
      throw new Error(
        `onnxSegmenter: the graph must take one input [N, C, D, H, W] and give [N, classes, D, H, W] with C and classes fixed; ` +
          `it takes ${graph.inputs.length} input(s), the first [${input.map((d) => d ?? '?').join(', ')}], and gives ` +
          `[${(graph.outputShapes[0] ?? []).map((d) => d ?? '?').join(', ')}]`,
      );
    }
    this.config = { inChannels, numClasses };
    const spatial = input.slice(2);
    this.window = spatial.every((d): d is number => typeof d === 'number') ? [spatial[0]!, spatial[1]!, spatial[2]!] : null;
    this.sizeMultiple = this.window ? 1 : (options.sizeMultiple ?? 16);
    this.training = graph.training;
  }
  forward(x: Tensor): Tensor {
    return softmax(this.graph.logits(x), 1);
  }
}

/** The imported graph as a Segmenter (it shares the graph's weights). */
export function onnxSegmenter(
  graph: OnnxModule,
  options: OnnxSegmenterOptions = {},
): Segmenter & { readonly window: [number, number, number] | null } {
  return new OnnxSegmenter(graph, options);
}
