// matmul_store.wgsl: the plain store epilogue of the matmul cores (matmul_scalar,
// matmul_reg_vec4, matmul_subgroup, matmul_shared), appended to one of them at pipeline
// creation (src/ops/matmul_kernel.ts). For each column n of the block:
//   v = act(alpha*acc + bias[offBias + z*strideBias + n] if HAS_BIAS)
//   C(m, n) = c[offC + z*strideC + m*ldc + n] = v, or += v if ACCUM
// ACT: 0 none, 1 sigmoid, 2 tanh, 3 relu.
// Bindings: 3 bias (a dummy when !HAS_BIAS), 4 c.
// Reference: src/ref/matmul.ts `matmulRef`.
override HAS_BIAS: bool = false;
override ACT: u32 = 0u;
override ACCUM: bool = false;

@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

fn activate(v: f32) -> f32 {
  switch ACT {
    case 1u: { return 1.0 / (1.0 + exp(-v)); }
    case 2u: { return tanh(clamp(v, -15.0, 15.0)); }
    case 3u: { return max(v, 0.0); }
    default: { return v; }
  }
}

fn mm_store(z: u32, m: u32, n0: u32, acc: vec4f) {
  let row = p.offC + z * p.strideC + m * p.ldc;
  for (var j = 0u; j < 4u; j++) {
    let n = n0 + j;
    if (n >= p.N) { return; }
    var v = p.alpha * acc[j];
    if (HAS_BIAS) { v += bias[p.offBias + z * p.strideBias + n]; }
    v = activate(v);
    if (ACCUM) { v += c[row + n]; }
    c[row + n] = v;
  }
}
