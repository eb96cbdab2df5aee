// Every op, one file each.
export { add, sub, mul, div, greater, broadcastShapes } from './binary.js';
export { addScalar, mulScalar, neg, exp, log, sqrt, abs, relu } from './map.js';
export { sum, mean, sumTo } from './reduce.js';
export { expand } from './expand.js';
export { concat, narrow } from './concat.js';
export { reshape, view } from './reshape.js';
export { full, zeros, ones, randn, rand, manualSeed } from './creation.js';
export { backward } from '../tensor.js';
export { conv3d } from './conv/conv3d.js';
export { convTranspose3d } from './conv/conv-transpose3d.js';
export type { Conv3dOptions, ConvTranspose3dOptions, Size3 } from './conv/shape.js';
export { prelu } from './prelu.js';
export { addPrelu } from './add-prelu.js';
export { softmax, logSoftmax } from './softmax.js';
export { argmax } from './argmax.js';
export { diceLoss, type DiceLossOptions } from './dice-loss.js';
export { crossEntropy, type CrossEntropyOptions } from './cross-entropy.js';
export { checkLabels } from './labels.js';
