// binary.wgsl: c = a (op) b elementwise, override OP: 0 add, 1 sub, 2 mul.
// Broadcasting: an operand whose shape is a suffix of the other's (a row vector, a scalar)
// is indexed modulo its size: a[i % na], b[i % nb], for i < n = max(na, nb).
// Bindings: 0 uniform {n, na, nb}, 1 a, 2 b, 3 c.
// Dispatch: ceil(n / 256) workgroups of 256, folded into (x, y).
// Reference: src/ref/elementwise.ts `binaryRef`.
override OP: u32 = 0;

struct Params { n: u32, na: u32, nb: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let va = a[select(i, i % p.na, p.na != p.n)];
  let vb = b[select(i, i % p.nb, p.nb != p.n)];
  var r: f32;
  switch OP {
    case 0u: { r = va + vb; }
    case 1u: { r = va - vb; }
    default: { r = va * vb; }
  }
  c[i] = r;
}
