// probe_matmul_loads.wgsl: what bounds kernels/matmul_subgroup.wgsl on a software driver.
// The same work as that kernel (16 rows x 4 columns per lane, A shared between the 8 SIMD
// lanes by subgroupBroadcast, C = A·B with A [M, K] and B [K, N] row-major), except that A
// and/or B can be generated in registers from their indices instead of loaded:
//   A(m, k) = ((7m + 3k) & 15) / 100   when !LOAD_A
//   B(k, n) = ((5k + 11n) & 15) / 100  when !LOAD_B
// (a mask, not a modulo: the generation must cost far less than the load it replaces).
// The result is still a product (of the generated matrices), so bench/matmul_limits.ts checks
// every variant against float64. With both loaded it times the real kernel's loop; with
// neither, the multiply-adds and broadcasts alone. It copies that kernel's non-transposed loop
// (WGSL has no includes): keep the two in step. Needs M % 16 == 0, N % 128 == 0, K % 4 == 0.
// Bindings: 0 uniform {M, N, K, pad}, 1 a, 2 b (vec4), 3 c (vec4).
// Dispatch: (N / 128, M / 16, 1), workgroup (32, 1, 1).
enable subgroups;

override LOAD_A: bool = true;
override LOAD_B: bool = true;

struct Params { M: u32, N: u32, K: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4f>;
@group(0) @binding(2) var<storage, read> b: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4f>;

fn genA(m: u32, k: u32) -> vec4f {
  let s = 7u * m + 3u * k;
  return vec4f(vec4u(s, s + 3u, s + 6u, s + 9u) & vec4u(15u)) * 0.01;
}

fn genB(k: u32, n: u32) -> vec4f {
  let s = 5u * k + 11u * n;
  return vec4f(vec4u(s, s + 11u, s + 22u, s + 33u) & vec4u(15u)) * 0.01;
}

fn loadA(m: u32, k: u32) -> vec4f {
  if (LOAD_A) { return a[(m * p.K + k) / 4u]; }
  return genA(m, k);
}

fn loadB(k: u32, n: u32) -> vec4f {
  if (LOAD_B) { return b[(k * p.N + n) / 4u]; }
  return genB(k, n);
}

struct Rows8 { r0: vec4f, r1: vec4f, r2: vec4f, r3: vec4f, r4: vec4f, r5: vec4f, r6: vec4f, r7: vec4f }

fn rank4(acc: vec4f, ar: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> vec4f {
  return acc + ar.x * b0 + ar.y * b1 + ar.z * b2 + ar.w * b3;
}

fn step8(acc: Rows8, av: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> Rows8 {
  var r: Rows8;
  r.r0 = rank4(acc.r0, subgroupBroadcast(av, 0u), b0, b1, b2, b3);
  r.r1 = rank4(acc.r1, subgroupBroadcast(av, 1u), b0, b1, b2, b3);
  r.r2 = rank4(acc.r2, subgroupBroadcast(av, 2u), b0, b1, b2, b3);
  r.r3 = rank4(acc.r3, subgroupBroadcast(av, 3u), b0, b1, b2, b3);
  r.r4 = rank4(acc.r4, subgroupBroadcast(av, 4u), b0, b1, b2, b3);
  r.r5 = rank4(acc.r5, subgroupBroadcast(av, 5u), b0, b1, b2, b3);
  r.r6 = rank4(acc.r6, subgroupBroadcast(av, 6u), b0, b1, b2, b3);
  r.r7 = rank4(acc.r7, subgroupBroadcast(av, 7u), b0, b1, b2, b3);
  return r;
}

fn store8(r0: u32, n0: u32, acc: Rows8) {
  let q = p.N / 4u;
  let v = array<vec4f, 8>(acc.r0, acc.r1, acc.r2, acc.r3, acc.r4, acc.r5, acc.r6, acc.r7);
  for (var i = 0u; i < 8u; i++) { c[(r0 + i) * q + n0 / 4u] = v[i]; }
}

@compute @workgroup_size(32, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u,
        @builtin(subgroup_invocation_id) sid: u32) {
  let n0 = gid.x * 4u;
  let m0 = wid.y * 16u;
  let lane = sid % 8u;
  var lo: Rows8;
  var hi: Rows8;
  for (var k = 0u; k < p.K; k += 4u) {
    let b0 = loadB(k, n0); let b1 = loadB(k + 1u, n0);
    let b2 = loadB(k + 2u, n0); let b3 = loadB(k + 3u, n0);
    lo = step8(lo, loadA(m0 + lane, k), b0, b1, b2, b3);
    hi = step8(hi, loadA(m0 + 8u + lane, k), b0, b1, b2, b3);
  }
  store8(m0, n0, lo);
  store8(m0 + 8u, n0, hi);
}
