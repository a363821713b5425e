// optim_scale_grad.wgsl: in-place gradient clipping for fl.optim.clipGradNorm:
//   g *= stats.scale when stats.finite != 0 (otherwise g is left as it is).
// The scale and the finite flag come from optim_norm_finalize.wgsl on the GPU.
// Bindings: 0 uniform {n}, 1 g (read_write), 2 stats: Stats (read).
// Dispatch: ceil(n / 256) workgroups of 256, folded into (x, y).
// Reference: src/ref/optim.ts `clipScaleRef`.
struct Params { n: u32, pad0: u32, pad1: u32, pad2: u32 }
// struct Stats: kernels/optim_stats.wgsl (composed with this file by src/optim).
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> g: array<f32>;
@group(0) @binding(2) var<storage, read> stats: Stats;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n || stats.finite == 0u) { return; }
  g[i] *= stats.scale;
}
