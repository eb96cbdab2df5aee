/**
 * The in-memory volume every reader returns and every writer takes.
 *
 * Axis order. Voxel (i, j, k) lives at `data[i + nx * (j + ny * k)]`: i (x) varies fastest, then j (y),
 * then k (z). That is the on-disk order of NIfTI and MetaImage, so readers copy bytes without any transpose.
 * `shape` is `[nx, ny, nz]` in that same (fastest-first) order.
 *
 * Tensors are NCDHW with W fastest. Taking W = x, H = y, D = z makes the flat order of a volume and of a
 * `[1, 1, D, H, W]` tensor identical: the conversion below only reverses the shape, never moves a voxel.
 *
 * Geometry follows ITK/DICOM (as SimpleITK does, whose pipeline the V-Net paper used): world coordinates are
 * LPS+ millimetres, and the world position of voxel (i, j, k) is
 *
 *     origin + direction · diag(spacing) · [i, j, k]ᵀ
 *
 * where `direction` is a row-major 3×3 matrix whose column c is the unit world direction of voxel axis c.
 * NIfTI stores RAS+ coordinates; its reader and writer flip the first two world axes, so a mask written from a
 * NIfTI scan's volume overlays that scan in any viewer, and converting NIfTI ⇄ MetaImage keeps the anatomy.
 */

export type Vec3 = [number, number, number];

/** Row-major 3×3 matrix: `m[3 * row + col]`. */
export type Mat3 = [number, number, number, number, number, number, number, number, number];

export type VoxelArray = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

export type VoxelType = 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';

/** Where the voxels sit in the world: everything about a volume except its values. */
export interface Grid {
  /** `[nx, ny, nz]`, x fastest. */
  shape: Vec3;
  /** Millimetres between voxel centres along i, j, k. */
  spacing: Vec3;
  /** LPS world position (mm) of the centre of voxel (0, 0, 0). */
  origin: Vec3;
  /** Row-major; column c is the LPS unit direction of voxel axis c. */
  direction: Mat3;
  /**
   * NIfTI qform/sform codes (what the coordinates mean: scanner, aligned, MNI…) of the file the grid came
   * from. They travel with the grid so that a mask resampled onto a scan's grid is written with its codes.
   */
  niftiCodes?: { qform: number; sform: number };
}

export interface Volume extends Grid {
  data: VoxelArray;
  /**
   * The element type in the file the volume was read from, when it differs from `data`'s type (a NIfTI
   * scl_slope turns stored integers into floats). Informational only: writers store `data`'s type.
   */
  storedType?: VoxelType;
}

export const IDENTITY_DIRECTION: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

const ARRAY_TYPES: Record<VoxelType, { new (length: number): VoxelArray; BYTES_PER_ELEMENT: number }> = {
  uint8: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  float32: Float32Array,
  float64: Float64Array,
};

export function voxelTypeOf(data: VoxelArray): VoxelType {
  for (const [type, ctor] of Object.entries(ARRAY_TYPES)) {
    if (data instanceof ctor) return type as VoxelType;
  }
  throw new Error(`unsupported voxel array type ${Object.prototype.toString.call(data)}`);
}

export function allocateVoxels(type: VoxelType, length: number): VoxelArray {
  return new ARRAY_TYPES[type](length);
}

export function bytesPerVoxel(type: VoxelType): number {
  return ARRAY_TYPES[type].BYTES_PER_ELEMENT;
}

export function voxelCount(shape: Vec3): number {
  return shape[0] * shape[1] * shape[2];
}

/** Checks the invariants a reader must establish before handing a volume out. */
export function assertValidGrid(grid: Grid, dataLength: number): void {
  const { shape, spacing, origin, direction } = grid;
  if (!shape.every((n) => Number.isInteger(n) && n >= 1)) throw new Error(`invalid shape [${shape}]`);
  if (voxelCount(shape) !== dataLength) {
    throw new Error(`shape [${shape}] holds ${voxelCount(shape)} voxels but data has ${dataLength}`);
  }
  if (!spacing.every((s) => Number.isFinite(s) && s > 0)) throw new Error(`invalid spacing [${spacing}]`);
  if (!origin.every(Number.isFinite)) throw new Error(`invalid origin [${origin}]`);
  if (!direction.every(Number.isFinite)) throw new Error(`invalid direction [${direction}]`);
}

/**
 * The same flat data viewed as a `[1, 1, D, H, W]` tensor (D = nz, H = ny, W = nx); no copy when the volume
 * already holds float32.
 */
export function volumeToTensorData(volume: Volume): { data: Float32Array; shape: [1, 1, number, number, number] } {
  const [nx, ny, nz] = volume.shape;
  const data = volume.data instanceof Float32Array ? volume.data : Float32Array.from(volume.data);
  return { data, shape: [1, 1, nz, ny, nx] };
}

/**
 * A tensor's flat data back on the grid of `like` (typically the scan it was predicted from). The tensor must
 * be `[1, 1, D, H, W]` with (W, H, D) equal to `like.shape`.
 */
export function tensorDataToVolume(data: Float32Array, shape: readonly number[], like: Grid): Volume {
  const [nx, ny, nz] = like.shape;
  if (shape.length !== 5 || shape[0] !== 1 || shape[1] !== 1 || shape[2] !== nz || shape[3] !== ny || shape[4] !== nx) {
    throw new Error(`tensor shape [${shape}] does not match volume grid [1,1,${nz},${ny},${nx}] (NCDHW)`);
  }
  if (data.length !== nx * ny * nz) throw new Error(`tensor data has ${data.length} values, shape needs ${nx * ny * nz}`);
  return { ...cloneGrid(like), data };
}

export function cloneGrid(grid: Grid): Grid {
  const clone: Grid = {
    shape: [...grid.shape],
    spacing: [...grid.spacing],
    origin: [...grid.origin],
    direction: [...grid.direction],
  };
  if (grid.niftiCodes) clone.niftiCodes = { ...grid.niftiCodes };
  return clone;
}

/** World position (LPS mm) of a continuous voxel index. */
export function indexToWorld(grid: Grid, index: Vec3): Vec3 {
  const { origin: o, spacing: s, direction: d } = grid;
  const a = index[0] * s[0];
  const b = index[1] * s[1];
  const c = index[2] * s[2];
  return [o[0] + d[0] * a + d[1] * b + d[2] * c, o[1] + d[3] * a + d[4] * b + d[5] * c, o[2] + d[6] * a + d[7] * b + d[8] * c];
}
