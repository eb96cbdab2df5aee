/**
 * NIfTI-1 single-file images (.nii, .nii.gz) ⇄ Volume, on bytes only (browser-safe; path helpers live in
 * node.ts).
 *
 * Reading: nifti-reader-js parses the 348-byte header; everything it does not check is checked here (datatype
 * vs bitpix, dimensions, vox_offset, exact file size, finite geometry) so that a damaged file is an error and
 * never a wrong volume. World geometry comes from the sform when sform_code > 0, else from the qform when
 * qform_code > 0, else from pixdim alone (nibabel's and ITK's order), and is converted from NIfTI's RAS+ to
 * the LPS+ that Volume uses (see volume.ts).
 *
 * Writing: any Volume voxel type, unscaled, little-endian, vox_offset 352, mm units; both the sform (exact)
 * and, when the direction is a rotation, the qform are written, so every viewer places the image identically.
 */
import { NIFTI1 } from 'nifti-reader-js';
import { gunzip, gzip, isGzip } from './compression.js';
import { decodeVoxels, encodeVoxels } from './binary.js';
import { BUFFER_NAME, VolumeFormatError, withFileName } from './errors.js';
import {
  assertValidGrid,
  bytesPerVoxel,
  voxelCount,
  voxelTypeOf,
  type Mat3,
  type Vec3,
  type Volume,
  type VoxelArray,
  type VoxelType,
} from '../image/volume.js';

const HEADER_SIZE = 348;
const VOX_OFFSET = 352;

const TYPE_BY_CODE: Record<number, VoxelType> = {
  2: 'uint8',
  4: 'int16',
  8: 'int32',
  16: 'float32',
  64: 'float64',
  256: 'int8',
  512: 'uint16',
  768: 'uint32',
};
const CODE_BY_TYPE = Object.fromEntries(Object.entries(TYPE_BY_CODE).map(([c, t]) => [t, Number(c)])) as Record<VoxelType, number>;

/** Millimetres per unit of xyzt_units' spatial code (0 = unknown, read as mm like every other tool). */
const MM_PER_UNIT: Record<number, number> = { 0: 1, 1: 1000, 2: 1, 3: 0.001 };

