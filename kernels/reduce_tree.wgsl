// reduce_tree.wgsl: out[o, j] = alpha * sum_r x[o, r, j] for x viewed as [outer, len, inner],
// one workgroup per output: 256 strided partial sums, then a fixed shared-memory tree.
// The order of additions is fixed, so results are bit-for-bit reproducible. Best when
// there are few outputs over a long axis (a whole-tensor sum, a loss).
// Bindings: 0 uniform {outer, len, inner, alpha: f32}, 1 x, 2 out.
// Dispatch: outer*inner workgroups of 256, folded into (x, y).
// Reference: src/ref/elementwise.ts `sumAxisRef`.
struct Params { outer: u32, len: u32, inner: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = wid.x + wid.y * nwg.x;
  let valid = i < p.outer * p.inner;
  var s = 0.0;
  if (valid) {
    let o = i / p.inner;
    let j = i % p.inner;
    let base = o * p.len * p.inner + j;
    for (var r = lid; r < p.len; r += 256u) {
      s += x[base + r * p.inner];
    }
  }
  partial[lid] = s;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w >>= 1u) {
    if (lid < w) { partial[lid] += partial[lid + w]; }
    workgroupBarrier();
  }
  if (lid == 0u && valid) { out[i] = p.alpha * partial[0]; }
}
