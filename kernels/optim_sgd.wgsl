// optim_sgd.wgsl: one fused SGD update of one parameter, in place (PyTorch's momentum form):
//   g = grad * (clipped ? stats.scale : 1)
//   MOMENTUM: vel = momentum * vel + g;  w -= lr * vel      otherwise: w -= lr * g
// The entry point, the skip of a non-finite step, SPARSE, w and grad:
// kernels/optim_update.wgsl, composed after this file by src/optim.
// Bindings: 0 uniform {n, d, lr: f32, momentum: f32, clipped}, 1 w (read_write), 2 grad (read),
//           3 vel (read_write; unused without MOMENTUM), 4 stats: Stats (read, from
//           optim_norm_finalize.wgsl), 5 ids: array<i32> (read; unused when dense).
// Reference: src/ref/optim.ts `sgdRef`.
override MOMENTUM: bool = false;

struct Params { n: u32, d: u32, lr: f32, momentum: f32, clipped: u32, pad0: u32, pad1: u32, pad2: u32 }
// struct Stats: kernels/optim_stats.wgsl (composed with this file by src/optim).
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(3) var<storage, read_write> vel: array<E>;
@group(0) @binding(4) var<storage, read> stats: Stats;
@group(0) @binding(5) var<storage, read> ids: array<i32>;

fn update(j: u32, g: E) {
  if (MOMENTUM) {
    let v = p.momentum * vel[j] + g;
    vel[j] = v;
    w[j] -= p.lr * v;
  } else {
    w[j] -= p.lr * g;
  }
}
