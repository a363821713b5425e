// The global gradient norm on the GPU, without a host round trip: per-gradient partial sums
// of squares (a fixed number of workgroups per size, each a fixed tree), then one workgroup
// that sums the partials in a fixed order and writes the norm, the clip scale, the finite
// flag and the step counters into a small stats buffer that the update kernels read.
import { rt } from '../gpu/runtime.js';
import { kernelFile, type KernelSource, type UniformSpec } from '../gpu/pipelines.js';
import { Tensor } from '../tensor.js';
import { useVec4, widthKernel } from '../gpu/width.js';
import { composeKernel } from '../gpu/compose.js';
import { structFields, structWords } from '../gpu/uniforms.js';
import sqnormSrc from '../../kernels/optim_sqnorm.wgsl';
import finalizeSrc from '../../kernels/optim_norm_finalize.wgsl';
import statsSrc from '../../kernels/optim_stats.wgsl';
import updateSrc from '../../kernels/optim_update.wgsl';

const STATS_FILE = kernelFile('optim_stats', statsSrc);

/** A kernel that reads or writes the stats buffer: its file with struct Stats appended. */
export function withStats<U extends UniformSpec>(kernel: KernelSource<U>): KernelSource<U> {
  return composeKernel(kernel.name, [kernel, STATS_FILE]) as KernelSource<U>;
}

const UPDATE_FILE = kernelFile('optim_update', updateSrc);

/**
 * An optimizer's update kernel: its file (the update of one element, `fn update`), then the
 * entry point every update shares (kernels/optim_update.wgsl), then struct Stats.
 */
export function updateKernel<U extends UniformSpec>(kernel: KernelSource<U>): KernelSource<U> {
  return composeKernel(kernel.name, [kernel, UPDATE_FILE, STATS_FILE]) as KernelSource<U>;
}

const SQNORM = kernelFile('optim_sqnorm', sqnormSrc);
const FINALIZE = withStats(kernelFile('optim_norm_finalize', finalizeSrc));

/** Words of the stats buffer (struct Stats, kernels/optim_stats.wgsl). */
export const STATS_WORDS = structFields(statsSrc).get('Stats')?.length ?? 0;
/** The word of each field the host reads, from the struct itself (names and types checked). */
export const Stat = structWords('kernels/optim_stats.wgsl', statsSrc, 'Stats', {
  norm: 'f32',
  scale: 'f32',
  finite: 'u32',
  step: 'u32',
  beta1Power: 'f32',
  beta2Power: 'f32',
  nonFinite: 'u32',
  attempts: 'u32',
});

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

/** Bits of the finalize kernel's `mode`: scale the clipped gradients; report their norm alone. */
const CLIP = 0b01;
const REPORT_CLIP = 0b10;

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
    r.run(widthKernel(SQNORM, vec4), { params: { n: units, chunk, offset }, buffers: [g.buffer, partials!.buffer], workgroups: [groups] });
  }
  const clip = o.maxNorm !== null;
  r.run(FINALIZE, {
    params: {
      nClip,
      nTotal: total,
      maxNorm: o.maxNorm ?? 0,
      mode: clip ? CLIP | REPORT_CLIP : 0,
      beta1: o.beta1 ?? 1,
      beta2: o.beta2 ?? 1,
    },
    buffers: [partials ? partials.buffer : r.dummy, o.stats.buffer, o.normOut.buffer],
    workgroups: [1],
  });
  // Safe: later users of the recycled buffer are encoded after these dispatches.
  partials?.dispose();
}
