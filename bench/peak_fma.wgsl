// peak_fma.wgsl: the adapter's arithmetic ceiling (bench/ceilings.ts). Each invocation runs
// two independent vec4 fma chains (8 scalar chains), 16 steps per loop iteration written out
// (a software driver pays its loop and mask bookkeeping per iteration; a loop of one step
// measures that, not the FMA units), ITERS iterations: 2 x 4 lanes x 2 FLOPs x 16 = 256 FLOPs
// per iteration, and one vec4 store at the end (the sum, so that no chain is dead code). The
// chains start from the invocation id and the multiplier and addend come from a uniform, so
// the compiler can fold nothing. More chains did not help: on lavapipe (8-wide AVX2 over
// invocations, every vec4 component a register) 4 or 8 vec4 chains spill and run slower.
// Bindings: 0 uniform {n, pad, mul, add}, 1 out (vec4 per invocation).
// Dispatch: ceil(n / 256) workgroups of 256, folded into (x, y).
override ITERS: u32 = 64;

struct Params { n: u32, pad: u32, mul: f32, add: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4f>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let f = f32(i & 1023u) * 1e-4;
  let m = vec4f(p.mul);
  let c = vec4f(p.add);
  var a0 = vec4f(f, f + 0.1, f + 0.2, f + 0.3);
  var a1 = a0 + 0.05;
  for (var k = 0u; k < ITERS; k++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
  }
  out[i] = a0 + a1;
}
