// Float64 reference for the fused softmax cross-entropy (mean over rows) and its gradient.
import { nd, type NDArray } from './array.js';

/** Per-row loss logsumexp(x[r, :]) - x[r, t_r] (computed with the row max), for logits [N, C]. */
export function rowLosses(logits: NDArray, targets: ArrayLike<number>): Float64Array {
  const [N, C] = logits.shape;
  const out = new Float64Array(N);
  for (let r = 0; r < N; r++) {
    const row = logits.data.subarray(r * C, (r + 1) * C);
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, row[c]);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(row[c] - m);
    out[r] = Math.log(s) + (m - row[targets[r]]);
  }
  return out;
}

/** The mean loss over rows and its gradient (softmax - onehot) / N with respect to the logits. */
export function softmaxCrossEntropyRef(logits: NDArray, targets: ArrayLike<number>): { loss: number; grad: NDArray } {
  const [N, C] = logits.shape;
  const losses = rowLosses(logits, targets);
  const loss = losses.reduce((a, b) => a + b, 0) / N;
  const grad = new Float64Array(N * C);
  for (let r = 0; r < N; r++) {
    const row = logits.data.subarray(r * C, (r + 1) * C);
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, row[c]);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(row[c] - m);
    for (let c = 0; c < C; c++) grad[r * C + c] = (Math.exp(row[c] - m) / s - (c === targets[r] ? 1 : 0)) / N;
  }
  return { loss, grad: nd(grad, [N, C]) };
}

/** d (g * loss) / d logits for an upstream scalar gradient g. */
export function softmaxCrossEntropyBackwardRef(logits: NDArray, targets: ArrayLike<number>, g: number): NDArray {
  const { grad } = softmaxCrossEntropyRef(logits, targets);
  return nd(
    grad.data.map((v) => v * g),
    grad.shape,
  );
}

/** logits with the columns [from, to) at -Infinity in every row whose target they are not
 *  (softmaxCrossEntropy's `exclude` option: such a column is left out of those rows). */
export function excludeColumnsRef(logits: NDArray, targets: ArrayLike<number>, [from, to]: [number, number]): NDArray {
  const [N, C] = logits.shape;
  const out = Float64Array.from(logits.data);
  for (let r = 0; r < N; r++) for (let c = from; c < to; c++) if (c !== targets[r]) out[r * C + c] = -Infinity;
  return nd(out, [N, C]);
}
