// The kernel self-check: the kernel test cases of test/*.test.ts in a form that runs anywhere
// (no vitest): every kernel forward and backward against the float64 references of src/ref/,
// on random data of awkward sizes. The browser runs it (selfcheck.html), since Chrome's WGSL
// compiler (Tint in Chrome, with its own backends) is not the Dawn of the `webgpu` package;
// test/browser-node.test.ts runs the same cases in Node. Needs `await fl.init()` first.
import * as fl from '../index.js';
import { Rng } from '../random.js';
import { popScope, pushScope } from '../tensor.js';
import { nd, type NDArray } from '../ref/array.js';
import { blockDiagonal, groupedMatmulBackwardRef, groupedMatmulRef, matmulBackwardRef, matmulRef } from '../ref/matmul.js';
import { binaryBackwardRef, binaryRef, sumAxisBackwardRef, sumAxisRef, unaryBackwardRef, unaryRef, type UnaryRefOp } from '../ref/elementwise.js';
import { embeddingBackwardRef, embeddingBackwardSparseRef, embeddingRef } from '../ref/embedding.js';
import { excludeColumnsRef, softmaxCrossEntropyBackwardRef, softmaxCrossEntropyRef } from '../ref/softmax_ce.js';
import { dropoutBackwardRef, dropoutRef } from '../ref/dropout.js';
import { lstmBackwardRef, lstmForwardRef, randomLstmParams, type LstmRefConfig, type LstmRefParams } from '../ref/lstm.js';
import { subgroupCapable } from '../ops/matmul_kernel.js';
import type { MatmulVariant } from '../ops/matmul_kernel.js';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  group: string;
  name: string;
  status: CheckStatus;
  ms: number;
  /** The first mismatches (fail), or why the case does not apply to this adapter (skip). */
  message?: string;
}

export interface CheckCase {
  group: string;
  name: string;
  /** Why this adapter cannot run the case, or null. */
  skip?: () => string | null;
  run(seed: number): Promise<void>;
}

class Mismatch extends Error {}

function randomNd(shape: number[], seed: number, scale = 1): NDArray {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = scale * (2 * rng.uniform() - 1);
  return nd(Float32Array.from(d), shape); // f32-rounded: the reference sees the GPU's inputs
}

function randomIds(n: number, limit: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(rng.uniform() * limit));
}

const T = (a: NDArray, grad = false) => fl.tensor(Float32Array.from(a.data), a.shape, { requiresGrad: grad });

/** |got - want| <= atol + rtol*|want| elementwise; else a Mismatch listing the first few. */
function close(got: ArrayLike<number>, want: NDArray | ArrayLike<number>, what: string, atol = 1e-5, rtol = 1e-4): void {
  const w = 'data' in (want as NDArray) ? (want as NDArray).data : (want as ArrayLike<number>);
  if (got.length !== w.length) throw new Mismatch(`${what}: ${got.length} values, expected ${w.length}`);
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < w.length; i++) {
    if (!(Math.abs(got[i] - w[i]) <= atol + rtol * Math.abs(w[i]))) {
      count++;
      if (bad.length < 4) bad.push(`[${i}] got ${got[i]} want ${w[i]}`);
    }
  }
  if (count) throw new Mismatch(`${what}: ${count} of ${w.length} differ beyond atol ${atol} + rtol ${rtol}: ${bad.join('; ')}`);
}

const TRANSPOSES: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];

