/**
 * MetaImage (.mha, and .mhd with its .raw/.zraw data file; the PROMISE12 format) ⇄ Volume, on bytes only
 * (browser-safe; path helpers live in node.ts).
 *
 * A MetaImage header is `Key = Value` text lines ending with `ElementDataFile`; with `ElementDataFile = LOCAL`
 * (.mha) the voxels follow that line, otherwise they are in the named file, relative to the header. MetaImage
 * uses the same LPS+ geometry and x-fastest order as Volume; note that `TransformMatrix` lists the direction
 * matrix column by column (each triple is one voxel axis' direction, as ITK reads it).
 */
import { unzlib, zlib } from './compression.js';
import { decodeVoxels, encodeVoxels } from './binary.js';
import { BUFFER_NAME, VolumeFormatError, withFileName } from './errors.js';
import {
  assertValidGrid,
  bytesPerVoxel,
  voxelCount,
  voxelTypeOf,
  IDENTITY_DIRECTION,
  type Mat3,
  type Vec3,
  type Volume,
  type VoxelType,
} from '../image/volume.js';

const TYPE_BY_NAME: Record<string, VoxelType> = {
  MET_UCHAR: 'uint8',
  MET_CHAR: 'int8',
  MET_SHORT: 'int16',
  MET_USHORT: 'uint16',
  MET_INT: 'int32',
  MET_UINT: 'uint32',
  MET_FLOAT: 'float32',
  MET_DOUBLE: 'float64',
};
const NAME_BY_TYPE = Object.fromEntries(Object.entries(TYPE_BY_NAME).map(([n, t]) => [t, n])) as Record<VoxelType, string>;

/** Headers are a few hundred bytes; giving up after this keeps a binary file from being scanned whole. */
const MAX_HEADER_BYTES = 1 << 16;

export const LOCAL_DATA = 'LOCAL';

export interface MetaImageHeader {
  shape: Vec3;
  spacing: Vec3;
  origin: Vec3;
  direction: Mat3;
  type: VoxelType;
  littleEndian: boolean;
  compressed: boolean;
  /** Bytes of compressed data, when the header says. */
  compressedSize?: number;
  /** `LOCAL`, or the data file's name relative to the header. */
  dataFile: string;
  /** Bytes to skip at the start of the data file; -1: the voxels are the file's last bytes. */
  headerSize: number;
  /** Where the voxels start in the header's own bytes (meaningful for LOCAL). */
  dataOffset: number;
}

