// optim_sgd.wgsl: one fused SGD update of one parameter, in place (PyTorch's momentum form):
//   g = grad * (clipped ? stats.scale : 1)
//   MOMENTUM: vel = momentum * vel + g;  w -= lr * vel      otherwise: w -= lr * g
// Skipped entirely when stats.finite == 0 (a NaN or Inf gradient norm this step).
// SPARSE = false: element i of w, vel and grad. SPARSE = true: grad is rows [U, d] and
// element i updates w[ids[i / d] * d + i % d] (and that element of vel); ids are unique.
// Bindings: 0 uniform {n, d, lr: f32, momentum: f32, clipped}, 1 w (read_write), 2 grad (read),
//           3 vel (read_write; unused without MOMENTUM), 4 stats: Stats (read, from
//           optim_norm_finalize.wgsl), 5 ids: array<i32> (read; unused when dense).
// E (f32 or vec4f), W (elements per invocation, 1 or 4) and sparseIndex come from the prelude in
// src/optim/width.ts; n counts invocations (elements / W); W = 4 needs n and d multiples of 4.
// Dispatch: ceil(n / 256) workgroups of 256, folded into (x, y).
// Reference: src/ref/optim.ts `sgdRef`.
override SPARSE: bool = false;
override MOMENTUM: bool = false;

struct Params { n: u32, d: u32, lr: f32, momentum: f32, clipped: u32, pad0: u32, pad1: u32, pad2: u32 }
// struct Stats: kernels/optim_stats.wgsl (composed with this file by src/optim).
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> w: array<E>;
@group(0) @binding(2) var<storage, read> grad: array<E>;
@group(0) @binding(3) var<storage, read_write> vel: array<E>;
@group(0) @binding(4) var<storage, read> stats: Stats;
@group(0) @binding(5) var<storage, read> ids: array<i32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n || stats.finite == 0u) { return; }
  var j = i;
  if (SPARSE) { j = sparseIndex(i, ids[i * W / p.d], p.d); }
  var g = grad[i];
  if (p.clipped != 0u) { g *= stats.scale; }
  if (MOMENTUM) {
    let v = p.momentum * vel[j] + g;
    vel[j] = v;
    w[j] -= p.lr * v;
  } else {
    w[j] -= p.lr * g;
  }
}
