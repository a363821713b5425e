// cast_to_f16.wgsl: y = f16(x), four elements per invocation (f16 storage for matmul operands).
// Values past f16's range become +-inf; the rounding is the adapter's (nearest, or toward
// zero on some), within one f16 ulp either way.
// Bindings: 0 uniform {n4: vec4 count}, 1 x: array<vec4f> (read), 2 y: array<vec4<f16>>.
// Buffers are padded to 16 bytes, so the last vec4 stays inside both (its tail is padding).
// Dispatch: ceil(n4 / 256) workgroups of 256, folded into (x, y) when over 65535 in x.
// Reference: src/half.ts `roundHalf`.
enable f16;

struct Params { n4: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f16>>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n4) { return; }
  y[i] = vec4<f16>(x[i]);
}