async function checkMatmul(M: number, K: number, N: number, o: { tA?: boolean; tB?: boolean; variant?: MatmulVariant; batch?: number; sharedB?: boolean; bias?: boolean; activation?: 'none' | 'sigmoid' | 'tanh' | 'relu'; f16?: boolean }, seed: number) {
  const tA = !!o.tA;
  const tB = !!o.tB;
  let sa = tA ? [K, M] : [M, K];
  let sb = tB ? [N, K] : [K, N];
  if (o.batch) {
    sa = [o.batch, ...sa];
    if (!o.sharedB) sb = [o.batch, ...sb];
  }
  let a = randomNd(sa, seed);
  let b = randomNd(sb, seed + 1);
  const bias = o.bias ? randomNd([N], seed + 2) : undefined;
  const opts = { transposeA: tA, transposeB: tB, bias, activation: o.activation };
  const at = T(a, true);
  const bt = T(b, true);
  const biasT = bias ? T(bias, true) : undefined;
  // f16: both operands read as f16 copies; the reference takes the copies' values.
  const a16 = o.f16 ? fl.cast(at, 'f16') : at;
  const b16 = o.f16 ? fl.cast(bt, 'f16') : bt;
  if (o.f16) {
    a = { shape: a.shape, data: Float64Array.from(await a16.data()) };
    b = { shape: b.shape, data: Float64Array.from(await b16.data()) };
  }
  const y = fl.matmul(a16, b16, { transposeA: tA, transposeB: tB, bias: biasT, activation: o.activation, variant: o.variant });
  const want = matmulRef(a, b, opts);
  const dy = randomNd(want.shape, seed + 3);
  y.backward(T(dy));
  const tol = 2e-5 * Math.sqrt(K + 1) + 1e-5;
  close(await y.data(), want, 'C', tol);
  const g = matmulBackwardRef(a, b, dy, opts);
  const tolB = 2e-5 * Math.sqrt(Math.max(M, N) * (o.batch ?? 1)) + 1e-5;
  close(await at.grad!.data(), g.da, 'dA', tolB);
  close(await bt.grad!.data(), g.db, 'dB', tolB);
  if (biasT) close(await biasT.grad!.data(), g.dbias!, 'dbias', tolB);
}

async function checkLstm(c: LstmRefConfig & { T: number; B: number }, seed: number, variant?: MatmulVariant) {
  const raw = randomLstmParams(c, seed, 0.4);
  const ref: LstmRefParams = { ...raw, b: nd(Float32Array.from(raw.b.data), raw.b.shape) };
  for (const k of ['W', 'W1', 'W2', 'P'] as const) if (raw[k]) ref[k] = nd(Float32Array.from(raw[k]!.data), raw[k]!.shape);
  const x = randomNd([c.T, c.B, c.inputSize], seed + 1);
  const h0 = randomNd([c.B, c.projSize], seed + 2, 0.5);
  const c0 = randomNd([c.B, c.hiddenSize], seed + 3, 0.5);
  const dy = randomNd([c.T, c.B, c.projSize], seed + 4);
  const tensors: Record<string, fl.Tensor> = {};
  const weights: fl.LstmWeights = { b: (tensors.b = T(ref.b, true)) };
  for (const k of ['W', 'W1', 'W2', 'P'] as const) if (ref[k]) weights[k] = tensors[k] = T(ref[k]!, true);
  const xt = T(x, true);
  const h0t = T(h0, true);
  const c0t = T(c0, true);
  const res = fl.lstmSequence(xt, h0t, c0t, weights, { ...c, variant });
  res.y.backward(T(dy));
  const want = lstmForwardRef(ref, x, h0, c0);
  const g = lstmBackwardRef(ref, x, h0, c0, dy);
  close(await res.y.data(), want.y, 'y', 2e-5, 2e-4);
  close(await res.h.data(), want.h, 'h_T', 2e-5, 2e-4);
  close(await res.c.data(), want.c, 'c_T', 2e-5, 2e-4);
  const grads: [fl.Tensor | undefined, NDArray | undefined, string][] = [
    [xt, g.dx, 'dx'], [h0t, g.dh0, 'dh0'], [c0t, g.dc0, 'dc0'], [tensors.b, g.db, 'db'],
    [tensors.W, g.dW, 'dW'], [tensors.W1, g.dW1, 'dW1'], [tensors.W2, g.dW2, 'dW2'], [tensors.P, g.dP, 'dP'],
  ];
  for (const [t, r, what] of grads) if (t) close(await t.grad!.data(), r!, what, 1e-4, 5e-4);
}

const noSubgroups = () => (subgroupCapable() ? null : 'the adapter has no subgroups of >= 8 lanes (the subgroup kernel is not used here)');

