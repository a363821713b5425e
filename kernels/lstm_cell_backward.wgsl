// lstm_cell_backward.wgsl: the backward of one LSTM cell step as a kernel of its own, one
// invocation per (batch row, unit); the math is cellGrad (lstm_cell_grad.wgsl, prepended).
// Used where the fused form (lstm_cell_backward_store.wgsl) does not apply: the last step
// of a layer without projection (no product precedes it), and widths not a multiple of 4.
// Gates and their gradients are vec4s (one unit's i, f, g, o; interleaved per unit).
// c_t and c_{t-1} are read from one buffer (slots of [T+1, B, n]); dc_{t+1} and dc_t live in
// one buffer of two slots [2, B, n] that the steps take in turn.
// Bindings: 0 uniform Params, 1 dm, 2 gates, 3 cAll, 4 dcAll, 5 dG.
// Dispatch: ceil(B*n / 256) workgroups of 256, folded into (x, y).
override HAS_DC_NEXT: bool = true;

struct Params { count: u32, n: u32, offDm: u32, offGates: u32, offC: u32, offCprev: u32, offDcNext: u32, offDcPrev: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dm: array<f32>;
@group(0) @binding(2) var<storage, read> gates: array<vec4f>;
@group(0) @binding(3) var<storage, read> cAll: array<f32>;
@group(0) @binding(4) var<storage, read_write> dcAll: array<f32>;
@group(0) @binding(5) var<storage, read_write> dG: array<vec4f>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * 256u;
  if (e >= p.count) { return; }
  var dcNext = 0.0;
  if (HAS_DC_NEXT) { dcNext = dcAll[p.offDcNext + e]; }
  let r = cellGrad(gates[p.offGates / 4u + e], cAll[p.offC + e], cAll[p.offCprev + e], dm[p.offDm + e], dcNext);
  dG[p.offGates / 4u + e] = r.dG;
  dcAll[p.offDcPrev + e] = r.dcPrev;
}
