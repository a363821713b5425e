// Sampled softmax (Jean et al. 2015, as in the paper's code): a log-uniform (Zipfian)
// candidate sampler, and the corrected, masked logits over the shared candidates.
// The loss itself is softmaxCrossEntropy over these logits; the caller gathers the
// candidates' rows of the softmax table (src/nn/lm.ts).
import { rt } from '../gpu/runtime.js';
import type { KernelSource } from '../gpu/pipelines.js';
import { record } from '../autograd.js';
import { Rng } from '../random.js';
import { Tensor, fmtShape } from '../tensor.js';
import { tensor } from './create.js';
import { assertDType, assertTensor, grid1d, out } from './dispatch.js';
import sampledLogitsSrc from '../../kernels/sampled_logits.wgsl';

const SAMPLED_LOGITS: KernelSource = { name: 'sampled_logits', code: sampledLogitsSrc };

/** P(k) of the log-uniform sampler over ids 0..V-1 (ids sorted by falling frequency). */
export function logUniformProb(k: number, V: number): number {
  return (Math.log(k + 2) - Math.log(k + 1)) / Math.log(V + 1);
}

export interface CandidateSet {
  /** Candidate ids, one column each: the samples, then the targets that were not sampled. */
  ids: Int32Array;
  /** log of each candidate's expected count under the sampler. */
  logQ: Float32Array;
  /** 1 where the candidate was sampled. */
  inSample: Uint32Array;
  /** For each target position, its candidate column. */
  targetCol: Int32Array;
  samples: number;
}

/**
 * Draws `S` distinct ids from the log-uniform distribution (as TensorFlow's
 * log_uniform_candidate_sampler with unique=True: the expected count of id k after `tries`
 * draws is 1 - (1 - P(k))^tries), then adds the targets, then up to 3 more samples so the
 * candidate count is a multiple of 4 (vec4 kernels). Deterministic in `seed`.
 */
export function sampleCandidates(targets: Int32Array, V: number, S: number, seed: number): CandidateSet {
  if (!(Number.isInteger(S) && S >= 1 && S < V)) throw new Error(`flstm: sampled softmax: the number of samples must be in [1, ${V - 1}] (vocabulary ${V}), got ${S}`);
  const rng = new Rng(seed);
  const logV1 = Math.log(V + 1);
  const col = new Map<number, number>();
  const ids: number[] = [];
  let tries = 0;
  while (ids.length < S) {
    // Inverse CDF of the log-uniform distribution: k = floor(exp(u log(V+1))) - 1.
    const k = Math.min(V - 1, Math.floor(Math.exp(rng.uniform() * logV1)) - 1);
    tries++;
    if (!col.has(k)) {
      col.set(k, ids.length);
      ids.push(k);
    }
  }
  const inSampleCount = ids.length;
  const targetCol = new Int32Array(targets.length);
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i];
    let c = col.get(t);
    if (c === undefined) {
      c = ids.length;
      col.set(t, c);
      ids.push(t);
    }
    targetCol[i] = c;
  }
  // A few more samples until the candidate count is a multiple of 4 (when the vocabulary
  // has them), so the products over the candidates take the vec4 kernels.
  const extraFrom = ids.length;
  while (ids.length % 4 !== 0 && col.size < V) {
    const k = Math.min(V - 1, Math.floor(Math.exp(rng.uniform() * logV1)) - 1);
    tries++;
    if (!col.has(k)) {
      col.set(k, ids.length);
      ids.push(k);
    }
  }
  const logQ = new Float32Array(ids.length);
  const inSample = new Uint32Array(ids.length);
  for (let j = 0; j < ids.length; j++) {
    const pk = logUniformProb(ids[j], V);
    logQ[j] = Math.log(-Math.expm1(tries * Math.log1p(-pk)));
    inSample[j] = j < inSampleCount || j >= extraFrom ? 1 : 0;
  }
  return { ids: Int32Array.from(ids), logQ, inSample, targetCol, samples: inSampleCount + ids.length - extraFrom };
}

function sampledLogitsRaw(src: Tensor, logQ: Tensor, inSample: Tensor, tcol: Tensor, backward: boolean): Tensor {
  const [N, U] = src.shape;
  const y = out([N, U], 'f32', backward ? 'sampledLogits.backward' : 'sampledLogits');
  rt().run(SAMPLED_LOGITS, {
    overrides: { BACKWARD: backward },
    params: [N, U, 0, 0],
    buffers: [src.buffer, logQ.buffer, inSample.buffer, tcol.buffer, y.buffer],
    workgroups: grid1d(N * U),
  });
  return y;
}

/** logits [N, U] over the candidate columns -> corrected and masked logits (see the kernel). */
export function sampledLogits(logits: Tensor, cand: CandidateSet): Tensor {
  assertTensor(logits, 'sampledLogits(logits)');
  assertDType(logits, 'f32', 'sampledLogits', 'logits');
  const [N, U] = logits.shape;
  if (logits.rank !== 2 || U !== cand.ids.length || N !== cand.targetCol.length) {
    throw new Error(`flstm: sampledLogits: logits ${fmtShape(logits.shape)} do not match ${cand.targetCol.length} targets x ${cand.ids.length} candidates`);
  }
  const logQ = tensor(cand.logQ, [U]);
  const inSample = tensor(new Int32Array(cand.inSample.buffer, cand.inSample.byteOffset, U), [U]);
  const tcol = tensor(cand.targetCol, [N]);
  const y = sampledLogitsRaw(logits, logQ, inSample, tcol, false);
  return record(y, 'sampledLogits', [logits], (g) => [sampledLogitsRaw(g, logQ, inSample, tcol, true)]);
}
