// Generated from the uniform structs of kernels/*.wgsl by `npm run gen:uniforms`: do not edit.
// test/kernel-uniforms.test.ts fails when this file and the kernels disagree.
//
// Per kernel file, its uniform bindings, each with the fields a call site passes (padding
// fields excluded: they are written 0). u32, i32 and f32 fields are all numbers here; the
// run-time packing checks that a u32 or i32 value is an integer in range.
export interface KernelFileUniforms {
  binary: { 0: { n: number; na: number; nb: number } };
  broadcast: { 0: { outer: number; len: number; inner: number; alpha: number } };
  cast_to_f16: { 0: { n4: number } };
  cast_to_f32: { 0: { n4: number } };
  dropout: { 0: { n: number; seed: number; threshold: number; scale: number; chunk: number; globalChunk: number; offset: number } };
  embedding: { 0: { n: number; d: number; v: number } };
  embedding_backward: { 0: { n: number; d: number; u: number } };
  lstm_cell_backward: { 0: { count: number; n: number; offDm: number; offGates: number; offC: number; offCprev: number; offDcNext: number; offDcPrev: number } };
  lstm_cell_backward_store: { 8: { n: number; offDy: number; offGates: number; offC: number; offCprev: number; offDcNext: number; offDcPrev: number; offDG: number } };
  lstm_cell_grad: {};
  lstm_cell_store: { 7: { n: number; ldAdd: number; offAdd: number; offCprev: number; offGates: number; offC: number; offM: number } };
  math: {};
  matmul_contract: { 0: { M: number; N: number; K: number; lda: number; ldb: number; ldc: number; strideA: number; strideB: number; strideC: number; strideBias: number; alpha: number; offA: number; offB: number; offC: number; offBias: number } };
  matmul_reg_vec4: {};
  matmul_scalar: {};
  matmul_shared: {};
  matmul_store: {};
  matmul_store_io_scalar: {};
  matmul_store_io_vec4: {};
  matmul_subgroup: {};
  optim_adagrad: { 0: { n: number; d: number; lr: number; eps: number; clipped: number } };
  optim_adam: { 0: { n: number; d: number; lr: number; beta1: number; beta2: number; omb1: number; omb2: number; eps: number; clipped: number } };
  optim_norm_finalize: { 0: { nClip: number; nTotal: number; maxNorm: number; mode: number; beta1: number; beta2: number } };
  optim_scale_grad: { 0: { n: number } };
  optim_sgd: { 0: { n: number; d: number; lr: number; momentum: number; clipped: number } };
  optim_sqnorm: { 0: { n: number; chunk: number; offset: number } };
  optim_stats: {};
  optim_update: {};
  reduce_rows: { 0: { outer: number; len: number; inner: number; alpha: number } };
  reduce_tree: { 0: { outer: number; len: number; inner: number; alpha: number } };
  softmax_ce_grad: { 0: { units: number; c: number; invN: number; lo: number; hi: number } };
  softmax_ce_rows: { 0: { n: number; c: number; invN: number; badBits: number; lo: number; hi: number } };
  softmax_ce_tree: { 0: { n: number; c: number; invN: number; badBits: number; lo: number; hi: number } };
  unary: { 0: { n: number; alpha: number; beta: number } };
  unary_backward: { 0: { n: number; alpha: number; beta: number } };
}