/** Every case, in order. */
export function selfCheckCases(): CheckCase[] {
  const cases: CheckCase[] = [];
  const add = (group: string, name: string, run: (seed: number) => Promise<void>, skip?: () => string | null) => cases.push({ group, name, run, skip });

  // matmul: every variant and transpose, sizes that are not tile multiples (vec4 / subgroup
  // need multiples of 4 along K and the contiguous extents; their M / N edges stay ragged).
  for (const variant of ['scalar', 'shared', 'vec4', 'subgroup'] as const) {
    const aligned = variant === 'vec4' || variant === 'subgroup';
    for (const [tA, tB] of TRANSPOSES) {
      add('matmul', `${variant} ${tA ? 'Aᵀ' : 'A'}·${tB ? 'Bᵀ' : 'B'}`, async (seed) => {
        if (aligned) {
          await checkMatmul(36, 36, 68, { tA, tB, variant }, seed);
          await checkMatmul(tA ? 36 : 33, 40, tB ? 33 : 36, { tA, tB, variant }, seed + 10);
        } else {
          await checkMatmul(7, 33, 129, { tA, tB, variant }, seed);
          await checkMatmul(65, 17, 70, { tA, tB, variant }, seed + 10);
          await checkMatmul(1, 1, 1, { tA, tB, variant }, seed + 20);
        }
      }, variant === 'subgroup' ? noSubgroups : undefined);
    }
  }
  const noF16 = () => (fl.info().features.includes('shader-f16') ? null : 'the adapter has no shader-f16 (f16 storage is not available here)');
  for (const variant of ['scalar', 'shared', 'vec4', 'subgroup'] as const) {
    const aligned = variant === 'vec4' || variant === 'subgroup';
    add('matmul', `${variant}, f16 A and B, each transpose`, async (seed) => {
      for (const [tA, tB] of TRANSPOSES) await checkMatmul(aligned ? 36 : 33, aligned ? 40 : 37, aligned ? 68 : 29, { tA, tB, variant, f16: true }, seed + (tA ? 2 : 0) + (tB ? 1 : 0));
    }, () => noF16() ?? (variant === 'subgroup' ? noSubgroups() : null));
  }
  add('matmul', 'batched 3-D, per-batch and shared B, each transpose', async (seed) => {
    for (const [tA, tB] of TRANSPOSES) {
      await checkMatmul(7, 12, 9, { tA, tB, batch: 3 }, seed);
      await checkMatmul(5, 33, 8, { tA, tB, batch: 4, sharedB: true }, seed + 10);
    }
  });
  for (const activation of ['none', 'sigmoid', 'tanh', 'relu'] as const) {
    add('matmul', `fused bias + ${activation}`, async (seed) => {
      await checkMatmul(36, 36, 68, { bias: true, activation }, seed);
      await checkMatmul(33, 7, 17, { bias: true, activation, variant: 'scalar' }, seed + 10);
    });
  }

  // Grouped (block-diagonal) matmul, G-LSTM's product.
  for (const variant of [undefined, 'scalar', 'shared'] as const) {
    add('groupedMatmul', `${variant ?? 'auto'} kernel`, async (seed) => {
      for (const [m, K, N, k] of [[1, 4, 8, 1], [7, 12, 8, 2], [33, 36, 132, 4], [5, 21, 14, 7]]) {
        const x = randomNd([m, K], seed);
        const w = randomNd([k, K / k, N / k], seed + 1);
        const xt = T(x, true);
        const wt = T(w, true);
        const y = fl.groupedMatmul(xt, wt, { variant });
        const dy = randomNd([m, N], seed + 2);
        y.backward(T(dy));
        const got = await y.data();
        close(got, groupedMatmulRef(x, w), `y (m=${m} K=${K} N=${N} k=${k})`);
        close(got, await fl.matmul(T(x), T(blockDiagonal(w))).data(), 'y vs the dense block-diagonal product');
        const g = groupedMatmulBackwardRef(x, w, dy);
        close(await xt.grad!.data(), g.dx, 'dx', 1e-4);
        close(await wt.grad!.data(), g.dw, 'dw', 1e-4);
        seed += 10;
      }
    });
  }

  // Elementwise.
  for (const op of ['sigmoid', 'tanh', 'relu', 'exp'] as UnaryRefOp[]) {
    add('elementwise', op, async (seed) => {
      for (const n of [1, 7, 129, 1000]) {
        const x = randomNd([n], seed, 3);
        const dy = randomNd([n], seed + 1);
        const xt = T(x, true);
        const y = (fl as unknown as Record<string, (t: fl.Tensor) => fl.Tensor>)[op](xt);
        y.backward(T(dy));
        close(await y.data(), unaryRef(op, x), `${op} n=${n}`);
        close(await xt.grad!.data(), unaryBackwardRef(op, x, dy), `${op}' n=${n}`);
        seed += 10;
      }
    });
  }
  add('elementwise', 'scale', async (seed) => {
    const x = randomNd([129], seed);
    const xt = T(x, true);
    const y = fl.scale(xt, -2.5);
    fl.sum(y).backward();
    close(await y.data(), unaryRef('scale', x, -2.5), 'y');
    close(await xt.grad!.data(), new Array(129).fill(-2.5), 'dx');
  });
  for (const op of ['add', 'sub', 'mul'] as const) {
    add('elementwise', `${op} with broadcasting`, async (seed) => {
      for (const [sa, sb] of [[[7], [7]], [[33, 129], [129]], [[129], [33, 129]], [[1000, 7], [1]], [[2, 3, 5], [3, 5]]]) {
        const a = randomNd(sa, seed);
        const b = randomNd(sb, seed + 7);
        const at = T(a, true);
        const bt = T(b, true);
        const c = fl[op](at, bt);
        const want = binaryRef(op, a, b);
        const dy = randomNd(want.shape, seed + 9);
        c.backward(T(dy));
        close(await c.data(), want, `${op} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`);
        const [ga, gb] = binaryBackwardRef(op, a, b, dy);
        close(await at.grad!.data(), ga, 'da', 1e-4);
        close(await bt.grad!.data(), gb, 'db', 1e-4);
        seed += 10;
      }
    });
  }

  // Reductions.
  for (const op of ['sum', 'mean'] as const) {
    add('reduce', op, async (seed) => {
      const shapes: [number[], number | undefined][] = [[[1], undefined], [[1000], undefined], [[129, 33], 0], [[129, 33], 1], [[3, 129, 7], 1], [[100000], undefined]];
      for (const [shape, axis] of shapes) {
        const x = randomNd(shape, seed);
        const xt = T(x, true);
        const y = fl[op](xt, axis);
        const alpha = op === 'mean' ? 1 / (axis === undefined ? x.data.length : shape[axis]) : 1;
        const want = sumAxisRef(x, axis, alpha);
        const dy = randomNd(want.shape, seed + 3);
        y.backward(T(dy));
        close(await y.data(), want, `${op} ${JSON.stringify(shape)} axis ${axis ?? 'all'}`, 1e-4);
        close(await xt.grad!.data(), sumAxisBackwardRef(shape, dy, axis, alpha), 'dx');
        seed += 10;
      }
    });
  }

  // Embedding: gather, the dense table gradient, the sparse (sorted unique rows) gradient.
  add('embedding', 'forward, dense and sparse backward', async (seed) => {
    // D = 8: four columns per invocation (D % 4 == 0); the others one.
    for (const [V, D, S] of [[7, 33, [1000]], [1000, 7, [129]], [1, 1, [1]], [33, 129, [7, 11]], [50, 8, [6, 5]]] as [number, number, number[]][]) {
      const P = S.reduce((a, b) => a * b, 1);
      const table = randomNd([V, D], seed);
      const ids = randomIds(P, V, seed + 1);
      const dy = randomNd([...S, D], seed + 2);
      const tt = T(table, true);
      const it = fl.tensor(ids, S);
      const y = fl.embedding(tt, it);
      y.backward(T(dy));
      close(await y.data(), embeddingRef(table, ids, S), `rows (V=${V} D=${D})`, 0, 0);
      close(await tt.grad!.data(), embeddingBackwardRef(V, ids, dy), 'dense dtable', 1e-4);
      const sp = fl.embeddingBackwardSparse(it, T(dy), V);
      const want = embeddingBackwardSparseRef(ids, dy);
      close(sp.ids, want.ids, 'sparse ids', 0, 0);
      close(await sp.rows.data(), want.rows, 'sparse rows', 1e-4);
      seed += 10;
    }
  });

  // Softmax cross-entropy, both kernels, over every column and with excluded columns (the
  // middle half: the sampled softmax's target-only columns).
  for (const kernel of ['rows', 'tree'] as const) {
    add('softmaxCrossEntropy', `${kernel} kernel`, async (seed) => {
      for (const [N, C] of [[1, 1], [7, 7], [33, 129], [7, 1000], [3, 10000], [9, 12]]) {
        for (const exclude of [undefined, [C >> 2, (3 * C) >> 2] as [number, number]]) {
          const raw = randomNd([N, C], seed, 4);
          const targets = randomIds(N, C, seed + 1);
          const logits = exclude ? excludeColumnsRef(raw, targets, exclude) : raw;
          const g = 0.5 + new Rng(seed + 2).uniform() * 2;
          const lt = T(raw, true);
          const loss = fl.softmaxCrossEntropy(lt, fl.tensor(targets), { kernel, exclude });
          loss.backward(fl.tensor([g], []));
          const what = `[${N}, ${C}]${exclude ? ` exclude [${exclude}]` : ''}`;
          close(await loss.data(), [softmaxCrossEntropyRef(logits, targets).loss], `loss ${what}`, 1e-5, 1e-5);
          close(await lt.grad!.data(), softmaxCrossEntropyBackwardRef(logits, targets, g), `dlogits ${what}`, 1e-7, 1e-4);
          seed += 10;
        }
      }
    });
  }

  // Dropout (the mask is a hash of the seed and the index: the reference computes the same one).
  add('dropout', 'forward and backward', async (seed) => {
    for (const [n, rate] of [[1000, 0.1], [129, 0.5], [7, 0.9]] as const) {
      const x = randomNd([n], seed);
      const dy = randomNd([n], seed + 1);
      const s = (seed * 2654435761) >>> 0;
      const xt = T(x, true);
      const y = fl.dropout(xt, rate, { seed: s });
      y.backward(T(dy));
      close(await y.data(), dropoutRef(x, rate, s), `y n=${n} rate=${rate}`);
      close(await xt.grad!.data(), dropoutBackwardRef(dy, rate, s), 'dx');
      seed += 10;
    }
  });

  // The LSTM layer op of each cell: outputs, final state, every gradient.
  const lstmCases: (LstmRefConfig & { T: number; B: number; label: string })[] = [
    { label: 'LSTM with projection', cell: 'lstm', T: 3, B: 5, inputSize: 7, hiddenSize: 9, projSize: 5, hasProj: true },
    { label: 'LSTM without projection', cell: 'lstm', T: 4, B: 3, inputSize: 5, hiddenSize: 7, projSize: 7, hasProj: false },
    { label: 'LSTM, aligned sizes', cell: 'lstm', T: 5, B: 4, inputSize: 16, hiddenSize: 12, projSize: 8, hasProj: true },
    { label: 'F-LSTM with projection', cell: 'flstm', T: 3, B: 5, inputSize: 7, hiddenSize: 9, projSize: 5, hasProj: true, factor: 3 },
    { label: 'F-LSTM, aligned sizes', cell: 'flstm', T: 5, B: 4, inputSize: 16, hiddenSize: 12, projSize: 8, hasProj: true, factor: 8 },
    { label: 'G-LSTM, 3 groups', cell: 'glstm', T: 3, B: 5, inputSize: 6, hiddenSize: 9, projSize: 6, hasProj: true, groups: 3 },
    { label: 'G-LSTM without projection', cell: 'glstm', T: 3, B: 2, inputSize: 4, hiddenSize: 6, projSize: 6, hasProj: false, groups: 2 },
    { label: 'G-LSTM, aligned sizes', cell: 'glstm', T: 3, B: 9, inputSize: 32, hiddenSize: 32, projSize: 32, hasProj: false, groups: 4 },
  ];
  for (const c of lstmCases) add('lstm', c.label, (seed) => checkLstm(c, seed));
  add('lstm', 'every cell with the scalar kernels', async (seed) => {
    for (const c of lstmCases.filter((x) => x.label.includes('aligned'))) await checkLstm(c, seed++, 'scalar');
  });
  return cases;
}

