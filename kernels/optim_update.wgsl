// optim_update.wgsl: the part every optimizer update kernel shares (optim_adagrad, optim_adam,
// optim_sgd), composed after the kernel's own file by src/optim (WGSL has no includes):
// the entry point finds element j of the parameter that invocation i updates, reads its
// gradient g clipped by stats.scale when the kernel's `clipped` is set, and hands both to the
// kernel's `fn update(j: u32, g: E)`, which updates w[j] and the optimizer's slots at j.
// Skipped entirely when stats.finite == 0 (a NaN or Inf gradient norm this step).
// SPARSE = false: element i of w, the slots and grad. SPARSE = true: grad is rows [U, d] and
// element i updates w[ids[i / d] * d + i % d] (and the slots' same element); ids are unique.
// The kernel declares p (its Params, with n, d and clipped), stats and ids; this file w and grad.
// E (f32 or vec4f), W (elements per invocation, 1 or 4) and sparseIndex come from the prelude in
// src/gpu/width.ts; n counts invocations (elements / W); W = 4 needs n and d multiples of 4.
// Dispatch: ceil(n / 256) workgroups of 256, folded into (x, y).
override SPARSE: bool = false;

@group(0) @binding(1) var<storage, read_write> w: array<E>;
@group(0) @binding(2) var<storage, read> grad: array<E>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n || stats.finite == 0u) { return; }
  var j = i;
  if (SPARSE) { j = sparseIndex(i, ids[i * W / p.d], p.d); }
  var g = grad[i];
  if (p.clipped != 0u) { g *= stats.scale; }
  update(j, g);
}
