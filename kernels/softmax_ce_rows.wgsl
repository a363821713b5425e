// softmax_ce_rows.wgsl: fused softmax cross-entropy, one invocation per row (small C: no
// barriers). For row r of logits x [N, C] with target t = targets[r]:
//   m = max_c x[r, c], s = sum_c exp(x[r, c] - m)       (one online pass, one exp per element)
//   loss[r] = log(s) + (m - x[r, t])                      (= logsumexp - x[r, t], stable)
// Columns c in [lo, hi) with c != t are left out of the row (sampled softmax: the batch's
// targets that were not sampled count only in their own rows); lo = hi = 0 leaves none out.
// A target outside [0, C) gives loss NaN (bits from the uniform): the op checks targets on
// the host where it knows them, so this only makes a bad row visible. The gradient is
// computed in backward from these row losses (softmax_ce_grad.wgsl).
// Bindings: 0 uniform {n = N, c = C, invN: f32, badBits = NaN bits, lo, hi}, 1 logits:
//           array<f32>, 2 targets: array<i32>, 3 loss: array<f32> [N].
// Dispatch: ceil(N / 64) workgroups of 64, folded into (x, y).
// Reference: src/ref/softmax_ce.ts `softmaxCrossEntropyRef` (rows of `rowLosses`).
struct Params { n: u32, c: u32, invN: f32, badBits: u32, lo: u32, hi: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;

const LOWEST = -3.0e38; // a finite "minus infinity": exp(LOWEST - x) is 0, never NaN

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.x + gid.y * nwg.x * 64u;
  if (row >= p.n) { return; }
  let base = row * p.c;
  let t = bitcast<u32>(targets[row]); // negative targets become >= 2^31
  var m = LOWEST;
  var s = 0.0;
  for (var c = 0u; c < p.c; c++) {
    if (c >= p.lo && c < p.hi && c != t) { continue; }
    let x = logits[base + c];
    if (x > m) {
      s = s * exp(m - x) + 1.0;
      m = x;
    } else {
      s += exp(x - m);
    }
  }
  if (t < p.c) {
    loss[row] = log(s) + (m - logits[base + t]);
  } else {
    loss[row] = bitcast<f32>(p.badBits);
  }
}
