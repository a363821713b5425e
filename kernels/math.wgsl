// math.wgsl: the activations the kernels share, written once and composed in front of each
// kernel that uses them (WGSL has no includes: src/gpu/compose.ts). Defines:
//   sigmoid(v)  = 1 / (1 + exp(-v))           sigmoid4 for vec4f: exp(-v) overflows to inf
//                                             for very negative v and 1/inf is 0, the limit
//   tanh_clamped(v) = tanh(clamp(v, -15, 15)) tanh_clamped4 for vec4f: tanh of a large
//                                             argument can come out NaN on some drivers
//                                             (inf / inf); tanh(15) is 1 in f32 already
// References: src/ref/elementwise.ts, src/ref/lstm.ts (float64, unclamped).
fn sigmoid(v: f32) -> f32 { return 1.0 / (1.0 + exp(-v)); }
fn sigmoid4(v: vec4f) -> vec4f { return 1.0 / (1.0 + exp(-v)); }
fn tanh_clamped(v: f32) -> f32 { return tanh(clamp(v, -15.0, 15.0)); }
fn tanh_clamped4(v: vec4f) -> vec4f { return tanh(clamp(v, vec4f(-15.0), vec4f(15.0))); }
