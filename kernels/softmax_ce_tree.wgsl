// softmax_ce_tree.wgsl: fused softmax cross-entropy, one workgroup of 256 per row (large C).
// For row r of logits x [N, C] with target t = targets[r]:
//   m = max_c x[r, c], s = sum_c exp(x[r, c] - m)
//   loss[r] = log(s) + (m - x[r, t])                      (= logsumexp - x[r, t], stable)
// Each invocation keeps an online (max, sum-exp) pair over columns lid, lid+256, ...; the 256
// pairs are merged in a fixed order with three barriers (16 invocations merge 16 pairs each,
// then one merges those 16): deterministic, and few barriers (slow on software drivers).
// Columns c in [lo, hi) with c != t are left out of the row (see softmax_ce_rows.wgsl).
// A target outside [0, C) gives loss NaN (bits from the uniform). The gradient is computed
// in backward from these row losses (softmax_ce_grad.wgsl).
// Bindings: 0 uniform {n = N, c = C, invN: f32, badBits = NaN bits, lo, hi}, 1 logits:
//           array<f32>, 2 targets: array<i32>, 3 loss: array<f32> [N].
// Dispatch: N workgroups of 256, folded into (x, y).
// Reference: src/ref/softmax_ce.ts `softmaxCrossEntropyRef` (rows of `rowLosses`).
struct Params { n: u32, c: u32, invN: f32, badBits: u32, lo: u32, hi: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;

const LOWEST = -3.0e38; // a finite "minus infinity": exp(LOWEST - x) is 0, never NaN

var<workgroup> pm: array<f32, 256>;
var<workgroup> ps: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  let valid = row < p.n;
  let base = row * p.c;
  var t = 0u;
  if (valid) { t = bitcast<u32>(targets[row]); } // negative targets become >= 2^31
  var m = LOWEST;
  var s = 0.0;
  if (valid) {
    for (var c = lid; c < p.c; c += 256u) {
      if (c >= p.lo && c < p.hi && c != t) { continue; }
      let x = logits[base + c];
      if (x > m) {
        s = s * exp(m - x) + 1.0;
        m = x;
      } else {
        s += exp(x - m);
      }
    }
  }
  pm[lid] = m;
  ps[lid] = s;
  workgroupBarrier();
  if (lid < 16u) {
    m = pm[lid * 16u];
    s = ps[lid * 16u];
    for (var k = 1u; k < 16u; k++) {
      let m2 = pm[lid * 16u + k];
      let s2 = ps[lid * 16u + k];
      let mm = max(m, m2);
      s = s * exp(m - mm) + s2 * exp(m2 - mm);
      m = mm;
    }
    pm[lid * 16u] = m;
    ps[lid * 16u] = s;
  }
  workgroupBarrier();
  if (lid == 0u) {
    for (var k = 1u; k < 16u; k++) {
      let m2 = pm[k * 16u];
      let s2 = ps[k * 16u];
      let mm = max(m, m2);
      s = s * exp(m - mm) + s2 * exp(m2 - mm);
      m = mm;
    }
    pm[0] = m;
    ps[0] = s;
  }
  workgroupBarrier();
  m = pm[0];
  s = ps[0];
  if (!valid) { return; }
  if (lid == 0u) {
    if (t < p.c) {
      loss[row] = log(s) + (m - logits[base + t]);
    } else {
      loss[row] = bitcast<f32>(p.badBits);
    }
  }
}
