// cast_to_f32.wgsl: y = f32(x) for f16 x, four elements per invocation (exact).
// Bindings: 0 uniform {n4: vec4 count}, 1 x: array<vec4<f16>> (read), 2 y: array<vec4f>.
// Dispatch: ceil(n4 / 256) workgroups of 256, folded into (x, y) when over 65535 in x.
// Reference: src/half.ts `fromHalfBits`.
enable f16;

struct Params { n4: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4f>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n4) { return; }
  y[i] = vec4f(x[i]);
}
