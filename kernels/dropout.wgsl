// dropout.wgsl: inverted dropout, y = x * keep(i) * scale, with keep(i) = hash(seed, i) >= threshold.
// The mask is never stored: the backward pass runs this same kernel on dy (dx = dy * keep * scale).
// hash(seed, i) = pcg(pcg(i) ^ pcg(seed)), pcg the PCG-RXS-M-XS 32-bit hash (Jarzynski & Olano
// 2020); threshold = min(ceil(rate * 2^32), 2^32 - 1) and scale = 1 / (1 - rate) come from the host.
// The mask is that of a larger tensor when x holds some of its streams (a batch split over
// processes): element i of x, in time step i / chunk, is element
// (i / chunk) * globalChunk + offset + i % chunk of the whole batch's (chunk = n: x is whole).
// Bindings: 0 uniform {n, seed, threshold, scale: f32, chunk, globalChunk, offset}, 1 x:
// array<f32> (read), 2 y: array<f32>.
// Dispatch: ceil(n / 256) workgroups of 256, folded into (x, y) when over 65535 in x.
// Reference: src/ref/dropout.ts `dropoutHash`, `dropoutRef`.

struct Params { n: u32, seed: u32, threshold: u32, scale: f32, chunk: u32, globalChunk: u32, offset: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let whole = (i / p.chunk) * p.globalChunk + p.offset + i % p.chunk;
  let h = pcg(pcg(whole) ^ pcg(p.seed));
  y[i] = select(0.0, x[i] * p.scale, h >= p.threshold);
}
