// lstm_cell_backward_store.wgsl: the cell backward (cellGrad, lstm_cell_grad.wgsl) as the
// store epilogue of the matmul core that computes dm of one step, so that no dispatch of
// its own and no dm buffer are needed: with projection dm = dh_t · P^T; without, dm = dy_t +
// dG_{t+1} · Wh^T (per G-LSTM group z; F-LSTM: dZ_{t+1} · W1h^T), dy_t added here (ADD_DY).
// The core hands mm_store four columns n0..n0+3 of row m of group z: four units u = z*strideC
// + n0 .., whose c, dc and dm are one vec4 each and whose gates are four vec4s (interleaved
// per unit). dG is written at offDG: the whole buffer (offDG = offGates), or, when the core
// reads dG_{t+1} from the same buffer, a range bound for step t alone (offDG = 0).
// Requires n % 4 == 0 and, per group, a multiple of 4 columns (src/ops/lstm.ts falls back to
// the standalone kernel).
// Bindings: 3 dy (a dummy when !ADD_DY), 4 gates, 5 cAll [T+1, B, n], 6 dcAll [2, B, n]
// (dc_{t+1} read from one slot, dc_t written to the other), 7 dG, 8 uniform CellBackParams.
override ADD_DY: bool = false;
override HAS_DC_NEXT: bool = true;

struct CellBackParams { n: u32, offDy: u32, offGates: u32, offC: u32, offCprev: u32, offDcNext: u32, offDcPrev: u32, offDG: u32 }
@group(0) @binding(3) var<storage, read> dy: array<vec4f>;
@group(0) @binding(4) var<storage, read> gates: array<vec4f>;
@group(0) @binding(5) var<storage, read> cAll: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> dcAll: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> dG: array<vec4f>;
@group(0) @binding(8) var<uniform> q: CellBackParams;

fn mm_store(z: u32, m: u32, n0: u32, acc: vec4f) {
  if (n0 >= p.N) { return; }
  let e = m * q.n + z * p.strideC + n0; // element index of the first unit in a [B, n] slice
  var dm = acc;
  if (ADD_DY) { dm += dy[(q.offDy + e) / 4u]; }
  let c = cAll[(q.offC + e) / 4u];
  let cp = cAll[(q.offCprev + e) / 4u];
  var dcn = vec4f(0.0);
  if (HAS_DC_NEXT) { dcn = dcAll[(q.offDcNext + e) / 4u]; }
  let gi = q.offGates / 4u + e; // unit e's gates (one vec4 per unit)
  let r0 = cellGrad(gates[gi], c.x, cp.x, dm.x, dcn.x);
  let r1 = cellGrad(gates[gi + 1u], c.y, cp.y, dm.y, dcn.y);
  let r2 = cellGrad(gates[gi + 2u], c.z, cp.z, dm.z, dcn.z);
  let r3 = cellGrad(gates[gi + 3u], c.w, cp.w, dm.w, dcn.w);
  let di = q.offDG / 4u + e;
  dG[di] = r0.dG;
  dG[di + 1u] = r1.dG;
  dG[di + 2u] = r2.dG;
  dG[di + 3u] = r3.dG;
  dcAll[(q.offDcPrev + e) / 4u] = vec4f(r0.dcPrev, r1.dcPrev, r2.dcPrev, r3.dcPrev);
}
