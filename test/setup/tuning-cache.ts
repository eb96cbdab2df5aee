// No test reads or writes the user's tuning cache (~/.cache/voxgpu): each test file, and every CLI
// it starts, gets an empty one of its own in a temp directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'voxgpu-tuning-'));
process.env.VOXGPU_TUNING_CACHE = join(dir, 'tuning.json');

afterAll(() => rmSync(dir, { recursive: true, force: true }));
