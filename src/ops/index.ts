// Every op, one file each. Importing this module also installs Tensor.backward().
export { add, sub, mul, div, greater, broadcastShapes } from './binary.js';
export { addScalar, mulScalar, neg, exp, log, sqrt, abs, relu } from './map.js';
export { sum, mean, sumTo } from './reduce.js';
export { expand } from './expand.js';
export { concat, narrow } from './concat.js';
export { reshape, view } from './reshape.js';
export { full, zeros, ones, randn, rand, manualSeed } from './creation.js';
export { backward } from './backward.js';
