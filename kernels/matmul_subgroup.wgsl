// matmul_subgroup.wgsl: C[z] = epilogue(A[z] · B[z]) for software drivers with subgroups
// (lavapipe: a subgroup is the 8 SIMD lanes of one CPU vector). No workgroup memory, no
// barriers. Each invocation owns a ROWSx4 block of C: ROWS (8 or 16) rows shared by the
// whole workgroup (rows depend only on the workgroup id) and 4 columns of its own. Per 4
// steps of k, each lane loads ROWS/8 vec4s of A and the lanes exchange them with
// subgroupBroadcast (register moves), so A costs one load per lane instead of eight; B
// costs four vec4 loads per lane. ROWS = 16 is 256 FMAs per 6 vec4 loads (8: 128 per 5;
// matmul_reg_vec4: 64 per 8), counted from the loop below.
// Why loads dominate on lavapipe: a load whose address differs between lanes is compiled
// to a loop over the 8 lanes with a bounds check per component (about 25 instructions
// per vec4 per lane), so a vec4 load costs as much as many multiply-adds; how far loads keep
// this loop from the FMA ceiling is measured by `npm run bench:limits`
// (bench/probe_matmul_loads.wgsl; figures in bench/README.md).
// Layout and store hook (mm_store) as matmul_scalar.wgsl:
//   A(m, k) = a[offA + z*strideA + (TRANS_A ? k*lda + m : m*lda + k)]
//   B(k, n) = b[offB + z*strideB + (TRANS_B ? n*ldb + k : k*ldb + n)]
// Requires: the `subgroups` feature with a subgroup size >= 8; the vec4 alignment of
// matmul_reg_vec4.wgsl (K % 4 == 0; A's and B's contiguous extents, strides and offsets
// multiples of 4). Row and column edges are clamped (loads) and masked (stores).
// Bindings: 0 uniform Params, 1 a (vec4), 2 b (vec4); 3.. the epilogue's.
// Dispatch: (ceil(N / (4*WG_X)), ceil(M / ROWS), batch), workgroup (WG_X, 1, 1).
// Reference: src/ref/matmul.ts `matmulRef`.
enable subgroups;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override WG_X: u32 = 32u;
// Rows of C per workgroup: 8 or 16 (16 halves the B loads per FMA; 8 wastes less on short M).
override ROWS: u32 = 16u;

// Params (binding 0), the operand loaders ldA/ldB (bindings 1, 2) and the store hook:
// kernels/matmul_contract.wgsl, composed with this core by src/ops/matmul_kernel.ts.



