// Float64 reference of the sampled-softmax logits: with softmaxCrossEntropyRef over them, the
// reference of sampledSoftmaxLoss (src/ops/sampled_softmax.ts).
import { nd, type NDArray } from './array.js';
import type { CandidateSet } from '../ops/sampled_softmax.js';

export function sampledLogitsRef(logits: NDArray, c: CandidateSet): NDArray {
  const [N, U] = logits.shape;
  const out = new Float64Array(N * U);
  for (let i = 0; i < N; i++)
    for (let j = 0; j < U; j++) {
      const valid = c.inSample[j] !== 0 || c.targetCol[i] === j;
      out[i * U + j] = valid ? logits.data[i * U + j] - c.logQ[j] : -1e30;
    }
  return nd(out, [N, U]);
}
