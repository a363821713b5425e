// lstm_cell_grad.wgsl: the backward of one LSTM cell unit, shared by the standalone kernel
// (lstm_cell_backward.wgsl) and the store epilogue that fuses it into the product giving
// dm (lstm_cell_backward_store.wgsl). From the gradient reaching m_t (dm), the cell
// gradient from step t+1 (dcNext; 0 at the last step), the unit's saved post-activation
// gates g4 = (i, f, g, o), c_t and c_{t-1}:
//   dc = dcNext + dm * o * (1 - tanh(c)^2)
//   dG = (dc*g * i(1-i), dc*c_{t-1} * f(1-f), dc*i * (1-g^2), dm*tanh(c) * o(1-o))  (pre-activation)
//   dcPrev = dc * f
// tanh_clamped comes from math.wgsl, composed in front.
// Reference: src/ref/lstm.ts `lstmBackwardRef` (one step).
struct CellGrad { dG: vec4f, dcPrev: f32 }

fn cellGrad(g4: vec4f, c: f32, cPrev: f32, dm: f32, dcNext: f32) -> CellGrad {
  let i = g4.x;
  let f = g4.y;
  let g = g4.z;
  let o = g4.w;
  let tc = tanh_clamped(c);
  let dc = dcNext + dm * o * (1.0 - tc * tc);
  return CellGrad(vec4f(dc * g * i * (1.0 - i), dc * cPrev * f * (1.0 - f), dc * i * (1.0 - g * g), dm * tc * o * (1.0 - o)), dc * f);
}
