// The constant expressions of a kernel (src/device/wgsl-const.ts), as WGSL evaluates them.
import { expect, it } from 'vitest';
import { evaluateExpression } from '../../src/device/wgsl-const.js';

const source = [
  'override A: u32 = 2u;',
  'const B = max(A * 3u, 4u) / 4u;  // a trailing comment',
  'const ON = true;',
  'override C: i32 = (7 - 10) % 2 - -1;',
].join('\n');

it('evaluates consts and overrides in terms of each other, overrides given or their defaults', () => {
  expect(evaluateExpression('k', source, 'select(10u, B + 1u, ON)')).toBe(2);
  expect(evaluateExpression('k', source, 'select(10u, B + 1u, ON)', { A: 8 })).toBe(7);
  expect(evaluateExpression('k', source, 'min(A, 9u) * (1u + 2u) - 7u / 2u')).toBe(3);
  // Integer division and remainder truncate toward zero, as in WGSL.
  expect(evaluateExpression('k', source, 'C')).toBe(0);
  expect(evaluateExpression('k', source, '528')).toBe(528);
});

it('names the kernel and the expression it cannot evaluate', () => {
  expect(() => evaluateExpression('k', source, 'D + 1u')).toThrow(
    "kernel k: cannot evaluate 'D + 1u': 'D' is no const or override with a value",
  );
  expect(() => evaluateExpression('k', source, 'pow(A, 2u)')).toThrow("kernel k: cannot evaluate 'pow(A, 2u)': unknown function 'pow'");
  expect(() => evaluateExpression('k', source, '(A + 1u')).toThrow("kernel k: cannot evaluate '(A + 1u': expected ')' in ( A + 1");
  expect(() => evaluateExpression('k', 'const X = X + 1u;', 'X')).toThrow("kernel k: cannot evaluate 'X': 'X' refers to itself");
});