export function parseMetaImageHeader(bytes: Uint8Array, name: string = BUFFER_NAME): MetaImageHeader {
  const fail = (problem: string): never => {
    throw new VolumeFormatError(name, problem);
  };
  const fields = new Map<string, string>();
  let pos = 0;
  let lineNumber = 0;
  while (!fields.has('ElementDataFile')) {
    if (pos >= bytes.length) fail('truncated header: no ElementDataFile line');
    if (pos >= MAX_HEADER_BYTES) fail('bad magic: no ElementDataFile line in the first 64 KiB (not a MetaImage)');
    let end = bytes.indexOf(0x0a, pos);
    if (end < 0) end = bytes.length;
    lineNumber++;
    if (end - pos > 4096) fail(`bad magic: line ${lineNumber} is not a header line (over 4 KiB)`);
    const line = String.fromCharCode(...bytes.subarray(pos, end)).replace(/\r$/, '');
    pos = end + 1;
    if (line.trim() === '') continue;
    const match = /^\s*([A-Za-z][A-Za-z0-9_]*)\s*[=:]\s*(.*?)\s*$/.exec(line);
    if (!match || /[^\t\x20-\x7e]/.test(line)) {
      fail(`bad magic: line ${lineNumber} is not a "Key = Value" header line (not a MetaImage header)`);
    }
    fields.set(match![1], match![2]);
  }
  const get = (...keys: string[]) => keys.map((k) => fields.get(k)).find((v) => v !== undefined);

  const numbers = (key: string, count: number, fallback?: number[]): number[] => {
    const text = get(key);
    if (text === undefined) return fallback ?? fail(`missing ${key}`);
    const values = text
      .split(/\s+/)
      .filter((t) => t !== '')
      .map(Number);
    if (values.length !== count || !values.every(Number.isFinite)) fail(`${key} must be ${count} numbers, got "${text}"`);
    return values;
  };
  const flag = (keys: string[], fallback: boolean): boolean => {
    const text = get(...keys);
    if (text === undefined) return fallback;
    if (/^(true|1)$/i.test(text)) return true;
    if (/^(false|0)$/i.test(text)) return false;
    return fail(`${keys[0]} must be True or False, got "${text}"`);
  };
  const integer = (key: string, min: number, fallback?: number): number => {
    const value = numbers(key, 1, fallback === undefined ? undefined : [fallback])[0];
    if (!Number.isInteger(value) || value < min) fail(`invalid ${key} ${value}`);
    return value;
  };

  const objectType = get('ObjectType');
  if (objectType !== undefined && objectType.toLowerCase() !== 'image') fail(`ObjectType "${objectType}" is not an Image`);
  const rank = integer('NDims', 1);
  if (rank > 3) fail(`${rank}-D images are not supported`);
  if (integer('ElementNumberOfChannels', 1, 1) !== 1) fail('multi-channel images are not supported');
  if (!flag(['BinaryData'], true)) fail('ASCII (BinaryData = False) images are not supported');

  const dims = numbers('DimSize', rank);
  if (!dims.every((n) => Number.isInteger(n) && n >= 1)) fail(`invalid DimSize ${dims.join(' ')}`);
  const spacing = numbers('ElementSpacing', rank, Array(rank).fill(1));
  const originKey = ['Offset', 'Position', 'Origin'].find((k) => fields.has(k)) ?? 'Offset';
  const origin = numbers(originKey, rank, Array(rank).fill(0));
  const matrixKey = ['TransformMatrix', 'Rotation', 'Orientation'].find((k) => fields.has(k)) ?? 'TransformMatrix';
  const matrix = numbers(matrixKey, rank * rank, identity(rank));
  const typeName = get('ElementType') ?? fail('missing ElementType');
  const type = TYPE_BY_NAME[typeName] ?? fail(`unsupported ElementType ${typeName}`);
  const compressed = flag(['CompressedData'], false);
  const dataFile = get('ElementDataFile')!;
  if (dataFile === 'LIST' || dataFile.includes('%') || dataFile === '') {
    fail(`ElementDataFile "${dataFile}" (file lists and patterns) is not supported`);
  }

  const header: MetaImageHeader = {
    shape: pad3(dims, 1),
    spacing: pad3(spacing, 1),
    origin: pad3(origin, 0),
    direction: embedDirection(matrix, rank),
    type,
    littleEndian: !flag(['BinaryDataByteOrderMSB', 'ElementByteOrderMSB'], false),
    compressed,
    dataFile,
    headerSize: integer('HeaderSize', -1, 0),
    dataOffset: Math.min(pos, bytes.length),
  };
  if (compressed && fields.has('CompressedDataSize')) header.compressedSize = integer('CompressedDataSize', 0);
  withFileName(name, () => assertValidGrid(header, voxelCount(header.shape)));
  return header;
}

function identity(rank: number): number[] {
  return Array.from({ length: rank * rank }, (_, i) => (i % (rank + 1) === 0 ? 1 : 0));
}

function pad3(values: number[], fill: number): Vec3 {
  return [values[0] ?? fill, values[1] ?? fill, values[2] ?? fill];
}

/** TransformMatrix lists axis directions one after another; Volume wants them as columns. */
function embedDirection(matrix: number[], rank: number): Mat3 {
  const direction: Mat3 = [...IDENTITY_DIRECTION];
  for (let axis = 0; axis < rank; axis++) {
    for (let row = 0; row < rank; row++) direction[3 * row + axis] = matrix[axis * rank + row];
  }
  return direction;
}

/**
 * The voxels of a parsed header. `payload` is the header file's bytes from `header.dataOffset` on for LOCAL
 * data, or the whole data file otherwise; `dataName` names it in errors.
 */
