// broadcast.wgsl: y[o, r, j] = alpha * g[o, j] for y viewed as [outer, len, inner]
// (the backward of reduce_rows / reduce_tree).
// Bindings: 0 uniform {outer, len, inner, alpha: f32}, 1 g, 2 y.
// Dispatch: ceil(outer*len*inner / 256) workgroups of 256, folded into (x, y).
// Reference: src/ref/elementwise.ts `sumAxisBackwardRef`.
struct Params { outer: u32, len: u32, inner: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.outer * p.len * p.inner) { return; }
  let o = i / (p.len * p.inner);
  let j = i % p.inner;
  y[i] = p.alpha * g[o * p.inner + j];
}
