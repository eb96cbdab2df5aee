/** Argument parsers and output helpers shared by the subcommands. */
import { InvalidArgumentError } from 'commander';
import type { Vec3 } from '../image/volume.js';

/** "1,1,1.5" or "1x1x1.5" → [1, 1, 1.5]; positive numbers only. */
export function parseVec3(text: string): Vec3 {
  const values = text.split(/[,x]/).map((t) => Number(t.trim()));
  if (values.length !== 3 || !values.every((v) => Number.isFinite(v) && v > 0)) {
    throw new InvalidArgumentError(`expected three positive numbers like 1,1,1.5, got "${text}"`);
  }
  return values as Vec3;
}

export function parseNonNegativeInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new InvalidArgumentError(`expected a non-negative integer, got "${text}"`);
  return value;
}

/** JSON for machines: Infinity (an empty mask's distances) is written as the string "Infinity". */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2);
}

/** Short, stable number formatting for tables. */
export function formatNumber(value: number, digits = 4): string {
  if (!Number.isFinite(value)) return String(value);
  return Number.isInteger(value) ? String(value) : value.toFixed(digits).replace(/0+$/, '').replace(/\.$/, '');
}

export function printTable(rows: [string, string][]): void {
  const width = Math.max(...rows.map(([label]) => label.length));
  process.stdout.write(`${rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n')}\n`);
}