// acc += ar.x * B(k, :) + ar.y * B(k+1, :) + ...  (ar: one row of A over 4 values of k)
fn rank4(acc: vec4f, ar: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> vec4f {
  if (TRANS_B) {
    // b_c holds B(k..k+3, n0+c): one dot product per output column.
    return acc + vec4f(dot(ar, b0), dot(ar, b1), dot(ar, b2), dot(ar, b3));
  }
  return acc + ar.x * b0 + ar.y * b1 + ar.z * b2 + ar.w * b3;
}

// Where this lane's share of an 8 x 4 block of A (rows r0.., 4 values of k) starts.
fn aIndex(baseA: u32, r0: u32, lane: u32) -> u32 {
  if (TRANS_A) {
    // Stored [K, M]: lane l loads A(r0 + 4(l%2) .. +3, k + l/2), a vec4 along m.
    return (baseA + (lane / 2u) * p.lda + min(r0 + 4u * (lane % 2u), p.M - 4u)) / 4u;
  }
  // Stored [M, K]: lane l loads A(r0 + l, k .. k+3), a vec4 along k.
  return (baseA + min(r0 + lane, p.M - 1u) * p.lda) / 4u;
}

// Eight rows of C, as values (an array here would live in memory on lavapipe).
struct Rows8 { r0: vec4f, r1: vec4f, r2: vec4f, r3: vec4f, r4: vec4f, r5: vec4f, r6: vec4f, r7: vec4f }

// Eight rows of C advanced by 4 steps of k: acc[i] += A(r0 + i, k..k+3) · B(k..k+3, cols),
// where av is this lane's share of the 8 x 4 block of A (see aIndex).
fn step8(acc: Rows8, av: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> Rows8 {
  var r: Rows8;
  let l0 = subgroupBroadcast(av, 0u); let l1 = subgroupBroadcast(av, 1u);
  let l2 = subgroupBroadcast(av, 2u); let l3 = subgroupBroadcast(av, 3u);
  let l4 = subgroupBroadcast(av, 4u); let l5 = subgroupBroadcast(av, 5u);
  let l6 = subgroupBroadcast(av, 6u); let l7 = subgroupBroadcast(av, 7u);
  if (TRANS_A) {
    // Row r, step j lives in lane 2j + r/4, component r%4.
    r.r0 = rank4(acc.r0, vec4f(l0.x, l2.x, l4.x, l6.x), b0, b1, b2, b3);
    r.r1 = rank4(acc.r1, vec4f(l0.y, l2.y, l4.y, l6.y), b0, b1, b2, b3);
    r.r2 = rank4(acc.r2, vec4f(l0.z, l2.z, l4.z, l6.z), b0, b1, b2, b3);
    r.r3 = rank4(acc.r3, vec4f(l0.w, l2.w, l4.w, l6.w), b0, b1, b2, b3);
    r.r4 = rank4(acc.r4, vec4f(l1.x, l3.x, l5.x, l7.x), b0, b1, b2, b3);
    r.r5 = rank4(acc.r5, vec4f(l1.y, l3.y, l5.y, l7.y), b0, b1, b2, b3);
    r.r6 = rank4(acc.r6, vec4f(l1.z, l3.z, l5.z, l7.z), b0, b1, b2, b3);
    r.r7 = rank4(acc.r7, vec4f(l1.w, l3.w, l5.w, l7.w), b0, b1, b2, b3);
  } else {
    // Row r lives in lane r.
    r.r0 = rank4(acc.r0, l0, b0, b1, b2, b3);
    r.r1 = rank4(acc.r1, l1, b0, b1, b2, b3);
    r.r2 = rank4(acc.r2, l2, b0, b1, b2, b3);
    r.r3 = rank4(acc.r3, l3, b0, b1, b2, b3);
    r.r4 = rank4(acc.r4, l4, b0, b1, b2, b3);
    r.r5 = rank4(acc.r5, l5, b0, b1, b2, b3);
    r.r6 = rank4(acc.r6, l6, b0, b1, b2, b3);
    r.r7 = rank4(acc.r7, l7, b0, b1, b2, b3);
  }
  return r;
}

// One row of the block at a time, picked by a switch: one copy of the (inlined) store
// epilogue instead of eight, and no array (an array indexed in a loop lives in memory on
// lavapipe).
fn store8(z: u32, r0: u32, n0: u32, acc: Rows8) {
  for (var i = 0u; i < 8u; i++) {
    if (r0 + i >= p.M) { return; }
    var v: vec4f;
    switch i {
      case 0u: { v = acc.r0; }
      case 1u: { v = acc.r1; }
      case 2u: { v = acc.r2; }
      case 3u: { v = acc.r3; }
      case 4u: { v = acc.r4; }
      case 5u: { v = acc.r5; }
      case 6u: { v = acc.r6; }
      default: { v = acc.r7; }
    }
    mm_store(z, r0 + i, n0, v);
  }
}

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u,
        @builtin(subgroup_invocation_id) sid: u32) {
  let n0 = gid.x * 4u;
  let m0 = wid.y * ROWS;
  let z = wid.z;
  let lane = sid % 8u;
  let baseA = p.offA + z * p.strideA;
  let baseB = p.offB + z * p.strideB;
  let ldb4 = p.ldb / 4u;
  // Per 4 steps of k, A advances 4 elements along a row, or 4 rows of a transposed A.
  let stepA = select(1u, p.lda, TRANS_A);

  var ia0 = aIndex(baseA, m0, lane);
  var ia1 = aIndex(baseA, m0 + 8u, lane);
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

  var lo: Rows8;
  var hi: Rows8;
  for (var k = 0u; k < p.K; k += 4u) {
    var b0: vec4f; var b1: vec4f; var b2: vec4f; var b3: vec4f;
    if (TRANS_B) {
      b0 = ldB(ib0); b1 = ldB(ib1); b2 = ldB(ib2); b3 = ldB(ib3);
      ib0 += 1u; ib1 += 1u; ib2 += 1u; ib3 += 1u;
    } else {
      b0 = ldB(ib0); b1 = ldB(ib0 + ldb4); b2 = ldB(ib0 + 2u * ldb4); b3 = ldB(ib0 + 3u * ldb4);
      ib0 += 4u * ldb4;
    }
    lo = step8(lo, ldA(ia0), b0, b1, b2, b3);
    ia0 += stepA;
    if (ROWS == 16u) {
      hi = step8(hi, ldA(ia1), b0, b1, b2, b3);
      ia1 += stepA;
    }
  }
  // Stores only after the loop: every lane took part in every broadcast.
  if (n0 >= p.N) { return; }
  store8(z, m0, n0, lo);
  if (ROWS == 16u) { store8(z, m0 + 8u, n0, hi); }
}
