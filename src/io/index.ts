/**
 * Volume I/O on bytes: browser-safe (no Node built-ins). Node code that works with paths imports node.ts,
 * which re-exports all of this.
 */
import { decodeMetaImage, encodeMha, type MetaImageWriteOptions } from './metaimage.js';
import { decodeNifti, encodeNifti } from './nifti.js';
import { VolumeFormatError, BUFFER_NAME } from './errors.js';
import type { Volume } from '../image/volume.js';

export * from '../image/volume.js';
export * from './errors.js';
export * from './nifti.js';
export * from './metaimage.js';

export type VolumeFormat = 'nifti' | 'mha' | 'mhd';

/** The format a file name's extension announces, or undefined. */
export function volumeFormatOf(name: string): VolumeFormat | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith('.nii') || lower.endsWith('.nii.gz')) return 'nifti';
  if (lower.endsWith('.mha')) return 'mha';
  if (lower.endsWith('.mhd')) return 'mhd';
  return undefined;
}

export const VOLUME_EXTENSIONS = ['.nii', '.nii.gz', '.mha', '.mhd'] as const;

/**
 * Any supported volume from bytes. The format comes from `name`'s extension; bytes without a known name are
 * sniffed (gzip or a NIfTI-1 header size means NIfTI, anything else is tried as MetaImage).
 */
export function decodeVolume(bytes: Uint8Array, name: string = BUFFER_NAME, dataFiles: Record<string, Uint8Array> = {}): Volume {
  const format = volumeFormatOf(name) ?? (looksLikeNifti(bytes) ? 'nifti' : 'mha');
  return format === 'nifti' ? decodeNifti(bytes, name) : decodeMetaImage(bytes, name, dataFiles);
}

function looksLikeNifti(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 4);
  return (bytes[0] === 0x1f && bytes[1] === 0x8b) || view.getInt32(0, true) === 348 || view.getInt32(0, false) === 348;
}

/** A single-file volume (.nii, .nii.gz or .mha) as bytes; an .mhd needs two files, see encodeMhd. */
export function encodeVolume(volume: Volume, name: string, options: MetaImageWriteOptions = {}): Uint8Array {
  const format = volumeFormatOf(name);
  if (format === 'nifti') return encodeNifti(volume, { gzip: name.toLowerCase().endsWith('.gz') });
  if (format === 'mha') return encodeMha(volume, options);
  throw new VolumeFormatError(name, `cannot encode to a single buffer; use one of .nii, .nii.gz, .mha`);
}
