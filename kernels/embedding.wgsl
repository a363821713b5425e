// embedding.wgsl: out[p, d] = table[ids[p], d], a row gather. out is [P, D] (the op's
// result [...S, D] flattened), table is [V, D]. An id outside [0, V) gives a zero row
// (the op checks ids on the host where it knows them, so this only guards the read).
// Each invocation copies W elements (1, or 4 when D % 4 == 0: the width prelude of
// src/gpu/width.ts declares E and W).
// Bindings: 0 uniform {n = P*D/W, d = D, v = V}, 1 table: array<E>, 2 ids: array<i32>,
//           3 out: array<E>.
// Dispatch: ceil(P*D/W / 256) workgroups of 256, folded into (x, y).
// Reference: src/ref/embedding.ts `embeddingRef`.
struct Params { n: u32, d: u32, v: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> table: array<E>;
@group(0) @binding(2) var<storage, read> ids: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<E>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let pos = i * W / p.d;
  let id = bitcast<u32>(ids[pos]); // a negative id becomes >= 2^31, so one compare covers both ends
  var v = E(0.0);
  if (id < p.v) { v = table[sparseIndex(i, i32(id), p.d)]; }
  out[i] = v;
}
