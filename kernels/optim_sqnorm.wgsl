// optim_sqnorm.wgsl: partial sums of squares of one gradient, the first half of the global
// gradient norm (optim_norm_finalize.wgsl is the second). Workgroup w sums x[i]^2 over its
// contiguous chunk [w*chunk, min(n, (w+1)*chunk)): 256 strided partial sums, then a fixed
// shared-memory tree, and writes partials[offset + w]. The chunk and the number of
// workgroups depend on n only, so the order of additions is fixed: bit-for-bit reproducible,
// no atomics.
// E (f32 or vec4f), W (elements per invocation) and hsum come from the prelude in
// src/gpu/width.ts; n and chunk count E units.
// Bindings: 0 uniform {n, chunk, offset}, 1 x: array<E> (read), 2 partials: array<f32>.
// Dispatch: ceil(n / chunk) workgroups of 256 (at most 4096, 1-D).
// Reference: src/ref/optim.ts `globalNormRef`.
struct Params { n: u32, chunk: u32, offset: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<E>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

var<workgroup> part: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let start = wid.x * p.chunk;
  let end = min(p.n, start + p.chunk);
  var s = 0.0;
  for (var i = start + lid; i < end; i += 256u) {
    let v = x[i];
    s += hsum(v * v);
  }
  part[lid] = s;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w >>= 1u) {
    if (lid < w) { part[lid] += part[lid + w]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partials[p.offset + wid.x] = part[0]; }
}
