// loadOnnx(path): a .onnx file and the external-data files beside it (large models keep their
// weights outside the protobuf, which is limited to 2 GB).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { importOnnx } from './index.js';
import type { OnnxModule } from './graph-module.js';

export function loadOnnx(path: string): OnnxModule {
  const dir = dirname(path);
  const files = new Map<string, Uint8Array>();
  return importOnnx(readFileSync(path), {
    externalData: (location, offset, length) => {
      const file = resolve(dir, location);
      if (!file.startsWith(resolve(dir))) throw new Error(`loadOnnx: external data '${location}' is outside the model's folder`);
      let bytes = files.get(file);
      if (!bytes) files.set(file, (bytes = readFileSync(file)));
      const end = length === null ? bytes.length : offset + length;
      if (end > bytes.length)
        throw new Error(`loadOnnx: external data '${location}' has ${bytes.length} bytes, the model reads up to ${end}`);
      return bytes.subarray(offset, end);
    },
  });
}
