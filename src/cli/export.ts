/**
 * `voxgpu export ckpt.safetensors --onnx model.onnx`: a trained V-Net checkpoint as an ONNX model for
 * ONNX Runtime, 3D Slicer or MONAI Deploy (softmax probabilities; the batch and, unless --size fixes
 * them, the spatial sizes free).
 */
import { Command } from 'commander';
import { writeFileAtomic } from '../io/atomic.js';
import { exportOnnx } from '../models/onnx/export.js';
import { parseVec3 } from './options.js';
import { checkOutputs } from './output-guard.js';
import { loadVNetCheckpoint } from './vnet-checkpoint.js';

interface ExportCliOptions {
  onnx: string;
  size?: [number, number, number];
  force?: boolean;
}

export function exportCommand(): Command {
  return new Command('export')
    .description('write a trained V-Net checkpoint as an ONNX model')
    .argument('<checkpoint>', 'checkpoint written by training (safetensors with the model config)')
    .requiredOption('--onnx <file>', 'ONNX model to write (opset 17)')
    .option('--size <x,y,z>', "fix the input size in voxels (multiples of the network's size multiple); default: free", parseVec3)
    .option('--force', 'replace an existing output file (never an input)')
    .action(async (checkpoint: string, o: ExportCliOptions) => {
      await checkOutputs([o.onnx], [checkpoint], o);
      const model = await loadVNetCheckpoint(checkpoint);
      const spatial = o.size ? [o.size[2], o.size[1], o.size[0]] : ['D', 'H', 'W'];
      await writeFileAtomic(o.onnx, await exportOnnx(model.eval(), ['N', model.config.inChannels, ...spatial]));
      process.stdout.write(
        `wrote ${o.onnx}: V-Net, input [N, ${model.config.inChannels}, ${spatial.join(', ')}], output softmax probabilities [N, ` +
          `${model.config.numClasses}, ...]\n`,
      );
    });
}
