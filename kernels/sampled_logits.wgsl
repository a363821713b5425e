// sampled_logits.wgsl: the corrected, masked logits of sampled softmax. Candidates are the
// union of the shared samples and the batch's targets (one column each, deduplicated, so an
// accidental hit, a sample equal to the row's target, is the target's one column). Row i
// may use column j when j holds a sample or j is its own target; every other column (other
// rows' targets that were not sampled) is masked out:
//   out[i, j] = valid ? logits[i, j] - logQ[j] : -1e30      (logQ: log expected count)
// Backward (BACKWARD = true): dlogits[i, j] = valid ? g[i, j] : 0.
// Bindings: 0 uniform {N, U}, 1 src (logits, or g), 2 logQ [U], 3 inSample [U] (u32 0/1),
// 4 tcol [N] (i32: the target's column), 5 out.
// Dispatch: ceil(N*U / 256) workgroups of 256, folded into (x, y).
// Reference: src/ref/sampled_softmax.ts `sampledLogitsRef`.
override BACKWARD: bool = false;

struct Params { N: u32, U: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> logQ: array<f32>;
@group(0) @binding(3) var<storage, read> inSample: array<u32>;
@group(0) @binding(4) var<storage, read> tcol: array<i32>;
@group(0) @binding(5) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * 256u;
  if (e >= p.N * p.U) { return; }
  let i = e / p.U;
  let j = e % p.U;
  let valid = inSample[j] != 0u || i32(j) == tcol[i];
  if (BACKWARD) {
    dst[e] = select(0.0, src[e], valid);
  } else {
    dst[e] = select(-1e30, src[e] - logQ[j], valid);
  }
}
