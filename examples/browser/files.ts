// Files in and out of the page: scans and models (checkpoints, TF.js model.json with its shards) from a
// file picker or a drop, the labels and the checkpoint back out as downloads. Everything goes through the library's byte-level readers.
import { decodeVolume, volumeFormatOf, type Volume } from '../../src/io/index.js';

export const scanAccept = '.nii,.nii.gz,.mha,.mhd,.raw,.zraw,.img';
/** A V-Net checkpoint, an ONNX graph, or a TF.js layers-model (model.json and its .bin shards); a colormap.json. */
export const modelAccept = '.safetensors,.onnx,.json,.bin';

export function isCheckpointName(name: string): boolean {
  return name.toLowerCase().endsWith('.safetensors');
}

export async function fileBytes(file: File): Promise<Uint8Array> {
  return new Uint8Array(await file.arrayBuffer());
}

/**
 * A scan from the chosen files: one .nii / .nii.gz / .mha, or an .mhd together with the data file its
 * header names (chosen or dropped at the same time).
 */
export async function readScan(files: readonly File[]): Promise<{ volume: Volume; name: string }> {
  const header = files.find((f) => volumeFormatOf(f.name));
  if (!header) {
    throw new Error(
      `none of ${files.map((f) => f.name).join(', ')} is a scan; choose a .nii, .nii.gz, .mha, or an .mhd with its data file`,
    );
  }
  const dataFiles: Record<string, Uint8Array> = {};
  for (const f of files) if (f !== header) dataFiles[f.name] = await fileBytes(f);
  try {
    return { volume: decodeVolume(await fileBytes(header), header.name, dataFiles), name: header.name };
  } catch (e) {
    const hint = volumeFormatOf(header.name) === 'mhd' ? ' (select the .mhd together with its data file)' : '';
    throw new Error(`${(e as Error).message}${hint}`);
  }
}

/** Offers bytes as a file download. */
export function download(bytes: Uint8Array, name: string, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // The click has started the download; the URL is not needed after this task.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** Calls `onFiles` with the files dropped anywhere on `target`, highlighting it while dragging. */
export function acceptDrops(target: HTMLElement, onFiles: (files: File[]) => void): void {
  let depth = 0;
  target.addEventListener('dragenter', (e) => {
    e.preventDefault();
    depth++;
    target.classList.add('dragging');
  });
  target.addEventListener('dragover', (e) => e.preventDefault());
  target.addEventListener('dragleave', () => {
    if (--depth <= 0) target.classList.remove('dragging');
  });
  target.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    target.classList.remove('dragging');
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length > 0) onFiles(files);
  });
}
