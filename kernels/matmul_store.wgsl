// matmul_store.wgsl: the plain store epilogue of the matmul cores (the contract:
// kernels/matmul_contract.wgsl). For the columns n0..n0+3 of a row:
//   v = act(alpha*acc + bias[offBias + z*strideBias + n] if HAS_BIAS)
//   C(m, n) = c[offC + z*strideC + m*ldc + n] = v, or += v if ACCUM
// ACT: 0 none, 1 sigmoid, 2 tanh, 3 relu (sigmoid4 and tanh_clamped4 from math.wgsl, composed in front).
// Bindings 3 bias (a dummy when !HAS_BIAS) and 4 c and their four-column accessors
// (loadBias4, loadC4, storeC4) come from matmul_store_io_vec4.wgsl where the host has checked
// the vec4 alignment, else from matmul_store_io_scalar.wgsl.
// Reference: src/ref/matmul.ts `matmulRef`.
override HAS_BIAS: bool = false;
override ACT: u32 = 0u;
override ACCUM: bool = false;

fn activate(v: vec4f) -> vec4f {
  switch ACT {
    case 1u: { return sigmoid4(v); }
    case 2u: { return tanh_clamped4(v); }
    case 3u: { return max(v, vec4f(0.0)); }
    default: { return v; }
  }
}

fn mm_store(z: u32, m: u32, n0: u32, acc: vec4f) {
  if (n0 >= p.N) { return; }
  let at = p.offC + z * p.strideC + m * p.ldc + n0;
  var v = p.alpha * acc;
  if (HAS_BIAS) { v += loadBias4(p.offBias + z * p.strideBias + n0, n0); }
  v = activate(v);
  if (ACCUM) { v += loadC4(at, n0); }
  storeC4(at, n0, v);
}
