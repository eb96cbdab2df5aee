// Node-only: the tuner's cache as a JSON file, by default in the user's cache directory, so a
// machine measures each (adapter, op, shape class) once, not once per process.
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import type { TunerStorage } from './tuner.js';

/** VOXGPU_TUNING_CACHE, else $XDG_CACHE_HOME/voxgpu/tuning.json, else ~/.cache/voxgpu/tuning.json. */
export function defaultTuningCachePath(env: Record<string, string | undefined> = process.env): string {
  if (env.VOXGPU_TUNING_CACHE) return env.VOXGPU_TUNING_CACHE;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'voxgpu', 'tuning.json');
}

/** A JSON file; missing means "nothing saved yet". Writes are atomic, so a crash leaves the old cache. */
export function fileStorage(path: string = defaultTuningCachePath()): TunerStorage {
  return {
    async load() {
      try {
        return await readFile(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    },
    async save(text: string) {
      await mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, text);
    },
  };
}
