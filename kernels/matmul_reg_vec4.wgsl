// matmul_reg_vec4.wgsl: C[z] = epilogue(A[z] · B[z]), the barrier-free register-tiled kernel
// for software drivers (lavapipe, SwiftShader), where each invocation is one SIMD lane and
// workgroup barriers are expensive. Each invocation owns a 4x4 block of C and loads A and B
// as vec4 along their contiguous axes; neighbouring invocations read neighbouring vec4s.
// Layout and store hook (mm_store) as matmul_scalar.wgsl:
//   A(m, k) = a[offA + z*strideA + (TRANS_A ? k*lda + m : m*lda + k)]
//   B(k, n) = b[offB + z*strideB + (TRANS_B ? n*ldb + k : k*ldb + n)]
// Requires (checked by src/ops/matmul_kernel.ts): K % 4 == 0; A's contiguous extent
// (TRANS_A ? M : K), lda, strideA and offA multiples of 4; likewise B's (TRANS_B ? K : N),
// ldb, strideB and offB. Other edges are clamped (loads) and masked (stores).
// Bindings: 0 uniform Params, 1 a (vec4), 2 b (vec4); 3.. the epilogue's.
// Dispatch: (ceil(N / (4*WG_X)), ceil(M / (4*WG_Y)), batch).
// Reference: src/ref/matmul.ts `matmulRef`.
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

// Params (binding 0), the operand loaders ldA/ldB (bindings 1, 2) and the store hook:
// kernels/matmul_contract.wgsl, composed with this core by src/ops/matmul_kernel.ts.



@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n0 = gid.x * 4u;
  let m0 = gid.y * 4u;
  let z = gid.z;
  if (n0 >= p.N || m0 >= p.M) { return; }
  let baseA = p.offA + z * p.strideA;
  let baseB = p.offB + z * p.strideB;
  // Row offsets of A (when K runs along rows of A) and of B^T, clamped at the edges.
  var rowA: array<u32, 4>;
  var colB: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) {
    rowA[i] = baseA + min(m0 + i, p.M - 1u) * p.lda;
    colB[i] = baseB + min(n0 + i, p.N - 1u) * p.ldb;
  }
  var acc: array<vec4f, 4>;
  // Running vec4 indices: loads step by a fixed stride per 4 values of k.
  let lda4 = p.lda / 4u;
  let ldb4 = p.ldb / 4u;
  var ia: array<u32, 4>;
  var ib: array<u32, 4>;
  if (TRANS_A) { ia[0] = (baseA + m0) / 4u; } else { for (var i = 0u; i < 4u; i++) { ia[i] = rowA[i] / 4u; } }
  if (TRANS_B) { for (var i = 0u; i < 4u; i++) { ib[i] = colB[i] / 4u; } } else { ib[0] = (baseB + n0) / 4u; }
  for (var k = 0u; k < p.K; k += 4u) {
    var ar: array<vec4f, 4>;
    if (TRANS_A) {
      let ak0 = ldA(ia[0]);
      let ak1 = ldA(ia[0] + lda4);
      let ak2 = ldA(ia[0] + 2u * lda4);
      let ak3 = ldA(ia[0] + 3u * lda4);
      ia[0] += 4u * lda4;
      ar[0] = vec4f(ak0.x, ak1.x, ak2.x, ak3.x);
      ar[1] = vec4f(ak0.y, ak1.y, ak2.y, ak3.y);
      ar[2] = vec4f(ak0.z, ak1.z, ak2.z, ak3.z);
      ar[3] = vec4f(ak0.w, ak1.w, ak2.w, ak3.w);
    } else {
      ar[0] = ldA(ia[0]); ar[1] = ldA(ia[1]); ar[2] = ldA(ia[2]); ar[3] = ldA(ia[3]);
      ia[0] += 1u; ia[1] += 1u; ia[2] += 1u; ia[3] += 1u;
    }
    if (TRANS_B) {
      let bt0 = ldB(ib[0]); let bt1 = ldB(ib[1]); let bt2 = ldB(ib[2]); let bt3 = ldB(ib[3]);
      ib[0] += 1u; ib[1] += 1u; ib[2] += 1u; ib[3] += 1u;
      for (var r = 0u; r < 4u; r++) {
        acc[r] += vec4f(dot(ar[r], bt0), dot(ar[r], bt1), dot(ar[r], bt2), dot(ar[r], bt3));
      }
    } else {
      let bk0 = ldB(ib[0]);
      let bk1 = ldB(ib[0] + ldb4);
      let bk2 = ldB(ib[0] + 2u * ldb4);
      let bk3 = ldB(ib[0] + 3u * ldb4);
      ib[0] += 4u * ldb4;
      for (var r = 0u; r < 4u; r++) {
        acc[r] += ar[r].x * bk0 + ar[r].y * bk1 + ar[r].z * bk2 + ar[r].w * bk3;
      }
    }
  }
  for (var i = 0u; i < 4u; i++) {
    if (m0 + i >= p.M) { break; }
    mm_store(z, m0 + i, n0, acc[i]);
  }
}
