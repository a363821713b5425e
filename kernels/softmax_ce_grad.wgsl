// softmax_ce_grad.wgsl: the gradient of softmaxCrossEntropy, computed in backward from the
// row losses the forward saved (so the forward writes no [N, C] gradient, and the upstream
// gradient is applied here instead of in a pass of its own). For row r with target t:
//   lse[r]     = loss[r] + x[r, t]                         (loss[r] = logsumexp - x[r, t])
//   grad[r, c] = g * (exp(x[r, c] - lse[r]) - [c == t]) * invN, and 0 in the columns the
//                forward left out of the row (c in [lo, hi), c != t)
// g is the upstream gradient of the mean loss, a scalar read from its GPU buffer. A target
// outside [0, C) has a NaN loss (see softmax_ce_rows.wgsl), so its row's gradient is NaN.
// Each invocation covers WIDTH consecutive elements of one row: 4 (as vec4) when C % 4 == 0,
// else 1. The element prelude that src/ops/softmax_ce.ts prepends declares bindings 1
// (logits) and 5 (grad) with WIDTH, logitAt (one element), loadUnit and storeUnit (WIDTH
// elements in the components of a vec4f).
// Bindings: 0 uniform {units = N*C / WIDTH, c = C, invN: f32, lo, hi}, 1 logits, 2 targets:
//           array<i32> [N], 3 loss: array<f32> [N], 4 g: array<f32> [1], 5 grad [N, C].
// Dispatch: ceil(units / 256) workgroups of 256, folded into (x, y).
// Reference: src/ref/softmax_ce.ts `softmaxCrossEntropyRef` (grad).

struct Params { units: u32, c: u32, invN: f32, lo: u32, hi: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read> loss: array<f32>;
@group(0) @binding(4) var<storage, read> g: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let u = gid.x + gid.y * nwg.x * 256u;
  if (u >= p.units) { return; }
  let i = u * WIDTH; // the unit's first element; a unit never crosses a row
  let row = i / p.c;
  let c0 = i - row * p.c;
  let t = bitcast<u32>(targets[row]); // negative targets become >= 2^31
  let lse = loss[row] + logitAt(row * p.c + min(t, p.c - 1u));
  let cols = vec4u(c0, c0 + 1u, c0 + 2u, c0 + 3u);
  let onehot = vec4f(cols == vec4u(t));
  let leftOut = (cols >= vec4u(p.lo)) & (cols < vec4u(p.hi)) & (cols != vec4u(t));
  let prob = select(exp(loadUnit(u) - lse), vec4f(0.0), leftOut);
  storeUnit(u, (prob - onehot) * (g[0] * p.invN));
}
