import { describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { Rng } from '../src/random.js';
import { nd } from '../src/ref/array.js';
import { excludeColumnsRef, rowLosses, softmaxCrossEntropyBackwardRef, softmaxCrossEntropyRef } from '../src/ref/softmax_ce.js';
import { dot, numericGrad } from '../src/ref/gradcheck.js';
import { expectClose, f32, freshSeed, randomIds, randomNd, toTensor, useDevice } from './helpers.js';

useDevice();

const bits = (a: Float32Array | Int32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('softmax cross-entropy reference', () => {
  it('its gradient matches finite differences', () => {
    const seed = freshSeed();
    const logits = randomNd([4, 6], seed, 3);
    const targets = [0, 5, 2, 2];
    const g = 1.7;
    const num = numericGrad(() => g * softmaxCrossEntropyRef(logits, targets).loss, logits);
    expectClose(num, softmaxCrossEntropyBackwardRef(logits, targets, g), { what: `softmaxCE' seed=${seed}`, atol: 1e-7 });
  });

  it('is stable for huge logits', () => {
    const r = rowLosses(nd([1000, -1000, -1000, 1000, 1000, 1000], [3, 2]), [0, 0, 1]);
    expect(Array.from(r)).toEqual([0, 2000, Math.log(2)]);
  });
});

describe('softmax cross-entropy on the GPU', () => {
  // [rows, classes]
  const cases: [number, number][] = [
    [1, 1],
    [7, 7],
    [33, 33],
    [129, 129],
    [7, 1000],
    [33, 1000],
    [3, 10000],
    [1000, 7],
  ];
  for (const [N, C] of cases) {
    for (const kernel of ['rows', 'tree'] as const) {
      it(`[${N}, ${C}] (${kernel} kernel): loss and gradient match the reference`, async () => {
        const seed = freshSeed();
        const logits = f32(randomNd([N, C], seed, 4));
        const targets = randomIds(N, C, seed + 1);
        const g = 0.5 + new Rng(seed + 2).uniform() * 2;
        const lt = toTensor(logits, true);
        const loss = fl.softmaxCrossEntropy(lt, fl.tensor(targets), { kernel });
        expect(loss.shape).toEqual([]);
        loss.backward(fl.tensor([g], []));
        const want = softmaxCrossEntropyRef(logits, targets);
        expectClose(await loss.data(), [want.loss], { what: `softmaxCE seed=${seed}`, atol: 1e-5, rtol: 1e-5 });
        expectClose(await lt.grad!.data(), softmaxCrossEntropyBackwardRef(logits, f32(nd(targets, [N])).data, g), {
          what: `softmaxCE' seed=${seed}`,
          atol: 1e-7,
          rtol: 1e-4,
        });
      });
    }
  }

  it('exclude: columns [from, to) count only in the rows whose target they are (both kernels, vec4 and scalar gradients)', async () => {
    for (const [N, C, from, to] of [
      [9, 12, 4, 9],
      [6, 301, 100, 250],
      [5, 130, 0, 130],
    ] as const) {
      for (const kernel of ['rows', 'tree'] as const) {
        const seed = freshSeed();
        const logits = f32(randomNd([N, C], seed, 4));
        const targets = randomIds(N, C, seed + 1);
        for (let i = 0; i < N; i += 2) targets[i] = from + (i % (to - from)); // some targets among the excluded columns
        const lt = toTensor(logits, true);
        const loss = fl.softmaxCrossEntropy(lt, targets, { kernel, exclude: [from, to] });
        loss.backward();
        const masked = excludeColumnsRef(logits, targets, [from, to]);
        const want = softmaxCrossEntropyRef(masked, targets);
        const what = `[${N}, ${C}] exclude [${from}, ${to}) ${kernel} seed=${seed}`;
        expectClose(await loss.data(), [want.loss], { what, atol: 1e-5, rtol: 1e-5 });
        const grad = await lt.grad!.data();
        expectClose(grad, want.grad, { what: `${what} (gradient)`, atol: 1e-7, rtol: 1e-4 });
        for (let i = 0; i < grad.length; i++) if (masked.data[i] === -Infinity) expect(grad[i]).toBe(0);
        // Different from the loss over every column.
        expect(Math.abs((await loss.data())[0] - softmaxCrossEntropyRef(logits, targets).loss)).toBeGreaterThan(1e-3);
      }
    }
  });

  it('rejects an exclude range that is not a range of the columns', () => {
    const lt = fl.zeros([2, 8]);
    expect(() => fl.softmaxCrossEntropy(lt, [0, 1], { exclude: [3, 9] })).toThrow(
      /exclude must be a column range \[from, to\) with 0 <= from <= to <= 8, got \[3,9\]/,
    );
    expect(() => fl.softmaxCrossEntropy(lt, [0, 1], { exclude: [5, 2] })).toThrow(/exclude must be a column range/);
  });

  it('picks a kernel by size and needs no gradient buffer without requiresGrad', async () => {
    for (const [N, C] of [
      [33, 7],
      [5, 4000],
      [100, 300],
    ] as const) {
      const seed = freshSeed();
      const logits = f32(randomNd([N, C], seed, 2));
      const targets = Array.from(randomIds(N, C, seed + 1));
      const loss = fl.softmaxCrossEntropy(toTensor(logits), targets);
      expect(loss.requiresGrad).toBe(false);
      expectClose(await loss.data(), [softmaxCrossEntropyRef(logits, targets).loss], { what: `seed=${seed}`, atol: 1e-5, rtol: 1e-5 });
    }
  });

  it('gives finite, correct results for huge logits (+-1000)', async () => {
    for (const kernel of ['rows', 'tree'] as const) {
      const lt = fl.tensor(
        [
          [1000, -1000],
          [-1000, 1000],
          [1000, 1000],
        ],
        undefined,
        { requiresGrad: true },
      );
      const loss = fl.softmaxCrossEntropy(lt, [0, 0, 1], { kernel });
      loss.backward();
      const l = (await loss.data())[0];
      expect(Number.isFinite(l)).toBe(true);
      expectClose([l], [(0 + 2000 + Math.log(2)) / 3], { rtol: 1e-6 });
      expectClose(await lt.grad!.data(), [0, 0, -1 / 3, 1 / 3, 1 / 6, -1 / 6], { atol: 1e-7 });

      const seed = freshSeed();
      const rng = new Rng(seed);
      const big = nd(
        Array.from({ length: 7 * 1000 }, () => (rng.uniform() < 0.5 ? -1000 : 1000) + rng.uniform()),
        [7, 1000],
      );
      const x = f32(big);
      const targets = randomIds(7, 1000, seed + 1);
      const xt = toTensor(x, true);
      const loss2 = fl.softmaxCrossEntropy(xt, targets, { kernel });
      loss2.backward();
      const want = softmaxCrossEntropyRef(x, targets);
      const got = await loss2.data();
      expect(Number.isFinite(got[0])).toBe(true);
      expectClose(got, [want.loss], { what: `huge ${kernel} seed=${seed}`, rtol: 1e-5 });
      const grad = await xt.grad!.data();
      expect(grad.every((v) => Number.isFinite(v))).toBe(true);
      expectClose(grad, want.grad, { what: `huge' ${kernel} seed=${seed}`, atol: 1e-7, rtol: 1e-4 });
    }
  });

  it('is deterministic: two runs give bit-identical loss and gradient', async () => {
    const seed = freshSeed();
    const logits = f32(randomNd([33, 10000], seed, 5));
    const targets = randomIds(33, 10000, seed + 1);
    const out: number[][] = [];
    for (let k = 0; k < 2; k++) {
      const lt = toTensor(logits, true);
      const loss = fl.softmaxCrossEntropy(lt, targets);
      loss.backward();
      out.push([...bits((await loss.data()) as Float32Array), ...bits((await lt.grad!.data()) as Float32Array)]);
    }
    expect(out[1]).toEqual(out[0]);
  });

  it('rejects a target out of range, naming the value, its row and the number of classes', () => {
    const logits = fl.zeros([3, 5], { requiresGrad: true });
    expect(() => fl.softmaxCrossEntropy(logits, [0, 5, 1])).toThrow(
      'flstm: softmaxCrossEntropy: target 5 at position 1 is out of range for 5 classes (expected 0 <= target < 5)',
    );
    expect(() => fl.softmaxCrossEntropy(logits, fl.tensor(Int32Array.from([0, 1, -2])))).toThrow(
      'flstm: softmaxCrossEntropy: target -2 at position 2 is out of range for 5 classes',
    );
  });

  it('rejects wrong dtypes and shapes with clear messages', () => {
    const logits = fl.zeros([3, 5]);
    expect(() => fl.softmaxCrossEntropy(logits, fl.tensor([0, 1, 2]))).toThrow(
      'flstm: softmaxCrossEntropy: targets must be i32, got f32 [3]',
    );
    expect(() => fl.softmaxCrossEntropy(fl.tensor(new Int32Array(15), [3, 5]), [0, 1, 2])).toThrow(
      'flstm: softmaxCrossEntropy: logits must be f32, got i32 [3, 5]',
    );
    expect(() => fl.softmaxCrossEntropy(fl.zeros([15]), [0])).toThrow(
      'flstm: softmaxCrossEntropy: logits must be 2-D [rows, classes], got shape [15]',
    );
    expect(() => fl.softmaxCrossEntropy(logits, [0, 1])).toThrow(
      'flstm: softmaxCrossEntropy: targets must have shape [3] (one per row of logits [3, 5]), got [2]',
    );
    expect(() => fl.softmaxCrossEntropy(logits, fl.tensor(new Int32Array(3), [3, 1]))).toThrow(
      /targets must have shape \[3\].*got \[3, 1\]/,
    );
    expect(() => fl.softmaxCrossEntropy(fl.zeros([0, 5]), [])).toThrow(/must have at least one row and one class/);
  });
});
