// The library surface the op cases use, identical in Node and in the page. The V-Net ops come from
// their own modules until src/index.ts exports them (then these imports are merely redundant).
import * as voxgpu from '../../src/index.js';
import { conv3d } from '../../src/ops/conv/conv3d.js';
import { convTranspose3d } from '../../src/ops/conv/conv-transpose3d.js';
import { diceLoss } from '../../src/ops/dice-loss.js';
import { prelu } from '../../src/ops/prelu.js';
import { logSoftmax, softmax } from '../../src/ops/softmax.js';

export const lib = { ...voxgpu, conv3d, convTranspose3d, diceLoss, prelu, softmax, logSoftmax };
export type Lib = typeof lib;
