// reduce_rows.wgsl: out[o, j] = alpha * sum_r x[o, r, j] for x viewed as [outer, len, inner].
// One invocation per output, summing in index order: deterministic, no atomics. Best when
// there are many outputs (e.g. a bias gradient: sum over rows of [rows, cols]).
// Bindings: 0 uniform {outer, len, inner, alpha: f32}, 1 x, 2 out.
// Dispatch: ceil(outer*inner / 256) workgroups of 256, folded into (x, y).
// Reference: src/ref/elementwise.ts `sumAxisRef`.
struct Params { outer: u32, len: u32, inner: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.outer * p.inner) { return; }
  let o = i / p.inner;
  let j = i % p.inner;
  var base = o * p.len * p.inner + j;
  var s = 0.0;
  for (var r = 0u; r < p.len; r++) {
    s += x[base];
    base += p.inner;
  }
  out[i] = p.alpha * s;
}
