// matmul_store_io_vec4.wgsl: bindings 3 (bias) and 4 (c) of matmul_store.wgsl and its
// four-column accessors as single vec4 accesses, used where the host has checked that N,
// ldc, strideC, offC, offBias and strideBias are multiples of 4 (on a software driver one
// vec4 access costs about what one scalar access does).
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> c: array<vec4f>;
fn loadBias4(i: u32, n0: u32) -> vec4f { return bias[i / 4u]; }
fn loadC4(i: u32, n0: u32) -> vec4f { return c[i / 4u]; }
fn storeC4(i: u32, n0: u32, v: vec4f) { c[i / 4u] = v; }
