/**
 * gzip (.nii.gz) and zlib (MetaImage CompressedData) on top of fflate, with the checksums verified.
 *
 * fflate's one-shot decoders neither check the CRC-32/Adler-32 trailers nor distrust the gzip ISIZE field
 * (they allocate whatever it claims). A bit flip in a compressed scan could then decode to a plausible but
 * wrong volume; here it is an error instead. Errors are plain messages; callers prefix the file name.
 */
import { gzipSync, inflateSync, zlibSync } from 'fflate';

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function isZlib(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && (bytes[0] & 0x0f) === 8 && ((bytes[0] << 8) | bytes[1]) % 31 === 0;
}

export function gzip(bytes: Uint8Array): Uint8Array {
  return gzipSync(bytes, { level: 6 });
}

export function zlib(bytes: Uint8Array): Uint8Array {
  return zlibSync(bytes, { level: 6 });
}

/** Single-member gzip only (what every NIfTI writer produces); the CRC check rejects anything else. */
export function gunzip(bytes: Uint8Array): Uint8Array {
  if (!isGzip(bytes) || bytes[2] !== 8) throw new Error('bad gzip magic');
  if (bytes.length < 18) throw new Error(`truncated gzip stream: ${bytes.length} bytes`);
  const flags = bytes[3];
  if (flags & 0xe0) throw new Error('bad gzip header flags');
  let pos = 10;
  if (flags & 4) pos += 2 + (bytes[pos] | (bytes[pos + 1] << 8));
  for (const flag of [8, 16]) {
    if (!(flags & flag)) continue;
    while (pos < bytes.length && bytes[pos] !== 0) pos++;
    pos++;
  }
  if (flags & 2) pos += 2;
  if (pos > bytes.length - 8) throw new Error('truncated gzip header');
  const out = inflate(bytes.subarray(pos, bytes.length - 8));
  const trailer = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8, 8);
  if (trailer.getUint32(0, true) !== crc32(out) || trailer.getUint32(4, true) !== out.length % 2 ** 32) {
    throw new Error('gzip CRC/size mismatch: the stream is corrupt (or multi-member, which is not supported)');
  }
  return out;
}

/** zlib as MetaIO writes it; a gzip stream is accepted too, as MetaIO's own reader does. */
export function unzlib(bytes: Uint8Array): Uint8Array {
  if (isGzip(bytes)) return gunzip(bytes);
  if (!isZlib(bytes)) throw new Error('bad zlib header');
  if (bytes[1] & 0x20) throw new Error('zlib preset dictionaries are not supported');
  if (bytes.length < 6) throw new Error(`truncated zlib stream: ${bytes.length} bytes`);
  const out = inflate(bytes.subarray(2, bytes.length - 4));
  const expected = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 4, 4).getUint32(0, false);
  if (expected !== adler32(out)) throw new Error('zlib Adler-32 mismatch: the stream is corrupt');
  return out;
}

function inflate(deflated: Uint8Array): Uint8Array {
  try {
    return inflateSync(deflated);
  } catch (error) {
    throw new Error(`corrupt deflate stream (${(error as Error).message})`);
  }
}

let crcTable: Uint32Array | undefined;

function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  // Reduce every 5552 bytes (zlib's NMAX) so the sums stay small integers.
  for (let i = 0; i < bytes.length; ) {
    const end = Math.min(i + 5552, bytes.length);
    for (; i < end; i++) {
      a += bytes[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}
