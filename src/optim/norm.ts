// The global gradient norm on the GPU, without a host round trip: per-gradient partial sums
// of squares (a fixed number of workgroups per size, each a fixed tree), then one workgroup
// that sums the partials in a fixed order and writes the norm, the clip scale, the finite
// flag and the step counters into a small stats buffer that the update kernels read.
import { rt } from '../gpu/runtime.js';
import type { KernelSource } from '../gpu/pipelines.js';
import { Tensor } from '../tensor.js';
import { useVec4, widthKernel } from '../gpu/width.js';
import sqnormSrc from '../../kernels/optim_sqnorm.wgsl';
import finalizeSrc from '../../kernels/optim_norm_finalize.wgsl';

const SQNORM: KernelSource = { name: 'optim_sqnorm', code: sqnormSrc };
const FINALIZE: KernelSource = { name: 'optim_norm_finalize', code: finalizeSrc };

/** Words of the stats buffer (struct Stats in the kernels). */
export const STATS_WORDS = 8;
export const Stat = { norm: 0, scale: 1, finite: 2, step: 3, beta1Power: 4, beta2Power: 5, nonFinite: 6, attempts: 7 } as const;

/** The bytes of a fresh stats buffer: norm 0, scale 1, finite, step 0, beta powers 1, counters 0. */
export function initialStats(): Float32Array {
  const f = new Float32Array(STATS_WORDS);
  const u = new Uint32Array(f.buffer);
  f[Stat.scale] = 1;
  u[Stat.finite] = 1;
  f[Stat.beta1Power] = 1;
  f[Stat.beta2Power] = 1;
  return f;
}

/** Units (elements or vec4s) per workgroup of the partial-sum pass: a function of the size only (fixed summation order). */
const MIN_CHUNK = 16384;
const MAX_GROUPS = 4096;
function chunking(n: number): { groups: number; chunk: number } {
  const groups = Math.min(MAX_GROUPS, Math.max(1, Math.ceil(n / MIN_CHUNK)));
  return { groups, chunk: Math.ceil(n / groups) };
}

export interface NormPassOptions {
  /** Gradients in the clip set (their norm is clipped and reported). */
  clipped: readonly Tensor[];
  /** Other gradients, summed only to detect NaN / Inf. */
  rest: readonly Tensor[];
  /** Clip to this global norm; null: no clipping (scale 1, the norm of all gradients reported). */
  maxNorm: number | null;
  /** Adam's betas for the running powers (1 for other optimizers). */
  beta1?: number;
  beta2?: number;
  stats: Tensor;
  /** Receives the norm (a scalar tensor). */
  normOut: Tensor;
}

/** Encodes the norm pass: one dispatch per non-empty gradient, then the finalize dispatch. */
export function encodeNormPass(o: NormPassOptions): void {
  const r = rt();
  const all = [...o.clipped, ...o.rest].filter((g) => g.size > 0);
  const nClipTensors = o.clipped.filter((g) => g.size > 0).length;
  let total = 0;
  let nClip = 0;
  const plan = all.map((g, k) => {
    const vec4 = useVec4(g.size, null);
    const units = g.size / (vec4 ? 4 : 1);
    const c = chunking(units);
    const offset = total;
    total += c.groups;
    if (k < nClipTensors) nClip = total;
    return { g, offset, vec4, units, ...c };
  });
  const partials = total > 0 ? Tensor.empty([total], 'f32', 'optim.norm.partials') : null;
  for (const { g, offset, vec4, units, groups, chunk } of plan) {
    r.run(widthKernel(SQNORM, vec4), { params: [units, chunk, offset], buffers: [g.buffer, partials!.buffer], workgroups: [groups] });
  }
  const clip = o.maxNorm !== null;
  r.run(FINALIZE, {
    params: [nClip, total, o.maxNorm ?? 0, clip ? 0b11 : 0, o.beta1 ?? 1, o.beta2 ?? 1],
    f32Mask: 0b110100,
    buffers: [partials ? partials.buffer : r.dummy, o.stats.buffer, o.normOut.buffer],
    workgroups: [1],
  });
  // Safe: later users of the recycled buffer are encoded after these dispatches.
  partials?.dispose();
}
