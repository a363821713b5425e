// matmul_subgroup.wgsl: C[z] = epilogue(A[z] · B[z]) for software drivers with subgroups
// (lavapipe: a subgroup is the 8 SIMD lanes of one CPU vector). No workgroup memory, no
// barriers. Each invocation owns an 8x4 block of C: 8 rows shared by the whole workgroup
// (rows depend only on the workgroup id) and 4 columns of its own. Per 4 steps of k, each
// lane loads one vec4 of A and the lanes exchange them with subgroupBroadcast (register
// moves), so A costs one load per lane instead of eight; B costs four vec4 loads per lane.
// That is 128 FMAs per 5 vec4 loads, where matmul_reg_vec4 does 64 per 8.
// Layout and store hook (mm_store) as matmul_scalar.wgsl:
//   A(m, k) = a[offA + z*strideA + (TRANS_A ? k*lda + m : m*lda + k)]
//   B(k, n) = b[offB + z*strideB + (TRANS_B ? n*ldb + k : k*ldb + n)]
// Requires: the `subgroups` feature with a subgroup size >= 8; the vec4 alignment of
// matmul_reg_vec4.wgsl (K % 4 == 0; A's and B's contiguous extents, strides and offsets
// multiples of 4). Row and column edges are clamped (loads) and masked (stores).
// Bindings: 0 uniform Params, 1 a (vec4), 2 b (vec4); 3.. the epilogue's.
// Dispatch: (ceil(N / (4*WG_X)), ceil(M / 8), batch), workgroup (WG_X, 1, 1).
// Reference: src/ref/matmul.ts `matmulRef`.
enable subgroups;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override WG_X: u32 = 32u;

