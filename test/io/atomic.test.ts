import { describe, it, expect } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/io/atomic.js';
import { tempDir } from '../helpers/volumes.js';

describe('writeFileAtomic', () => {
  it('creates and replaces files, leaving no temporary behind', async () => {
    const dir = tempDir();
    const path = join(dir, 'model.bin');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    await writeFileAtomic(path, 'text');
    expect(readFileSync(path, 'utf8')).toBe('text');
    expect(readdirSync(dir)).toEqual(['model.bin']);
  });

  it('fails without touching the target and removes its temporary', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'taken')); // rename onto a non-empty directory fails
    writeFileSync(join(dir, 'taken', 'inside'), 'x');
    await expect(writeFileAtomic(join(dir, 'taken'), 'data')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['taken']);
    await expect(writeFileAtomic(join(dir, 'no-such-dir', 'f'), 'data')).rejects.toThrow(/ENOENT/);
  });
});
