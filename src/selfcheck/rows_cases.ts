// Kernel cases of the row ops of a language model: embedding (gather, dense and sparse
// backward), softmax cross-entropy (both kernels, with and without excluded columns), dropout.
import { Rng } from '../random.js';
import { tensor } from '../ops/create.js';
import { embedding, embeddingBackwardSparse } from '../ops/embedding.js';
import { softmaxCrossEntropy } from '../ops/softmax_ce.js';
import { dropout } from '../ops/dropout.js';
import { embeddingBackwardRef, embeddingBackwardSparseRef, embeddingRef } from '../ref/embedding.js';
import { excludeColumnsRef, softmaxCrossEntropyBackwardRef, softmaxCrossEntropyRef } from '../ref/softmax_ce.js';
import { dropoutBackwardRef, dropoutRef } from '../ref/dropout.js';
import { close, randomIds, randomNd, T, type CheckCase } from './check.js';

/** [V, D, ids' shape]; D = 8: four columns per invocation (D % 4 == 0), the others one. */
const EMBEDDING_SIZES: [number, number, number[]][] = [
  [7, 33, [1000]],
  [1000, 7, [129]],
  [1, 1, [1]],
  [33, 129, [7, 11]],
  [50, 8, [6, 5]],
];
/** [rows N, classes C]. */
const SOFTMAX_SIZES = [
  [1, 1],
  [7, 7],
  [33, 129],
  [7, 1000],
  [3, 10000],
  [9, 12],
];
/** [n, rate]. */
const DROPOUT_SIZES = [
  [1000, 0.1],
  [129, 0.5],
  [7, 0.9],
] as const;

const embeddingCase: CheckCase = {
  group: 'embedding',
  name: 'forward, dense and sparse backward',
  run: async (seed) => {
    for (const [V, D, S] of EMBEDDING_SIZES) {
      const P = S.reduce((a, b) => a * b, 1);
      const table = randomNd([V, D], seed);
      const ids = randomIds(P, V, seed + 1);
      const dy = randomNd([...S, D], seed + 2);
      const tt = T(table, true);
      const it = tensor(ids, S);
      const y = embedding(tt, it);
      y.backward(T(dy));
      close(await y.data(), embeddingRef(table, ids, S), `rows (V=${V} D=${D})`, 0, 0);
      close(await tt.grad!.data(), embeddingBackwardRef(V, ids, dy), 'dense dtable', 1e-4);
      const sp = embeddingBackwardSparse(it, T(dy), V);
      const want = embeddingBackwardSparseRef(ids, dy);
      close(sp.ids, want.ids, 'sparse ids', 0, 0);
      close(await sp.rows.data(), want.rows, 'sparse rows', 1e-4);
      seed += 10;
    }
  },
};

/** Over every column, and with the middle half excluded (the sampled softmax's target-only columns). */
async function checkSoftmax(
  kernel: 'rows' | 'tree',
  N: number,
  C: number,
  exclude: [number, number] | undefined,
  seed: number,
): Promise<void> {
  const raw = randomNd([N, C], seed, 4);
  const targets = randomIds(N, C, seed + 1);
  const logits = exclude ? excludeColumnsRef(raw, targets, exclude) : raw;
  const g = 0.5 + new Rng(seed + 2).uniform() * 2;
  const lt = T(raw, true);
  const loss = softmaxCrossEntropy(lt, tensor(targets), { kernel, exclude });
  loss.backward(tensor([g], []));
  const what = `[${N}, ${C}]${exclude ? ` exclude [${exclude}]` : ''}`;
  close(await loss.data(), [softmaxCrossEntropyRef(logits, targets).loss], `loss ${what}`, 1e-5, 1e-5);
  close(await lt.grad!.data(), softmaxCrossEntropyBackwardRef(logits, targets, g), `dlogits ${what}`, 1e-7, 1e-4);
}

const softmaxCases = (['rows', 'tree'] as const).map(
  (kernel): CheckCase => ({
    group: 'softmaxCrossEntropy',
    name: `${kernel} kernel`,
    run: async (seed) => {
      for (const [N, C] of SOFTMAX_SIZES) {
        for (const exclude of [undefined, [C >> 2, (3 * C) >> 2] as [number, number]]) {
          await checkSoftmax(kernel, N, C, exclude, seed);
          seed += 10;
        }
      }
    },
  }),
);

/** The mask is a hash of the seed and the index: the reference computes the same one. */
const dropoutCase: CheckCase = {
  group: 'dropout',
  name: 'forward and backward',
  run: async (seed) => {
    for (const [n, rate] of DROPOUT_SIZES) {
      const x = randomNd([n], seed);
      const dy = randomNd([n], seed + 1);
      const s = (seed * 2654435761) >>> 0;
      const xt = T(x, true);
      const y = dropout(xt, rate, { seed: s });
      y.backward(T(dy));
      close(await y.data(), dropoutRef(x, rate, s), `y n=${n} rate=${rate}`);
      close(await xt.grad!.data(), dropoutBackwardRef(dy, rate, s), 'dx');
      seed += 10;
    }
  },
};

export function rowCases(): CheckCase[] {
  return [embeddingCase, ...softmaxCases, dropoutCase];
}
