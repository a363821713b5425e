// Sampled softmax (Jean et al. 2015, as in the paper's code): a log-uniform (Zipfian)
// candidate sampler, and the loss over the shared candidates. The caller gathers the
// candidates' rows of the softmax table (src/nn/lm.ts). No pass of its own: the log Q
// correction rides on the bias of the logits product, and the masking of other rows'
// unsampled targets on softmaxCrossEntropy (its `exclude` columns).
import { Tensor, fmtShape } from '../tensor.js';
import { Rng } from '../random.js';
import { tensor } from './create.js';
import { assertTensor } from './dispatch.js';
import { sub } from './elementwise.js';
import { matmul } from './matmul.js';
import { softmaxCrossEntropy } from './softmax_ce.js';

/** P(k) of the log-uniform sampler over ids 0..V-1 (ids sorted by falling frequency). */
export function logUniformProb(k: number, V: number): number {
  return (Math.log(k + 2) - Math.log(k + 1)) / Math.log(V + 1);
}

export interface CandidateSet {
  /** Candidate ids, one column each: the samples, then the targets that were not sampled, then the padding. */
  ids: Int32Array;
  /** log of each candidate's expected count under the sampler. */
  logQ: Float32Array;
  /** 1 where the candidate was sampled. */
  inSample: Uint32Array;
  /** For each target position, its candidate column. */
  targetCol: Int32Array;
  /** The columns [from, to) that count only in the rows whose target they are: the targets that were not sampled, then the padding (no row's). */
  targetOnly: [number, number];
  samples: number;
  /** The candidates before the padding (samples and targets): the rows a step's gradient reaches. */
  real: number;
}

/**
 * Draws `S` distinct ids from the log-uniform distribution (as TensorFlow's
 * log_uniform_candidate_sampler with unique=True: the expected count of id k after `tries`
 * draws is 1 - (1 - P(k))^tries), then adds the targets, then up to 3 padding columns that
 * no row counts so the candidate count is a multiple of 4 (vec4 kernels). The samples depend
 * on `seed` alone, not on the targets.
 */
export function sampleCandidates(targets: Int32Array, V: number, S: number, seed: number): CandidateSet {
  if (!(Number.isInteger(S) && S >= 1 && S < V))
    throw new Error(`flstm: sampled softmax: the number of samples must be in [1, ${V - 1}] (vocabulary ${V}), got ${S}`);
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
  // Padding columns until the candidate count is a multiple of 4 (when the vocabulary has
  // them), so the products over the candidates take the vec4 kernels. They are left out of
  // every row (no row's target) and out of the draws' count, so the loss and the samples'
  // log Q do not depend on how many targets the batch added: a batch split over several
  // processes draws what the whole batch draws.
  const targetsFrom = inSampleCount;
  const real = ids.length;
  for (let k = 0; ids.length % 4 !== 0 && col.size < V; k++) {
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
    inSample[j] = j < inSampleCount ? 1 : 0;
  }
  return { ids: Int32Array.from(ids), logQ, inSample, targetCol, targetOnly: [targetsFrom, ids.length], samples: inSampleCount, real };
}

/**
 * Mean sampled-softmax loss of hidden rows h [N, d] over the candidates, whose softmax rows
 * are wRows [U, d] (h and wRows may be f16 copies) and biases bRows [U]:
 *   logits[i, j] = h_i · w_j + b_j - log Q_j    (Q_j: the candidate's expected count)
 * with other rows' unsampled targets left out of row i (accidental hits are the target's own
 * column: `sampleCandidates` gives each id one column). Gradients reach h, wRows and bRows.
 */
export function sampledSoftmaxLoss(h: Tensor, wRows: Tensor, bRows: Tensor, cand: CandidateSet): Tensor {
  assertTensor(h, 'sampledSoftmaxLoss(h, wRows, bRows, cand): h');
  assertTensor(bRows, 'sampledSoftmaxLoss(h, wRows, bRows, cand): bRows');
  const U = cand.ids.length;
  const N = cand.targetCol.length;
  if (h.rank !== 2 || h.shape[0] !== N)
    throw new Error(
      `flstm: sampledSoftmaxLoss: h must have ${N} rows (the candidates were drawn for ${N} targets), got shape ${fmtShape(h.shape)}`,
    );
  if (bRows.rank !== 1 || bRows.shape[0] !== U)
    throw new Error(`flstm: sampledSoftmaxLoss: bRows must have shape [${U}] (one per candidate), got ${fmtShape(bRows.shape)}`);
  const logits = matmul(h, wRows, { transposeB: true, bias: sub(bRows, tensor(cand.logQ, [U])) });
  return softmaxCrossEntropy(logits, cand.targetCol, { exclude: cand.targetOnly });
}
