// matmul_shared.wgsl: C[z] = epilogue(A[z] · B[z]) with shared-memory tiles, for real GPUs,
// which reward data reuse through workgroup memory (software drivers punish its barriers).
// A workgroup of 16x16 invocations computes a 64x64 block of C, each invocation a 4x4
// sub-block (rows ty + 16i, columns tx + 16j: neighbouring invocations touch neighbouring
// columns). K advances in tiles of 16: the workgroup stages a 64x16 slice of A and a 16x64
// slice of B in shared memory (zero-padded at the edges), then each invocation runs 16
// rank-1 updates from registers. Any sizes, strides and transposes.
// Layout and epilogue as matmul_scalar.wgsl.
// Bindings: 0 uniform Params, 1 a, 2 b, 3 bias, 4 c.
// Dispatch: (ceil(N / 64), ceil(M / 64), batch).
// Reference: src/ref/matmul.ts `matmulRef`.
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override ACT: u32 = 0u;
override ACCUM: bool = false;

const TILE = 64u;
const TK = 16u;

struct Params {
  M: u32, N: u32, K: u32, lda: u32,
  ldb: u32, ldc: u32, strideA: u32, strideB: u32,
  strideC: u32, strideBias: u32, alpha: f32, offA: u32,
  offB: u32, offC: u32, offBias: u32, pad: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

var<workgroup> As: array<array<f32, 64>, 16>; // As[k][m]
var<workgroup> Bs: array<array<f32, 64>, 16>; // Bs[k][n]

fn readA(base: u32, m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  if (TRANS_A) { return a[base + k * p.lda + m]; }
  return a[base + m * p.lda + k];
}

fn readB(base: u32, k: u32, n: u32) -> f32 {
  if (k >= p.K || n >= p.N) { return 0.0; }
  if (TRANS_B) { return b[base + n * p.ldb + k]; }
  return b[base + k * p.ldb + n];
}

fn activate(v: f32) -> f32 {
  switch ACT {
    case 1u: { return 1.0 / (1.0 + exp(-v)); }
    case 2u: { return tanh(v); }
    case 3u: { return max(v, 0.0); }
    default: { return v; }
  }
}

fn writeC(z: u32, m: u32, n: u32, acc: f32) {
  var v = p.alpha * acc;
  if (HAS_BIAS) { v += bias[p.offBias + z * p.strideBias + n]; }
  v = activate(v);
  let i = p.offC + z * p.strideC + m * p.ldc + n;
  if (ACCUM) { v += c[i]; }
  c[i] = v;
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
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    // 256 invocations stage 1024 values of each tile: 4 apiece.
    for (var i = 0u; i < 4u; i++) {
      let e = flat + i * 256u;
      // A tile: (m, k) with m fastest when A is transposed (contiguous in m), else k fastest.
      if (TRANS_A) {
        let m = e % TILE; let k = e / TILE;
        As[k][m] = readA(baseA, mBase + m, k0 + k);
      } else {
        let k = e % TK; let m = e / TK;
        As[k][m] = readA(baseA, mBase + m, k0 + k);
      }
      if (TRANS_B) {
        let k = e % TK; let n = e / TK;
        Bs[k][n] = readB(baseB, k0 + k, nBase + n);
      } else {
        let n = e % TILE; let k = e / TILE;
        Bs[k][n] = readB(baseB, k0 + k, nBase + n);
      }
    }
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) {
        av[i] = As[k][ty + 16u * i];
        bv[i] = Bs[k][tx + 16u * i];
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) {
          acc[i][j] += av[i] * bv[j];
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = mBase + ty + 16u * i;
    if (m >= p.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = nBase + tx + 16u * j;
      if (n < p.N) { writeC(z, m, n, acc[i][j]); }
    }
  }
}
