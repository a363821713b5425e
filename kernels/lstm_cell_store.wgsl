// lstm_cell_store.wgsl: the fused LSTM cell as the store epilogue of a matmul core
// (appended to matmul_scalar / matmul_reg_vec4 / matmul_subgroup / matmul_shared).
// The core computes the recurrent product of one step, h_{t-1}·Wh (or z_t·W2 for F-LSTM),
// batched over G-LSTM groups (z = group). Gate columns are interleaved per unit: column
// 4u+q of the gate matrix is gate q of cell unit u, q = 0 i, 1 f, 2 g, 3 o, so the vec4
// a core hands to mm_store at column n0 holds the four gates of unit n0/4 of its group.
// For batch row m and global gate column gc = z*strideC + n0 (strideC: gate columns per
// group), unit u = gc/4:
//   pre = acc + addend[offAdd + m*ldAdd + gc .. +3]   (the input half U_t = x_t·Wx + b, or
//                                                     the bias alone when ldAdd = 0)
//   i = sigmoid(pre.x), f = sigmoid(pre.y + FORGET_BIAS), g = tanh(pre.z), o = sigmoid(pre.w)
//   c = f * cState[offCprev + m*n + u] + i*g;  m_t = o * tanh(c)
//   gates[offGates + m*4n + gc ..] = (i, f, g, o);  cState[offC + m*n + u] = c;  mOut[offM + m*n + u] = m_t
// c_{t-1} and c_t live in one buffer (slots t and t+1 of [T+1, B, n]): WebGPU forbids binding
// one buffer both read-only and writable in a dispatch, so both go through one binding.
// Bindings: 3 addend, 4 cState, 5 gates, 6 mOut, 7 uniform CellParams. addend and gates are
// read and written as vec4s, one unit's four gates each: their offsets, ldAdd and gc are
// multiples of 4 by construction (src/ops/lstm.ts), and one vec4 access costs a software
// driver about what one scalar access does.
// sigmoid and tanh_clamped come from math.wgsl; FORGET_BIAS (f32, the forget gate's +1) is
// declared by src/ops/lstm_kernels.ts from src/ref/lstm_convention.ts, both composed in front.
// Reference: src/ref/lstm.ts `lstmForwardRef` (one step).

struct CellParams { n: u32, ldAdd: u32, offAdd: u32, offCprev: u32, offGates: u32, offC: u32, offM: u32, pad: u32 }
@group(0) @binding(3) var<storage, read> addend: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> cState: array<f32>;
@group(0) @binding(5) var<storage, read_write> gates: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> mOut: array<f32>;
@group(0) @binding(7) var<uniform> q: CellParams;

fn mm_store(z: u32, m: u32, n0: u32, acc: vec4f) {
  let gc = z * p.strideC + n0;
  let u = gc / 4u;
  let pre = acc + addend[(q.offAdd + m * q.ldAdd + gc) / 4u];
  let i = sigmoid(pre.x);
  let f = sigmoid(pre.y + FORGET_BIAS);
  let g = tanh_clamped(pre.z);
  let o = sigmoid(pre.w);
  let c = f * cState[q.offCprev + m * q.n + u] + i * g;
  gates[(q.offGates + m * 4u * q.n + gc) / 4u] = vec4f(i, f, g, o);
  cState[q.offC + m * q.n + u] = c;
  mOut[q.offM + m * q.n + u] = o * tanh_clamped(c);
}
