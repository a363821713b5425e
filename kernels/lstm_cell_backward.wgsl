// lstm_cell_backward.wgsl: the fused backward of one LSTM cell step, per (batch row, unit).
// From the gradient reaching m_t (dm), the cell gradient from step t+1 (dcNext, absent at
// the last step), the saved post-activation gates (i, f, g, o, interleaved per unit), c_t
// and c_{t-1}:
//   dc = dcNext + dm * o * (1 - tanh(c)^2)
//   dG = (dc*g * i(1-i), dc*c_{t-1} * f(1-f), dc*i * (1-g^2), dm*tanh(c) * o(1-o))  (pre-activation)
//   dcPrev = dc * f
// c_t and c_{t-1} are read from one buffer (slots of [T+1, B, n]).
// Bindings: 0 uniform Params, 1 dm, 2 dcNext (a dummy when !HAS_DC_NEXT), 3 gates, 4 cAll,
// 5 dG, 6 dcPrev.
// Dispatch: ceil(B*n / 256) workgroups of 256, folded into (x, y).
// Reference: src/ref/lstm.ts `lstmBackwardRef` (one step).
override HAS_DC_NEXT: bool = true;

struct Params { count: u32, n: u32, offDm: u32, offGates: u32, offC: u32, offCprev: u32, offDG: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dm: array<f32>;
@group(0) @binding(2) var<storage, read> dcNext: array<f32>;
@group(0) @binding(3) var<storage, read> gates: array<f32>;
@group(0) @binding(4) var<storage, read> cAll: array<f32>;
@group(0) @binding(5) var<storage, read_write> dG: array<f32>;
@group(0) @binding(6) var<storage, read_write> dcPrev: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * 256u;
  if (e >= p.count) { return; }
  let gi = p.offGates + 4u * e;
  let i = gates[gi];
  let f = gates[gi + 1u];
  let g = gates[gi + 2u];
  let o = gates[gi + 3u];
  let tc = tanh(clamp(cAll[p.offC + e], -15.0, 15.0));
  let dmv = dm[p.offDm + e];
  var dc = dmv * o * (1.0 - tc * tc);
  if (HAS_DC_NEXT) { dc += dcNext[e]; }
  let d = p.offDG + 4u * e;
  dG[d] = dc * g * i * (1.0 - i);
  dG[d + 1u] = dc * cAll[p.offCprev + e] * f * (1.0 - f);
  dG[d + 2u] = dc * i * (1.0 - g * g);
  dG[d + 3u] = dmv * tc * o * (1.0 - o);
  dcPrev[e] = dc * f;
}
