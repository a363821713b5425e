// optim_stats.wgsl: the optimizer's stats buffer, written by optim_norm_finalize.wgsl once
// per step and read by the update kernels (optim_adagrad, optim_adam, optim_sgd,
// optim_scale_grad) and by the host (src/optim/norm.ts reads its words by these names).
//   norm: the global gradient norm of this step; scale: the clip factor (1: none)
//   finite: 1 when every gradient was finite (else the updates skip the step)
//   step: steps taken; beta1Power, beta2Power: Adam's running powers (1 for the others)
//   nonFinite: steps skipped for a NaN or Inf gradient; attempts: steps tried
struct Stats {
  norm: f32, scale: f32, finite: u32, step: u32,
  beta1Power: f32, beta2Power: f32, nonFinite: u32, attempts: u32,
}
