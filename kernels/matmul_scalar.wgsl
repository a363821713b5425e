// matmul_scalar.wgsl: C[z] = epilogue(A[z] · B[z]) for any sizes, strides and transposes.
// Barrier-free: each invocation owns a 4x4 block of C and reads A and B with scalar loads,
// clamping indices at the edges (no branch in the inner loop). The generic fallback.
//   A(m, k) = a[offA + z*strideA + (TRANS_A ? k*lda + m : m*lda + k)]
//   B(k, n) = b[offB + z*strideB + (TRANS_B ? n*ldb + k : k*ldb + n)]
// Epilogue: this file is a matmul *core*, compiled with a store epilogue that defines
// mm_store and bindings 3 and up (the contract: kernels/matmul_contract.wgsl).
// Bindings: 0 uniform Params, 1 a, 2 b; 3.. the epilogue's.
// Dispatch: (ceil(N / (4*WG_X)), ceil(M / (4*WG_Y)), batch).
// Reference: src/ref/matmul.ts `matmulRef`.
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

// Params (binding 0), the operand loaders ldA/ldB (bindings 1, 2) and the store hook:
// kernels/matmul_contract.wgsl, composed with this core by src/ops/matmul_kernel.ts.

fn readA(base: u32, m: u32, k: u32) -> f32 {
  if (TRANS_A) { return ldA(base + k * p.lda + m); }
  return ldA(base + m * p.lda + k);
}

fn readB(base: u32, k: u32, n: u32) -> f32 {
  if (TRANS_B) { return ldB(base + n * p.ldb + k); }
  return ldB(base + k * p.ldb + n);
}



@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n0 = gid.x * 4u;
  let m0 = gid.y * 4u;
  let z = gid.z;
  if (n0 >= p.N || m0 >= p.M) { return; }
  let baseA = p.offA + z * p.strideA;
  let baseB = p.offB + z * p.strideB;
  // Clamped indices: edge invocations compute on repeated rows/columns and skip those stores.
  var rows: array<u32, 4>;
  var cols: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) {
    rows[i] = min(m0 + i, p.M - 1u);
    cols[i] = min(n0 + i, p.N - 1u);
  }
  var acc: array<vec4f, 4>;
  for (var k = 0u; k < p.K; k++) {
    let bv = vec4f(readB(baseB, k, cols[0]), readB(baseB, k, cols[1]), readB(baseB, k, cols[2]), readB(baseB, k, cols[3]));
    acc[0] += readA(baseA, rows[0], k) * bv;
    acc[1] += readA(baseA, rows[1], k) * bv;
    acc[2] += readA(baseA, rows[2], k) * bv;
    acc[3] += readA(baseA, rows[3], k) * bv;
  }
  for (var i = 0u; i < 4u; i++) {
    if (m0 + i >= p.M) { break; }
    mm_store(z, m0 + i, n0, acc[i]);
  }
}
