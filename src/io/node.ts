/**
 * Node-only path helpers over the byte-level codecs. Reads name the file in every error; writes are atomic
 * (writeFileAtomic), so an interrupted write leaves any previous file intact.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import {
  decodeMetaImageData,
  decodeNifti,
  encodeMha,
  encodeMhd,
  encodeNifti,
  parseMetaImageHeader,
  volumeFormatOf,
  LOCAL_DATA,
  VolumeFormatError,
  type MetaImageWriteOptions,
  type Volume,
} from './index.js';

export * from './index.js';
export { writeFileAtomic };

export async function readNifti(path: string): Promise<Volume> {
  return decodeNifti(await readFile(path), path);
}

export async function writeNifti(path: string, volume: Volume): Promise<void> {
  await writeFileAtomic(path, encodeNifti(volume, { gzip: path.toLowerCase().endsWith('.gz') }));
}

export async function readMetaImage(path: string): Promise<Volume> {
  const bytes = await readFile(path);
  const header = parseMetaImageHeader(bytes, path);
  if (header.dataFile === LOCAL_DATA) return decodeMetaImageData(header, bytes.subarray(header.dataOffset), path);
  const dataPath = join(dirname(path), header.dataFile);
  const payload = await readFile(dataPath).catch((error: NodeJS.ErrnoException) => {
    throw new VolumeFormatError(path, `missing data file ${dataPath} (${error.code ?? error.message})`);
  });
  return decodeMetaImageData(header, payload, dataPath);
}

/** `.mha` is one file; `.mhd` also writes `<name>.raw`, or `<name>.zraw` when compressed (ITK's naming). */
export async function writeMetaImage(path: string, volume: Volume, options: MetaImageWriteOptions = {}): Promise<void> {
  if (volumeFormatOf(path) === 'mha') return writeFileAtomic(path, encodeMha(volume, options));
  const dataPath = metaImageDataPath(path, options);
  const { header, data } = encodeMhd(volume, basename(dataPath), options);
  // Data first: a header never points at a data file that is not complete yet.
  await writeFileAtomic(dataPath, data);
  await writeFileAtomic(path, header);
}

function metaImageDataPath(path: string, options: MetaImageWriteOptions): string {
  return path.replace(/\.mhd$/i, '') + (options.compress ? '.zraw' : '.raw');
}

function requireFormat(path: string) {
  const format = volumeFormatOf(path);
  if (!format) throw new VolumeFormatError(path, 'unsupported file extension (expected .nii, .nii.gz, .mha or .mhd)');
  return format;
}

export async function readVolume(path: string): Promise<Volume> {
  return requireFormat(path) === 'nifti' ? readNifti(path) : readMetaImage(path);
}

export async function writeVolume(path: string, volume: Volume, options: MetaImageWriteOptions = {}): Promise<void> {
  return requireFormat(path) === 'nifti' ? writeNifti(path, volume) : writeMetaImage(path, volume, options);
}

/** Every file that reading `path` touches (an .mhd's data file too): what a writer must not clobber. */
export async function volumeFilesRead(path: string): Promise<string[]> {
  if (requireFormat(path) !== 'mhd') return [path];
  const header = parseMetaImageHeader(await readFile(path), path);
  return header.dataFile === LOCAL_DATA ? [path] : [path, join(dirname(path), header.dataFile)];
}

/** Every file that writeVolume(path, …, options) creates or replaces. */
export function volumeFilesWritten(path: string, options: MetaImageWriteOptions = {}): string[] {
  return requireFormat(path) === 'mhd' ? [path, metaImageDataPath(path, options)] : [path];
}
