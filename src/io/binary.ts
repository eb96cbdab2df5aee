/** Raw voxel bytes ⇄ typed arrays, in either byte order. */
import { allocateVoxels, bytesPerVoxel, voxelTypeOf, type VoxelArray, type VoxelType } from '../image/volume.js';

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Copies `bytes` (exactly count × element size of them) into a fresh, aligned typed array. */
export function decodeVoxels(bytes: Uint8Array, type: VoxelType, littleEndian: boolean): VoxelArray {
  const size = bytesPerVoxel(type);
  const out = allocateVoxels(type, bytes.length / size);
  const target = new Uint8Array(out.buffer);
  target.set(bytes);
  if (littleEndian !== HOST_LITTLE_ENDIAN) swapBytes(target, size);
  return out;
}

export function encodeVoxels(data: VoxelArray, littleEndian: boolean): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  if (littleEndian !== HOST_LITTLE_ENDIAN) swapBytes(bytes, bytesPerVoxel(voxelTypeOf(data)));
  return bytes;
}

function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}
