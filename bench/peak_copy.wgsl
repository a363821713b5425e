// peak_copy.wgsl: the adapter's memory ceiling (bench/ceilings.ts): dst = src over a buffer
// much larger than any cache, vec4 loads and stores; bytes moved = 2 x the buffer size. Each
// invocation copies 4 vec4s a stride s = n / 4 apart (neighbouring invocations touch
// neighbouring addresses: coalesced on a GPU, one vector load over 8 invocations on lavapipe);
// on lavapipe 4 per invocation beat 1 (per-invocation overhead) and 16 (measured 2-5 GB/s).
// Bindings: 0 uniform {n (vec4s, a multiple of 4), s = n / 4}, 1 src, 2 dst.
// Dispatch: ceil(s / 256) workgroups of 256, folded into (x, y).
struct Params { n: u32, s: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4f>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let s = p.s;
  if (i >= s) { return; }
  dst[i] = src[i];
  dst[i + s] = src[i + s];
  dst[i + 2u * s] = src[i + 2u * s];
  dst[i + 3u * s] = src[i + 3u * s];
}