/** Runs the cases (those whose `group/name` matches `filter`), one result each. */
export async function runSelfCheck(o: { filter?: RegExp; seed?: number; onResult?: (r: CheckResult, i: number, total: number) => void } = {}): Promise<CheckResult[]> {
  const cases = selfCheckCases().filter((c) => !o.filter || o.filter.test(`${c.group}/${c.name}`));
  const results: CheckResult[] = [];
  let seed = o.seed ?? ((Date.now() % 100000) * 97) >>> 0;
  for (const [i, c] of cases.entries()) {
    const t0 = performance.now();
    const r: CheckResult = { group: c.group, name: c.name, status: 'pass', ms: 0 };
    const skip = c.skip?.() ?? null;
    if (skip) {
      r.status = 'skip';
      r.message = skip;
    } else {
      const s = seed;
      // A scope around the case frees its tensors afterwards (nothing else runs meanwhile).
      pushScope();
      try {
        await c.run(s);
      } catch (e) {
        r.status = 'fail';
        r.message = `${e instanceof Mismatch ? '' : `${(e as Error).name}: `}${(e as Error).message} (seed ${s})`;
      } finally {
        popScope(new Set());
      }
    }
    seed += 1000;
    r.ms = Math.round(performance.now() - t0);
    results.push(r);
    o.onResult?.(r, i, cases.length);
  }
  return results;
}