export function decodeMetaImageData(header: MetaImageHeader, payload: Uint8Array, dataName: string): Volume {
  const fail = (problem: string): never => {
    throw new VolumeFormatError(dataName, problem);
  };
  const expected = voxelCount(header.shape) * bytesPerVoxel(header.type);
  let bytes = payload;
  if (header.dataFile !== LOCAL_DATA && header.headerSize !== 0) {
    if (header.headerSize === -1 && header.compressed) fail('HeaderSize = -1 cannot locate compressed data');
    const skip = header.headerSize === -1 ? payload.length - expected : header.headerSize;
    if (skip < 0 || skip > payload.length) fail(`size mismatch: expected at least ${expected} bytes got ${payload.length}`);
    bytes = payload.subarray(skip);
  }
  if (header.compressed) {
    if (header.compressedSize !== undefined && bytes.length !== header.compressedSize) {
      fail(`size mismatch: expected ${header.compressedSize} compressed bytes got ${bytes.length}`);
    }
    const compressed = bytes;
    bytes = withFileName(dataName, () => unzlib(compressed));
  }
  if (bytes.length !== expected) {
    fail(`size mismatch: expected ${expected} bytes got ${bytes.length}${header.compressed ? ' (after decompression)' : ''}`);
  }
  return {
    data: decodeVoxels(bytes, header.type, header.littleEndian),
    shape: header.shape,
    spacing: header.spacing,
    origin: header.origin,
    direction: header.direction,
  };
}

/**
 * A whole MetaImage from bytes. For an .mhd, `dataFiles` supplies the data file's bytes by the name the header
 * gives (a browser can fetch it first; Node's readMetaImage does this from disk).
 */
export function decodeMetaImage(bytes: Uint8Array, name: string = BUFFER_NAME, dataFiles: Record<string, Uint8Array> = {}): Volume {
  const header = parseMetaImageHeader(bytes, name);
  if (header.dataFile === LOCAL_DATA) return decodeMetaImageData(header, bytes.subarray(header.dataOffset), name);
  const payload = dataFiles[header.dataFile];
  if (!payload) throw new VolumeFormatError(name, `missing data file ${header.dataFile}`);
  return decodeMetaImageData(header, payload, header.dataFile);
}

export interface MetaImageWriteOptions {
  /** zlib-compress the voxels (CompressedData = True). */
  compress?: boolean;
}

/** A single-file .mha. */
export function encodeMha(volume: Volume, options: MetaImageWriteOptions = {}): Uint8Array {
  const { header, data } = encodeMhd(volume, LOCAL_DATA, options);
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

/** An .mhd header naming `dataFile` (relative to the header), and that file's bytes. */
export function encodeMhd(volume: Volume, dataFile: string, options: MetaImageWriteOptions = {}): { header: Uint8Array; data: Uint8Array } {
  assertValidGrid(volume, volume.data.length);
  if (/[\r\n]/.test(dataFile)) throw new Error(`invalid data file name ${JSON.stringify(dataFile)}`);
  const raw = encodeVoxels(volume.data, true);
  const data = options.compress ? zlib(raw) : raw;
  const d = volume.direction;
  const lines = [
    'ObjectType = Image',
    'NDims = 3',
    'BinaryData = True',
    'BinaryDataByteOrderMSB = False',
    `CompressedData = ${options.compress ? 'True' : 'False'}`,
    ...(options.compress ? [`CompressedDataSize = ${data.length}`] : []),
    `TransformMatrix = ${[d[0], d[3], d[6], d[1], d[4], d[7], d[2], d[5], d[8]].join(' ')}`,
    `Offset = ${volume.origin.join(' ')}`,
    `ElementSpacing = ${volume.spacing.join(' ')}`,
    `DimSize = ${volume.shape.join(' ')}`,
    `ElementType = ${NAME_BY_TYPE[voxelTypeOf(volume.data)]}`,
    `ElementDataFile = ${dataFile}`,
  ];
  return { header: new TextEncoder().encode(`${lines.join('\n')}\n`), data };
}
