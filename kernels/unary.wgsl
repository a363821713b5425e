// unary.wgsl: y = f(x) elementwise. f is the override OP:
//   0 sigmoid, 1 tanh, 2 relu, 3 exp, 4 y = alpha*x + beta (scale), 5 fill (y = beta);
// sigmoid and tanh_clamped from math.wgsl, composed in front.
// Bindings: 0 uniform {n, alpha: f32, beta: f32}, 1 x: array<f32> (read), 2 y: array<f32>.
// Dispatch: ceil(n / 256) workgroups of 256, folded into (x, y) when over 65535 in x.
// Reference: src/ref/elementwise.ts `unaryRef`.
override OP: u32 = 0;

struct Params { n: u32, alpha: f32, beta: f32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn f(v: f32) -> f32 {
  switch OP {
    case 0u: { return sigmoid(v); }
    case 1u: { return tanh_clamped(v); }
    case 2u: { return max(v, 0.0); }
    case 3u: { return exp(v); }
    case 4u: { return p.alpha * v + p.beta; }
    default: { return p.beta; }
  }
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  if (OP == 5u) { y[i] = p.beta; return; }
  y[i] = f(x[i]);
}
