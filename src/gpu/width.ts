// Elementwise kernels (the optimizer updates, the embedding gather and its gradient) run one
// element or four (a vec4) per invocation. Elementwise passes on a software driver cost per
// loaded component and per invocation, so four per invocation roughly halve the time of a
// dense update; a GPU reads the same bytes either way.
// The kernel files use `E` (f32 or vec4f) for their arrays, `W` (1 or 4) for the elements
// per invocation, `hsum` (the sum of an E's components) and `sparseIndex` (the E unit of the
// table that unit i of a sparse gradient's rows updates); this prelude defines them.
import type { KernelSource, UniformSpec } from './pipelines.js';
import { composeKernel } from './compose.js';

/** Four per invocation when the gradient's size (and a sparse row's width) allows it. */
export function useVec4(size: number, sparseWidth: number | null): boolean {
  return size % 4 === 0 && (sparseWidth === null || sparseWidth % 4 === 0);
}

// Rows of width d (elements), row r of the gradient updating table row id: unit i lies in
// gradient row i*W/d, at unit (i*W % d)/W of it; W divides d when W = 4 (see useVec4).
const SPARSE_INDEX = 'fn sparseIndex(i: u32, id: i32, d: u32) -> u32 { return u32(id) * (d / W) + (i * W % d) / W; }\n';
const PRELUDE = [
  'alias E = f32;\nconst W = 1u;\nfn hsum(v: E) -> f32 { return v; }\n' + SPARSE_INDEX,
  'alias E = vec4f;\nconst W = 4u;\nfn hsum(v: E) -> f32 { return v.x + v.y + v.z + v.w; }\n' + SPARSE_INDEX,
];

// Per base kernel object (not its name: two bases that share a name keep their own code).
const cache = new WeakMap<KernelSource<any>, [KernelSource<any>?, KernelSource<any>?]>();
export function widthKernel<U extends UniformSpec>(base: KernelSource<U>, vec4: boolean): KernelSource<U> {
  let forms = cache.get(base);
  if (!forms) cache.set(base, (forms = []));
  const w = vec4 ? 1 : 0;
  return (forms[w] ??= composeKernel(vec4 ? `${base.name}_vec4` : base.name, [
    { generated: `element prelude, ${vec4 ? 'vec4' : 'scalar'}`, code: PRELUDE[w] },
    base,
  ]) as KernelSource<U>);
}
