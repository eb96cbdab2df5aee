// The tensor-core intrinsics of conv/mma emulated without f16 or subgroup matrices, for adapters
// that lack them (llvmpipe, SwiftShader in CI): the tiles hold the same halfs two to a u32, read
// with unpack2x16float; a "subgroup" is 32 consecutive invocations, a fragment the offset of its
// 16×16 block in the tile (the multiply reads it there, before the next barrier, as the hardware
// reads a loaded fragment from registers) with its row and column strides, and an accumulator the 8 results each invocation owns
// (row lane / 2, columns 8·(lane mod 2) ..). f16 products are exact in f32, so this matches a
// float64 reference on f16 inputs to f32 rounding of the sums: a layout bug cannot hide.
// For tests only; never chosen for speed.

// (offset, row stride, column stride): A element (m, k) at x + m·y + k·z, B element (k, n) likewise.
alias FragA = vec3<u32>;
alias FragB = vec3<u32>;
alias Acc = array<f32, 8>;

var<workgroup> tile: array<u32, (TILE_HALFS + B_SLOT_HALFS) / 2u>;

fn stage8(h: u32, v: vec4<u32>) {
  let w = h / 2u;
  tile[w] = v.x;
  tile[w + 1u] = v.y;
  tile[w + 2u] = v.z;
  tile[w + 3u] = v.w;
}

fn halfAt(h: u32) -> f32 {
  return unpack2x16float(tile[h / 2u])[h % 2u];
}

// A row-major (16 rows of 16 k, ROW apart) or column-major (16 k of 16 rows, `stride` apart); B
// column-major (16 columns of 16 k, ROW apart).
fn loadA(h: u32) -> FragA {
  return vec3<u32>(h, ROW, 1u);
}

fn loadACols(h: u32, stride: u32) -> FragA {
  return vec3<u32>(h, 1u, stride);
}

fn loadB(h: u32) -> FragB {
  return vec3<u32>(h, 1u, ROW);
}

fn mma(a: FragA, b: FragB, c: Acc) -> Acc {
  var r = c;
  let row = a.x + (lane / 2u) * a.y;
  for (var e = 0u; e < 8u; e++) {
    let col = b.x + ((lane % 2u) * 8u + e) * b.z;
    var s = r[e];
    for (var k = 0u; k < 16u; k++) {
      s += halfAt(row + k * a.z) * halfAt(col + k * b.y);
    }
    r[e] = s;
  }
  return r;
}

fn zeroAcc() -> Acc {
  return Acc();
}

fn loadAccScratch(offset: u32, stride: u32) -> Acc {
  var r: Acc;
  for (var e = 0u; e < 8u; e++) {
    r[e] = scratch[offset + (lane / 2u) * stride + (lane % 2u) * 8u + e];
  }
  return r;
}

fn storeOut(c: Acc, offset: u32, stride: u32) {
  for (var e = 0u; e < 8u; e++) {
    out[offset + ((lane % 2u) * 8u + e) * stride + lane / 2u] = c[e];
  }
}

fn storeScratch(c: Acc, offset: u32) {
  for (var e = 0u; e < 8u; e++) {
    scratch[offset + (lane / 2u) * 16u + (lane % 2u) * 8u + e] = c[e];
  }
}