export function decodeNifti(input: Uint8Array | ArrayBuffer, name: string = BUFFER_NAME): Volume {
  const fail = (problem: string): never => {
    throw new VolumeFormatError(name, problem);
  };
  let bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const gzipped = isGzip(bytes);
  if (gzipped) bytes = withFileName(name, () => gunzip(bytes));
  if (bytes.length < HEADER_SIZE) fail(`truncated header: expected at least ${HEADER_SIZE} bytes got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const sizeofHdr = [view.getInt32(0, true), view.getInt32(0, false)];
  if (sizeofHdr.includes(540)) fail('NIfTI-2 files are not supported');
  if (!sizeofHdr.includes(HEADER_SIZE)) fail(`bad magic: sizeof_hdr is ${sizeofHdr[0]}, not 348 (not a NIfTI-1 file)`);
  const magic = String.fromCharCode(...bytes.subarray(344, 348));
  if (magic === 'ni1\0') fail('separate .hdr/.img pairs are not supported; convert to a single .nii');
  if (magic !== 'n+1\0') fail(`bad magic ${JSON.stringify(magic)} (expected "n+1")`);

  // Only the fixed header goes to the library: its extension walker can loop forever on a corrupt esize.
  const header = new NIFTI1();
  withFileName(name, () => header.readHeader(bytes.slice(0, HEADER_SIZE).buffer));
  const little = header.littleEndian;

  const type = TYPE_BY_CODE[header.datatypeCode] ?? fail(`unsupported datatype code ${header.datatypeCode}`);
  if (header.numBitsPerVoxel !== 8 * bytesPerVoxel(type)) {
    fail(`bitpix ${header.numBitsPerVoxel} does not match datatype ${type}`);
  }
  const shape = readShape(header.dims, fail);
  const offset = header.vox_offset;
  if (!Number.isInteger(offset) || offset < VOX_OFFSET) fail(`invalid vox_offset ${offset}`);
  const expected = offset + voxelCount(shape) * bytesPerVoxel(type);
  if (bytes.length !== expected) {
    fail(`size mismatch: expected ${expected} bytes got ${bytes.length}${gzipped ? ' (after gunzip)' : ''}`);
  }

  const raw = decodeVoxels(bytes.subarray(offset, expected), type, little);
  const data = applyScaling(raw, header.scl_slope, header.scl_inter, fail);
  const mm = MM_PER_UNIT[header.xyzt_units & 7] ?? fail(`unsupported spatial unit code ${header.xyzt_units & 7}`);
  const geometry = readGeometry(header, view, little, fail);
  const volume: Volume = {
    data,
    shape,
    spacing: geometry.spacing.map((s) => s * mm) as Vec3,
    origin: geometry.origin.map((o) => o * mm) as Vec3,
    direction: geometry.direction,
    niftiCodes: { qform: header.qform_code, sform: header.sform_code },
  };
  if (data !== raw) volume.storedType = type;
  withFileName(name, () => assertValidGrid(volume, data.length));
  return volume;
}

function readShape(dims: number[], fail: (problem: string) => never): Vec3 {
  const rank = dims[0];
  if (!(rank >= 1 && rank <= 7)) fail(`invalid dim[0] ${rank}`);
  for (let axis = 1; axis <= rank; axis++) {
    if (!(dims[axis] >= 1)) fail(`invalid dim[${axis}] ${dims[axis]}`);
    if (axis > 3 && dims[axis] !== 1) fail(`${rank}-D images are not supported (dim[${axis}] = ${dims[axis]})`);
  }
  return [dims[1], rank >= 2 ? dims[2] : 1, rank >= 3 ? dims[3] : 1];
}

/** slope 0 or NaN means "unscaled" (the standard, and nibabel's way of writing float images). */
function applyScaling(raw: VoxelArray, slope: number, inter: number, fail: (problem: string) => never): VoxelArray {
  if (slope === 0 || Number.isNaN(slope)) return raw;
  if (!Number.isFinite(slope)) fail(`invalid scl_slope ${slope}`);
  const intercept = Number.isNaN(inter) ? 0 : inter;
  if (!Number.isFinite(intercept)) fail(`invalid scl_inter ${inter}`);
  if (slope === 1 && intercept === 0) return raw;
  const out = raw instanceof Float64Array ? new Float64Array(raw.length) : new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw[i] * slope + intercept;
  return out;
}

interface Geometry {
  spacing: Vec3;
  origin: Vec3;
  direction: Mat3;
}

function readGeometry(header: NIFTI1, view: DataView, little: boolean, fail: (problem: string) => never): Geometry {
  // Voxel sizes of axes a 2-D image does not have are often written as 0; they are 1 by convention.
  const pixdim = [1, 2, 3].map((a) => shortestFloat32(Math.abs(header.pixDims[a])) || 1) as Vec3;
  let ras: Geometry;
  if (header.sform_code > 0) {
    const srow = Array.from({ length: 12 }, (_, i) => view.getFloat32(280 + 4 * i, little));
    ras = fromAffineColumns(srow, pixdim, fail);
  } else if (header.qform_code > 0) {
    ras = fromQuaternion(header, pixdim);
  } else {
    ras = { spacing: pixdim, origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
  }
  return { spacing: ras.spacing, origin: flipXY(ras.origin), direction: flipXYRows(ras.direction) };
}

/** srow_x, srow_y, srow_z (12 numbers) → unit columns and their lengths. */
function fromAffineColumns(srow: number[], pixdim: Vec3, fail: (problem: string) => never): Geometry {
  const spacing = [0, 0, 0] as Vec3;
  const direction = [0, 0, 0, 0, 0, 0, 0, 0, 0] as Mat3;
  for (let c = 0; c < 3; c++) {
    const length = Math.hypot(srow[c], srow[4 + c], srow[8 + c]);
    if (!(length > 0) || !Number.isFinite(length)) fail(`degenerate sform: column ${c} has length ${length}`);
    // Keep the header's declared voxel size when the float32 sform agrees with it to rounding.
    spacing[c] = Math.abs(length - pixdim[c]) <= 1e-5 * pixdim[c] ? pixdim[c] : length;
    for (let r = 0; r < 3; r++) direction[3 * r + c] = srow[4 * r + c] / length;
  }
  return { spacing, origin: [srow[3], srow[7], srow[11]].map(shortestFloat32) as Vec3, direction };
}

/**
 * The shortest decimal that is the same float32: the header's 0.800000011920929 was written as 0.8, and
 * reporting (or re-writing as text in a MetaImage) 0.8 is what the user expects. Exact as float32.
 */
function shortestFloat32(value: number): number {
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

/** nifti1_io.c's nifti_quatern_to_mat44, including its repair of a quaternion whose a² rounds below zero. */
function fromQuaternion(header: NIFTI1, pixdim: Vec3): Geometry {
  let [b, c, d] = [header.quatern_b, header.quatern_c, header.quatern_d];
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    const norm = 1 / Math.sqrt(b * b + c * c + d * d);
    [a, b, c, d] = [0, b * norm, c * norm, d * norm];
  } else {
    a = Math.sqrt(a);
  }
  const qfac = header.pixDims[0] < 0 ? -1 : 1;
  const direction: Mat3 = [
    a * a + b * b - c * c - d * d,
    2 * (b * c - a * d),
    2 * (b * d + a * c) * qfac,
    2 * (b * c + a * d),
    a * a + c * c - b * b - d * d,
    2 * (c * d - a * b) * qfac,
    2 * (b * d - a * c),
    2 * (c * d + a * b),
    (a * a + d * d - c * c - b * b) * qfac,
  ];
  const origin = [header.qoffset_x, header.qoffset_y, header.qoffset_z].map(shortestFloat32) as Vec3;
  return { spacing: pixdim, origin, direction };
}

// RAS+ ⇄ LPS+: the same flip in both directions. `0 - x` rather than `-x` so that zeros stay +0 (a -0 in
// a direction matrix would make equal geometries compare unequal).
function flipXY(v: Vec3): Vec3 {
  return [0 - v[0], 0 - v[1], v[2]];
}

function flipXYRows(m: Mat3): Mat3 {
  return [0 - m[0], 0 - m[1], 0 - m[2], 0 - m[3], 0 - m[4], 0 - m[5], m[6], m[7], m[8]];
}

export interface NiftiWriteOptions {
  gzip?: boolean;
}

export function encodeNifti(volume: Volume, options: NiftiWriteOptions = {}): Uint8Array {
  assertValidGrid(volume, volume.data.length);
  const type = voxelTypeOf(volume.data);
  if (volume.shape.some((n) => n > 32767)) throw new Error(`shape [${volume.shape}] is too large for NIfTI-1`);
  const bytes = new Uint8Array(VOX_OFFSET + volume.data.byteLength);
  const view = new DataView(bytes.buffer);
  const setF32 = (offset: number, values: readonly number[]) => values.forEach((v, i) => view.setFloat32(offset + 4 * i, v, true));
  const setI16 = (offset: number, values: readonly number[]) => values.forEach((v, i) => view.setInt16(offset + 2 * i, v, true));

  const direction = flipXYRows(volume.direction);
  const origin = flipXY(volume.origin);
  const quaternion = quaternionOf(direction);
  const codes = volume.niftiCodes ?? { qform: 1, sform: 1 };

  view.setInt32(0, HEADER_SIZE, true);
  setI16(40, [3, ...volume.shape, 1, 1, 1, 1]);
  setI16(70, [CODE_BY_TYPE[type], 8 * bytesPerVoxel(type)]);
  setF32(76, [quaternion?.qfac ?? 1, ...volume.spacing, 1, 1, 1, 1]);
  setF32(108, [VOX_OFFSET, 1, 0]); // vox_offset, scl_slope, scl_inter
  view.setUint8(123, 2); // xyzt_units: mm
  bytes.set(new TextEncoder().encode('voxgpu'), 148);
  setI16(252, [quaternion ? codes.qform : 0, codes.sform]);
  if (quaternion) setF32(256, [...quaternion.bcd, ...origin]);
  for (let r = 0; r < 3; r++) {
    const row = [0, 1, 2].map((c) => direction[3 * r + c] * volume.spacing[c]);
    setF32(280 + 16 * r, [...row, origin[r]]);
  }
  bytes.set([0x6e, 0x2b, 0x31, 0], 344); // "n+1\0"
  bytes.set(encodeVoxels(volume.data, true), VOX_OFFSET);
  return options.gzip ? gzip(bytes) : bytes;
}

/**
 * nifti1_io.c's nifti_mat44_to_quatern for a direction that is a rotation (or a rotation with a flipped third
 * axis, which qfac = -1 expresses). Undefined for sheared directions: those get no qform (code 0).
 */
function quaternionOf(m: Mat3): { bcd: Vec3; qfac: number } | undefined {
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const dot = m[i] * m[j] + m[3 + i] * m[3 + j] + m[6 + i] * m[6 + j];
      if (Math.abs(dot - (i === j ? 1 : 0)) > 1e-4) return undefined;
    }
  }
  const det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
  const qfac = det < 0 ? -1 : 1;
  const [r11, r12, r13, r21, r22, r23, r31, r32, r33] = [m[0], m[1], m[2] * qfac, m[3], m[4], m[5] * qfac, m[6], m[7], m[8] * qfac];
  let a = r11 + r22 + r33 + 1;
  let b: number;
  let c: number;
  let d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    [b, c, d] = [(0.25 * (r32 - r23)) / a, (0.25 * (r13 - r31)) / a, (0.25 * (r21 - r12)) / a];
  } else {
    const xd = 1 + r11 - (r22 + r33);
    const yd = 1 + r22 - (r11 + r33);
    const zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      [c, d, a] = [(0.25 * (r12 + r21)) / b, (0.25 * (r13 + r31)) / b, (0.25 * (r32 - r23)) / b];
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      [b, d, a] = [(0.25 * (r12 + r21)) / c, (0.25 * (r23 + r32)) / c, (0.25 * (r13 - r31)) / c];
    } else {
      d = 0.5 * Math.sqrt(zd);
      [b, c, a] = [(0.25 * (r13 + r31)) / d, (0.25 * (r23 + r32)) / d, (0.25 * (r21 - r12)) / d];
    }
  }
  // The header stores b, c, d and implies a ≥ 0.
  const sign = a < 0 ? -1 : 1;
  return { bcd: [b * sign, c * sign, d * sign], qfac };
}
