// unary_backward.wgsl: dx = dy * f'(x), f as in unary.wgsl (override OP, same numbering).
// sigmoid and tanh use the saved output y (f' = y(1-y), 1-y^2), relu the input x, exp y,
// scale alpha.
// Bindings: 0 uniform {n, alpha: f32, beta: f32}, 1 dy, 2 saved (x for relu, y otherwise), 3 dx.
// Dispatch: as unary.wgsl. Reference: src/ref/elementwise.ts `unaryBackwardRef`.
override OP: u32 = 0;

struct Params { n: u32, alpha: f32, beta: f32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> saved: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let g = dy[i];
  let s = saved[i];
  var d: f32;
  switch OP {
    case 0u: { d = g * s * (1.0 - s); }
    case 1u: { d = g * (1.0 - s * s); }
    case 2u: { d = select(0.0, g, s > 0.0); }
    case 3u: { d = g * s; }
    default: { d = g * p.alpha; }
  }
  dx[i] = d;
}
