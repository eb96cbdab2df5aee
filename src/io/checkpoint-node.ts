// Node-only checkpoint files: written atomically (temp file + fsync + rename), so a crash while
// saving leaves the previous checkpoint intact.
import { readFile } from 'node:fs/promises';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { writeFileAtomic } from './atomic.js';
import { checkpointBytes, checkpointInfo, loadCheckpointBytes, type CheckpointInfo, type SaveOptions } from './checkpoint.js';

export async function saveCheckpoint(path: string, model: Module, options: SaveOptions = {}): Promise<void> {
  await writeFileAtomic(path, await checkpointBytes(model, options));
}

export async function loadCheckpoint(path: string, model: Module, optimizer?: Optimizer): Promise<CheckpointInfo> {
  return loadCheckpointBytes(await readFile(path), model, optimizer, path);
}

export async function readCheckpointInfo(path: string): Promise<CheckpointInfo> {
  return checkpointInfo(await readFile(path), path);
}
