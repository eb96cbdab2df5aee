// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
// mapping names to {dtype, shape, data_offsets}, then raw little-endian data. Written by hand
// because it is this small; files open with Python's `safetensors.numpy.load_file`.
import { shapeSize } from '../core/shape.js';
export interface NamedArray {
  shape: readonly number[];
  data: Float32Array;
}

export interface SafetensorsContent {
  tensors: Map<string, NamedArray>;
  metadata: Record<string, string>;
}

export function encodeSafetensors(tensors: ReadonlyMap<string, NamedArray>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsContent {
  const fail = (why: string) => new Error(`safetensors: ${source}: ${why}`);
  if (bytes.length < 8) throw fail(`file too short (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8) throw fail(`header length ${headerLength} exceeds the file (${bytes.length} bytes)`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw fail('header is not valid JSON');
  }
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, NamedArray>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (e.dtype !== 'F32') throw fail(`tensor '${name}' has dtype ${e.dtype}; only F32 is supported`);
    const [begin, end] = e.data_offsets;
    const count = shapeSize(e.shape);
    if (end - begin !== count * 4 || dataStart + end > bytes.length || begin < 0) {
      throw fail(
        `tensor '${name}' of shape [${e.shape.join(', ')}] has data range [${begin}, ${end}) that does not fit (expected ` +
          `${count * 4} bytes within ${bytes.length - dataStart})`,
      );
    }
    // Copy: the data may not be 4-byte aligned inside the file buffer.
    const data = new Float32Array(count);
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { shape: e.shape, data });
  }
  return { tensors, metadata: (header.__metadata__ as Record<string, string>) ?? {} };
}
