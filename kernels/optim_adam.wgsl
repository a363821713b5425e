// optim_adam.wgsl: one fused Adam update of one parameter, in place, with bias correction
// (t = stats.step, already advanced for this step by optim_norm_finalize.wgsl, which keeps
// beta1Power = beta1^t and beta2Power = beta2^t):
//   g = grad * (clipped ? stats.scale : 1)
//   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
//   w -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
// The entry point, the skip of a non-finite step, SPARSE ("lazy" Adam when sparse), w and
// grad: kernels/optim_update.wgsl, composed after this file by src/optim.
// Bindings: 0 uniform {n, d, lr, beta1, beta2, 1 - beta1, 1 - beta2, eps (f32s), clipped},
//           1 w (read_write), 2 grad (read), 3 m (read_write), 4 v (read_write),
//           5 stats: Stats (read), 6 ids: array<i32> (read; unused when dense).
// Reference: src/ref/optim.ts `adamRef`.
struct Params {
  n: u32, d: u32, lr: f32, beta1: f32,
  beta2: f32, omb1: f32, omb2: f32, eps: f32,
  clipped: u32, pad0: u32, pad1: u32, pad2: u32,
}
// struct Stats: kernels/optim_stats.wgsl (composed with this file by src/optim).
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(3) var<storage, read_write> m: array<E>;
@group(0) @binding(4) var<storage, read_write> v: array<E>;
@group(0) @binding(5) var<storage, read> stats: Stats;
@group(0) @binding(6) var<storage, read> ids: array<i32>;

fn update(j: u32, g: E) {
  let mj = p.beta1 * m[j] + p.omb1 * g;
  let vj = p.beta2 * v[j] + p.omb2 * (g * g);
  m[j] = mj;
  v[j] = vj;
  let mHat = mj / (1.0 - stats.beta1Power);
  let vHat = vj / (1.0 - stats.beta2Power);
  w[j] -= p.lr * mHat / (sqrt(vHat) + p.eps);
}