struct Params {
  M: u32, N: u32, K: u32, lda: u32,
  ldb: u32, ldc: u32, strideA: u32, strideB: u32,
  strideC: u32, strideBias: u32, alpha: f32, offA: u32,
  offB: u32, offC: u32, offBias: u32, pad: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4f>;
@group(0) @binding(2) var<storage, read> b: array<vec4f>;



// acc += ar.x * B(k, :) + ar.y * B(k+1, :) + ...  (ar: one row of A over 4 values of k)
fn rank4(acc: vec4f, ar: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> vec4f {
  if (TRANS_B) {
    // b_c holds B(k..k+3, n0+c): one dot product per output column.
    return acc + vec4f(dot(ar, b0), dot(ar, b1), dot(ar, b2), dot(ar, b3));
  }
  return acc + ar.x * b0 + ar.y * b1 + ar.z * b2 + ar.w * b3;
}

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u,
        @builtin(subgroup_invocation_id) sid: u32) {
  let n0 = gid.x * 4u;
  let m0 = wid.y * 8u;
  let z = wid.z;
  let lane = sid % 8u;
  let baseA = p.offA + z * p.strideA;
  let baseB = p.offB + z * p.strideB;
  let lda4 = p.lda / 4u;
  let ldb4 = p.ldb / 4u;

  // This lane's share of the 8 x 4 block of A loaded per step.
  var ia: u32;
  if (TRANS_A) {
    // Stored [K, M]: lane l loads A(m0 + 4(l%2) .. +3, k + l/2), a vec4 along m.
    ia = (baseA + (lane / 2u) * p.lda + min(m0 + 4u * (lane % 2u), p.M - 4u)) / 4u;
  } else {
    // Stored [M, K]: lane l loads A(m0 + l, k .. k+3), a vec4 along k.
    ia = (baseA + min(m0 + lane, p.M - 1u) * p.lda) / 4u;
  }
  // This lane's columns of B.
  var ib0: u32; var ib1: u32; var ib2: u32; var ib3: u32;
  if (TRANS_B) {
    ib0 = (baseB + min(n0 + 0u, p.N - 1u) * p.ldb) / 4u;
    ib1 = (baseB + min(n0 + 1u, p.N - 1u) * p.ldb) / 4u;
    ib2 = (baseB + min(n0 + 2u, p.N - 1u) * p.ldb) / 4u;
    ib3 = (baseB + min(n0 + 3u, p.N - 1u) * p.ldb) / 4u;
  } else {
    ib0 = (baseB + min(n0, p.N - 4u)) / 4u;
  }

  var acc0 = vec4f(0.0); var acc1 = vec4f(0.0); var acc2 = vec4f(0.0); var acc3 = vec4f(0.0);
  var acc4 = vec4f(0.0); var acc5 = vec4f(0.0); var acc6 = vec4f(0.0); var acc7 = vec4f(0.0);
  for (var k = 0u; k < p.K; k += 4u) {
    let av = a[ia];
    var b0: vec4f; var b1: vec4f; var b2: vec4f; var b3: vec4f;
    if (TRANS_B) {
      b0 = b[ib0]; b1 = b[ib1]; b2 = b[ib2]; b3 = b[ib3];
      ib0 += 1u; ib1 += 1u; ib2 += 1u; ib3 += 1u;
    } else {
      b0 = b[ib0]; b1 = b[ib0 + ldb4]; b2 = b[ib0 + 2u * ldb4]; b3 = b[ib0 + 3u * ldb4];
      ib0 += 4u * ldb4;
    }
    if (TRANS_A) {
      ia += 4u * lda4;
      // Row r, step i lives in lane 2i + r/4, component r%4.
      let l0 = subgroupBroadcast(av, 0u); let l1 = subgroupBroadcast(av, 1u);
      let l2 = subgroupBroadcast(av, 2u); let l3 = subgroupBroadcast(av, 3u);
      let l4 = subgroupBroadcast(av, 4u); let l5 = subgroupBroadcast(av, 5u);
      let l6 = subgroupBroadcast(av, 6u); let l7 = subgroupBroadcast(av, 7u);
      acc0 = rank4(acc0, vec4f(l0.x, l2.x, l4.x, l6.x), b0, b1, b2, b3);
      acc1 = rank4(acc1, vec4f(l0.y, l2.y, l4.y, l6.y), b0, b1, b2, b3);
      acc2 = rank4(acc2, vec4f(l0.z, l2.z, l4.z, l6.z), b0, b1, b2, b3);
      acc3 = rank4(acc3, vec4f(l0.w, l2.w, l4.w, l6.w), b0, b1, b2, b3);
      acc4 = rank4(acc4, vec4f(l1.x, l3.x, l5.x, l7.x), b0, b1, b2, b3);
      acc5 = rank4(acc5, vec4f(l1.y, l3.y, l5.y, l7.y), b0, b1, b2, b3);
      acc6 = rank4(acc6, vec4f(l1.z, l3.z, l5.z, l7.z), b0, b1, b2, b3);
      acc7 = rank4(acc7, vec4f(l1.w, l3.w, l5.w, l7.w), b0, b1, b2, b3);
    } else {
      ia += 1u;
      acc0 = rank4(acc0, subgroupBroadcast(av, 0u), b0, b1, b2, b3);
      acc1 = rank4(acc1, subgroupBroadcast(av, 1u), b0, b1, b2, b3);
      acc2 = rank4(acc2, subgroupBroadcast(av, 2u), b0, b1, b2, b3);
      acc3 = rank4(acc3, subgroupBroadcast(av, 3u), b0, b1, b2, b3);
      acc4 = rank4(acc4, subgroupBroadcast(av, 4u), b0, b1, b2, b3);
      acc5 = rank4(acc5, subgroupBroadcast(av, 5u), b0, b1, b2, b3);
      acc6 = rank4(acc6, subgroupBroadcast(av, 6u), b0, b1, b2, b3);
      acc7 = rank4(acc7, subgroupBroadcast(av, 7u), b0, b1, b2, b3);
    }
  }
  // Stores only after the loop: every lane took part in every broadcast.
  if (n0 >= p.N) { return; }
  let acc = array<vec4f, 8>(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7);
  for (var i = 0u; i < 8u; i++) {
    if (m0 + i >= p.M) { break; }
    mm_store(z, m0 + i, n0, acc[i]);
  }
}
