// A trained V-Net from its checkpoint, for the commands that run one (`segment`, `export`).
import { init } from '../init.js';
import { loadCheckpoint, readCheckpointInfo } from '../io/checkpoint-node.js';
import { VNet, type VNetOptions } from '../nn/vnet.js';

/** Builds the V-Net the checkpoint's config describes (on the device, initialised here) and loads its weights. */
export async function loadVNetCheckpoint(path: string): Promise<VNet> {
  const info = await readCheckpointInfo(path);
  if (!info.config) throw new Error(`${path} holds no model configuration; save checkpoints with { config: model.config }`);
  await init();
  const model = new VNet(info.config as VNetOptions);
  await loadCheckpoint(path, model);
  return model;
}
