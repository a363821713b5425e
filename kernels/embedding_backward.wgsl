// embedding_backward.wgsl: the table gradient of an embedding, sparse and deterministic.
// The host sorts the positions by id and uploads one i32 index buffer:
//   index = [ uniqueIds (U, ascending) | offsets (U + 1) | sortedPositions (P) ]
// where the positions of uniqueIds[u] are sortedPositions[offsets[u] .. offsets[u+1]),
// ascending. Invocation (u, col) sums g[pos, col] over those positions in that order (a
// fixed order: bit-for-bit reproducible, no atomics) and writes
//   SCATTER = true:  out[uniqueIds[u], col]  (out is the dense [V, D] grad, zero-filled before)
//   SCATTER = false: out[u, col]             (out is the sparse rows [U, D])
// Each invocation sums W columns (1, or 4 when D % 4 == 0: the width prelude of
// src/gpu/width.ts declares E and W).
// Bindings: 0 uniform {n = U*D/W, d = D, u = U}, 1 index: array<i32>, 2 g: array<E> [P, D],
//           3 out: array<E>.
// Dispatch: ceil(U*D/W / 256) workgroups of 256, folded into (x, y).
// Reference: src/ref/embedding.ts `embeddingBackwardRef`, `embeddingBackwardSparseRef`.
override SCATTER: bool = true;

struct Params { n: u32, d: u32, u: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> index: array<i32>;
@group(0) @binding(2) var<storage, read> g: array<E>;
@group(0) @binding(3) var<storage, read_write> out: array<E>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let u = i * W / p.d;
  let start = u32(index[p.u + u]);
  let end = u32(index[p.u + u + 1u]);
  let posBase = 2u * p.u + 1u;
  var s = E(0.0);
  for (var k = start; k < end; k++) {
    s += g[sparseIndex(i, index[posBase + k], p.d)];
  }
  if (SCATTER) {
    out[sparseIndex(i, index[u], p.d)] = s;
  } else {
    out[i] = s;
  }
}
