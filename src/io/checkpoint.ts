// Checkpoints: model weights (under their dotted names), optimizer state (under `optimizer.`),
// the iteration and the model's configuration, in one safetensors file.
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Tensor } from '../core/tensor.js';
import { decodeSafetensors, encodeSafetensors, type NamedArray } from './safetensors.js';

const optimizerPrefix = 'optimizer.';

export interface CheckpointInfo {
  iteration: number;
  /** The model configuration saved with it (VNet's `config`), if any. */
  config?: Record<string, unknown>;
  metadata: Record<string, string>;
}

export interface SaveOptions {
  optimizer?: Optimizer;
  iteration?: number;
  config?: object;
  /** Extra string metadata stored in the header. */
  metadata?: Record<string, string>;
}

async function host(tensors: ReadonlyMap<string, Tensor>, prefix = ''): Promise<Map<string, NamedArray>> {
  const out = new Map<string, NamedArray>();
  for (const [name, t] of tensors) out.set(prefix + name, { shape: t.shape, data: await t.toArray() });
  return out;
}

/** Serialises model (+ optimizer) to safetensors bytes (works in the browser too). */
export async function checkpointBytes(model: Module, options: SaveOptions = {}): Promise<Uint8Array> {
  const tensors = await host(model.stateDict());
  const metadata: Record<string, string> = {
    format: 'voxgpu-checkpoint-1',
    iteration: String(options.iteration ?? 0),
    ...options.metadata,
  };
  if (options.config) metadata.config = JSON.stringify(options.config);
  if (options.optimizer) {
    const s = options.optimizer.stateDict();
    for (const [k, v] of await host(s.tensors, optimizerPrefix)) tensors.set(k, v);
    metadata.optimizer = JSON.stringify({ type: options.optimizer.kind, stepCount: s.stepCount, lr: s.lr });
  }
  return encodeSafetensors(tensors, metadata);
}

/** Reads only the header information (iteration, config) of checkpoint bytes. */
export function checkpointInfo(bytes: Uint8Array, source = '<buffer>'): CheckpointInfo {
  const { metadata } = decodeSafetensors(bytes, source);
  return { iteration: Number(metadata.iteration ?? 0), config: metadata.config ? JSON.parse(metadata.config) : undefined, metadata };
}

/**
 * Restores model weights (and optimizer state when given and present) from checkpoint bytes.
 * Missing or mis-shaped tensors fail with their names, before anything is changed.
 */
export function loadCheckpointBytes(bytes: Uint8Array, model: Module, optimizer?: Optimizer, source = '<buffer>'): CheckpointInfo {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  const weights = new Map([...tensors].filter(([k]) => !k.startsWith(optimizerPrefix)));
  try {
    model.loadStateDict(weights);
  } catch (e) {
    throw new Error(`checkpoint ${source}: ${(e as Error).message}`);
  }
  if (optimizer) {
    if (!metadata.optimizer) throw new Error(`checkpoint ${source}: holds no optimizer state`);
    const o = JSON.parse(metadata.optimizer) as { type: string; stepCount: number; lr: number };
    if (o.type !== optimizer.kind) throw new Error(`checkpoint ${source}: optimizer state is for ${o.type}, not ${optimizer.kind}`);
    const state = new Map(
      [...tensors].filter(([k]) => k.startsWith(optimizerPrefix)).map(([k, v]) => [k.slice(optimizerPrefix.length), v]),
    );
    optimizer.loadStateDict({ tensors: state, stepCount: o.stepCount, lr: o.lr });
  }
  return checkpointInfo(bytes, source);
}
