// matmul_shared.wgsl: the matmul core with shared-memory tiles, for real GPUs, which reward
// data reuse through workgroup memory (software drivers punish its barriers).
// A workgroup of 16x16 invocations computes a 64x64 block of C; each invocation a 4x4
// sub-block: rows ty + 16i, columns 4tx .. 4tx+3 (four consecutive columns, so the store
// hook sees whole vec4s, e.g. the four gates of one LSTM unit). K advances in tiles of 16:
// the workgroup stages a 64x16 slice of A and a 16x64 slice of B in shared memory
// (zero-padded at the edges), then each invocation runs 16 rank-1 updates from registers.
// Any sizes, strides and transposes.
//   A(m, k) = a[offA + z*strideA + (TRANS_A ? k*lda + m : m*lda + k)]
//   B(k, n) = b[offB + z*strideB + (TRANS_B ? n*ldb + k : k*ldb + n)]
// Store hook: mm_store(z, m, n0, v), as described in matmul_scalar.wgsl.
// Bindings: 0 uniform Params, 1 a, 2 b; 3.. the epilogue's.
// Dispatch: (ceil(N / 64), ceil(M / 64), batch).
// Reference: src/ref/matmul.ts `matmulRef`.
override TRANS_A: bool = false;
override TRANS_B: bool = false;

const TILE = 64u;
const TK = 16u;

// Params (binding 0), the operand loaders ldA/ldB (bindings 1, 2) and the store hook:
// kernels/matmul_contract.wgsl, composed with this core by src/ops/matmul_kernel.ts.

var<workgroup> As: array<array<f32, 64>, 16>;   // As[k][m]
var<workgroup> Bs: array<array<vec4f, 16>, 16>; // Bs[k][n / 4]

fn readA(base: u32, m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  if (TRANS_A) { return ldA(base + k * p.lda + m); }
  return ldA(base + m * p.lda + k);
}

fn readB(base: u32, k: u32, n: u32) -> f32 {
  if (k >= p.K || n >= p.N) { return 0.0; }
  if (TRANS_B) { return ldB(base + n * p.ldb + k); }
  return ldB(base + k * p.ldb + n);
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let z = wid.z;
  let mBase = wid.y * TILE;
  let nBase = wid.x * TILE;
  let baseA = p.offA + z * p.strideA;
  let baseB = p.offB + z * p.strideB;
  let tx = lid.x;
  let ty = lid.y;
  let flat = ty * 16u + tx;
  var acc: array<vec4f, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    // 256 invocations stage 1024 values of each tile: 4 apiece, along the stored
    // contiguous axis so that neighbouring invocations read neighbouring memory.
    for (var i = 0u; i < 4u; i++) {
      let e = flat + i * 256u;
      if (TRANS_A) {
        let m = e % TILE; let k = e / TILE;
        As[k][m] = readA(baseA, mBase + m, k0 + k);
      } else {
        let k = e % TK; let m = e / TK;
        As[k][m] = readA(baseA, mBase + m, k0 + k);
      }
      if (TRANS_B) {
        let k = e % TK; let n = e / TK;
        Bs[k][n / 4u][n % 4u] = readB(baseB, k0 + k, nBase + n);
      } else {
        let n = e % TILE; let k = e / TILE;
        Bs[k][n / 4u][n % 4u] = readB(baseB, k0 + k, nBase + n);
      }
    }
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let bv = Bs[k][tx];
      for (var i = 0u; i < 4u; i++) {
        acc[i] += As[k][ty + 16u * i] * bv;
      }
    }
    workgroupBarrier();
  }
  let n0 = nBase + 4u * tx;
  if (n0 >= p.N) { return; }
  for (var i = 0u; i < 4u; i++) {
    let m = mBase + ty + 16u * i;
    if (m >= p.M) { break; }
    mm_store(z, m, n0, acc[i]);
  }
}
