// matmul_contract.wgsl: what a matmul core and its store epilogue share. Every matmul kernel
// is composed (src/ops/matmul_kernel.ts `withEpilogue`) as
//   core (matmul_scalar | matmul_reg_vec4 | matmul_subgroup | matmul_shared)
//   + this file + the operand loaders (generated: f32 or f16 operands) + an epilogue
// The core owns bindings 0..2:
//   0  p: Params (below), one product's sizes, strides and offsets, in elements
//   1  a, read through fn ldA(i: u32) -> f32 (scalar cores) or -> vec4f (vec4 cores; i in vec4s)
//   2  b, read through fn ldB(i: u32), likewise
//   A(m, k) = a[offA + z*strideA + (TRANS_A ? k*lda + m : m*lda + k)]
//   B(k, n) = b[offB + z*strideB + (TRANS_B ? n*ldb + k : k*ldb + n)]
// The epilogue owns bindings 3 and up and defines
//   fn mm_store(z: u32, m: u32, n0: u32, acc: vec4f)
// which the core calls once per row m < M of its block with the accumulated values of
// columns n0 .. n0+3 of batch entry z (n0 % 4 == 0, n0 < N; columns at or past N must be
// masked by the store). An epilogue may read any field of p: N (the row's end), ldc,
// strideC, offC (where C lives), strideBias and offBias (its bias), alpha (its scale).
// Epilogues: matmul_store.wgsl (alpha, bias, activation, accumulate; its bindings 3 bias and
// 4 c come from matmul_store_io_scalar.wgsl or matmul_store_io_vec4.wgsl) and
// lstm_cell_store.wgsl (the fused LSTM cell).
// Module-scope declarations in WGSL may come in any order, so this file may follow a core
// that opens with a directive (`enable subgroups;`).
struct Params {
  M: u32, N: u32, K: u32, lda: u32,
  ldb: u32, ldc: u32, strideA: u32, strideB: u32,
  strideC: u32, strideBias: u32, alpha: f32, offA: u32,
  offB: u32, offC: u32, offBias: u32, pad: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
