// optim_norm_finalize.wgsl: the global gradient norm from the partial sums of squares
// (optim_sqnorm.wgsl), the clip scale, the finite check and the step counters, all on the
// GPU so that an optimizer step needs no host round trip. One workgroup: each invocation
// sums the partials strided by 256 in index order, then a fixed shared-memory tree;
// deterministic. partials[0, nClip) belong to the clipped gradients, [nClip, nTotal) to
// the others (checked for finiteness only).
//   clipSq = sum of partials[0, nClip), restSq = sum of partials[nClip, nTotal)
//   finite = clipSq + restSq is finite (no NaN or Inf in any gradient, and the f32 sum of
//            squares does not overflow)
//   norm   = sqrt(clipSq) if REPORT_CLIP (mode bit 1) else sqrt(clipSq + restSq); normOut[0] = norm
//   scale  = maxNorm / max(sqrt(clipSq), maxNorm) if CLIP (mode bit 0) else 1
//   attempts += 1; finite: step += 1, beta1Power *= beta1, beta2Power *= beta2;
//   otherwise nonFinite += 1 (and the update kernels skip the step).
// Bindings: 0 uniform {nClip, nTotal, maxNorm: f32, mode, beta1: f32, beta2: f32},
//           1 partials: array<f32> (read), 2 stats: Stats (read_write), 3 normOut: array<f32>.
// Dispatch: 1 workgroup of 256.
// Reference: src/ref/optim.ts `globalNormRef`, `clipScaleRef`, `RefOptimizer.step`.
struct Params { nClip: u32, nTotal: u32, maxNorm: f32, mode: u32, beta1: f32, beta2: f32, pad0: u32, pad1: u32 }
// struct Stats: kernels/optim_stats.wgsl (composed with this file by src/optim).
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: Stats;
@group(0) @binding(3) var<storage, read_write> normOut: array<f32>;

var<workgroup> clipPart: array<f32, 256>;
var<workgroup> restPart: array<f32, 256>;

fn isFinite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var sc = 0.0;
  for (var i = lid; i < p.nClip; i += 256u) { sc += partials[i]; }
  var sr = 0.0;
  for (var i = p.nClip + lid; i < p.nTotal; i += 256u) { sr += partials[i]; }
  clipPart[lid] = sc;
  restPart[lid] = sr;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w >>= 1u) {
    if (lid < w) {
      clipPart[lid] += clipPart[lid + w];
      restPart[lid] += restPart[lid + w];
    }
    workgroupBarrier();
  }
  if (lid != 0u) { return; }
  let clipSq = clipPart[0];
  let restSq = restPart[0];
  let finite = isFinite(clipSq + restSq);
  let clipNorm = sqrt(clipSq);
  var norm = sqrt(clipSq + restSq);
  if ((p.mode & 2u) != 0u) { norm = clipNorm; }
  var scale = 1.0;
  if ((p.mode & 1u) != 0u && finite) { scale = p.maxNorm / max(clipNorm, p.maxNorm); }
  stats.norm = norm;
  stats.scale = scale;
  stats.attempts += 1u;
  if (finite) {
    stats.finite = 1u;
    stats.step += 1u;
    stats.beta1Power *= p.beta1;
    stats.beta2Power *= p.beta2;
  } else {
    stats.finite = 0u;
    stats.nonFinite += 1u;
  }
  normOut[0] = norm;
}
