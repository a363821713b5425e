// matmul_store_io_scalar.wgsl: bindings 3 (bias) and 4 (c) of matmul_store.wgsl and its
// four-column accessors, one column at a time: for any N, ldc, strideC and offsets. Columns
// n0.. that exist (the last block of a row may be short) are read and written; the rest
// read as 0.
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;
fn loadBias4(i: u32, n0: u32) -> vec4f {
  var v = vec4f(0.0);
  for (var j = 0u; j < min(4u, p.N - n0); j++) { v[j] = bias[i + j]; }
  return v;
}
fn loadC4(i: u32, n0: u32) -> vec4f {
  var v = vec4f(0.0);
  for (var j = 0u; j < min(4u, p.N - n0); j++) { v[j] = c[i + j]; }
  return v;
}
fn storeC4(i: u32, n0: u32, v: vec4f) {
  for (var j = 0u; j < min(4u, p.N - n0); j++) { c[i + j] = v[j]; }
}
