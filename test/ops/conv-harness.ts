// The conv tests' names for the one gradient-check harness (test/helpers/gradcheck.ts).
export { conv3dUnderTest, convTranspose3dUnderTest, forwardError, gradErrors, referenceGradErrors, type ConvUnderTest } from '../helpers/gradcheck.js';
