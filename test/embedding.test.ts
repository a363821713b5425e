import { describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { nd } from '../src/ref/array.js';
import { embeddingBackwardRef, embeddingBackwardSparseRef, embeddingRef } from '../src/ref/embedding.js';
import { dot, numericGrad } from '../src/ref/gradcheck.js';
import { expectClose, f32, freshSeed, randomIds, randomNd, toTensor, useDevice } from './helpers.js';

useDevice();

const bits = (a: Float32Array | Int32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('embedding reference', () => {
  it('its table gradient matches finite differences (repeated ids)', () => {
    const seed = freshSeed();
    const table = randomNd([5, 3], seed);
    const ids = [0, 2, 2, 4, 0, 0];
    const w = randomNd([6, 3], seed + 1);
    const num = numericGrad(() => dot(w, embeddingRef(table, ids)), table);
    expectClose(num, embeddingBackwardRef(5, ids, w), { what: `embeddingRef' seed=${seed}`, atol: 1e-7 });
    const sparse = embeddingBackwardSparseRef(ids, w);
    expect(sparse.ids).toEqual([0, 2, 4]);
    const dense = embeddingBackwardRef(5, ids, w).data;
    expectClose(sparse.rows.data, [...dense.subarray(0, 3), ...dense.subarray(6, 9), ...dense.subarray(12, 15)], { atol: 1e-12 });
  });
});

describe('embedding on the GPU', () => {
  // [vocab, dim, ids shape]: awkward sizes, many repeated ids (1000 over a vocab of 7).
  const cases: [number, number, number[]][] = [
    [7, 33, [1000]],
    [1000, 7, [129]],
    [1, 1, [1]],
    [129, 1000, [33]],
    [33, 129, [7, 11]],
    [7, 1, [3, 5, 7]],
    [1000, 33, [1000]],
  ];
  for (const [V, D, S] of cases) {
    it(`table [${V}, ${D}], ids ${JSON.stringify(S)}: forward, dense and sparse backward match the reference`, async () => {
      const seed = freshSeed();
      const P = S.reduce((a, b) => a * b, 1);
      const table = f32(randomNd([V, D], seed));
      const ids = randomIds(P, V, seed + 1);
      const dy = f32(randomNd([...S, D], seed + 2));
      const tt = toTensor(table, true);
      const it = fl.tensor(ids, S);
      const y = fl.embedding(tt, it);
      expect(y.shape).toEqual([...S, D]);
      y.backward(toTensor(dy));
      expectClose(await y.data(), embeddingRef(table, ids, S), { what: `embedding seed=${seed}`, atol: 0, rtol: 0 });
      expectClose(await tt.grad!.data(), embeddingBackwardRef(V, ids, dy), { what: `embedding' seed=${seed}`, atol: 1e-4 });
      const sp = fl.embeddingBackwardSparse(it, toTensor(dy), V);
      const want = embeddingBackwardSparseRef(ids, dy);
      expect(Array.from(sp.ids)).toEqual(want.ids);
      expect(sp.rows.shape).toEqual([want.ids.length, D]);
      expectClose(await sp.rows.data(), want.rows, { what: `embeddingBackwardSparse seed=${seed}`, atol: 1e-4 });
    });
  }

  it('takes ids as number[] or Int32Array, and through a reshaped view of an id tensor', async () => {
    const seed = freshSeed();
    const table = f32(randomNd([9, 5], seed));
    const ids = [8, 0, 3, 3, 8, 1];
    const want = embeddingBackwardRef(9, ids, nd(new Float64Array(30).fill(1), [6, 5]));
    for (const given of [ids, Int32Array.from(ids), fl.tensor(Int32Array.from(ids), [2, 3]).reshape([6])]) {
      const tt = toTensor(table, true);
      const y = fl.embedding(tt, given);
      fl.sum(y).backward();
      expectClose(await y.data(), embeddingRef(table, ids), { atol: 0, rtol: 0 });
      expectClose(await tt.grad!.data(), want, { atol: 1e-6 });
    }
  });

  it('handles no ids: an empty result and a zero table gradient', async () => {
    const tt = fl.randn([5, 3], { requiresGrad: true, seed: freshSeed() });
    const y = fl.embedding(tt, []);
    expect(y.shape).toEqual([0, 3]);
    y.backward(fl.tensor(new Float32Array(0), [0, 3]));
    expect(Array.from(await tt.grad!.data())).toEqual(new Array(15).fill(0));
  });

  it('backward is deterministic: two runs give bit-identical gradients', async () => {
    const seed = freshSeed();
    const V = 7,
      D = 129,
      P = 1000;
    const table = f32(randomNd([V, D], seed));
    const ids = randomIds(P, V, seed + 1);
    const dy = toTensor(f32(randomNd([P, D], seed + 2, 10)));
    const runs: number[][] = [];
    const sparse: number[][] = [];
    for (let k = 0; k < 2; k++) {
      const tt = toTensor(table, true);
      fl.embedding(tt, fl.tensor(ids)).backward(dy);
      runs.push(bits((await tt.grad!.data()) as Float32Array));
      sparse.push(bits((await fl.embeddingBackwardSparse(ids, dy).rows.data()) as Float32Array));
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(sparse[1]).toEqual(sparse[0]);
  });

  it('needs no gradient when the table does not require one (and then accepts GPU-only ids)', async () => {
    const table = f32(randomNd([4, 2], freshSeed()));
    const gpuIds = fl.Tensor.empty([3], 'i32'); // no host copy (contents undefined: the kernel guards the read)
    const y = fl.embedding(toTensor(table), fl.tensor([1, 3, 0], [3], { dtype: 'i32' }));
    expect(y.requiresGrad).toBe(false);
    expectClose(await y.data(), embeddingRef(table, [1, 3, 0]), { atol: 0, rtol: 0 });
    const y2 = fl.noGrad(() => fl.embedding(toTensor(table, true), gpuIds));
    expect(y2.shape).toEqual([3, 2]);
    expect(y2.requiresGrad).toBe(false);
  });

  it('rejects an id out of range, naming the id, its position and the vocabulary size', () => {
    const table = fl.zeros([10, 4], { requiresGrad: true });
    expect(() => fl.embedding(table, [1, 2, 10])).toThrow(
      'flstm: embedding: id 10 at position 2 is out of range for a table of 10 rows (expected 0 <= id < 10)',
    );
    expect(() => fl.embedding(table, fl.tensor(Int32Array.from([0, 1, 2, 3, -1, 5]), [2, 3]))).toThrow(
      'flstm: embedding: id -1 at position 4 (index [1, 1] of shape [2, 3]) is out of range for a table of 10 rows',
    );
    expect(() => fl.embeddingBackwardSparse([3, 12], fl.zeros([2, 4]), 10)).toThrow(
      /id 12 at position 1 is out of range for a table of 10 rows/,
    );
  });

  it('rejects wrong dtypes, ranks and shapes with clear messages', () => {
    const table = fl.zeros([10, 4]);
    expect(() => fl.embedding(table, fl.tensor([1, 2], [2]))).toThrow('flstm: embedding: ids must be i32, got f32 [2]');
    expect(() => fl.embedding(fl.tensor(new Int32Array(8), [2, 4]), [0])).toThrow('flstm: embedding: table must be f32, got i32 [2, 4]');
    expect(() => fl.embedding(fl.zeros([40]), [0])).toThrow('flstm: embedding: table must be 2-D [vocab, dim], got shape [40]');
    expect(() => fl.embedding(table, [0, 1.5])).toThrow('flstm: embedding: ids must be 32-bit integers, got 1.5 at position 1');
    expect(() => fl.embeddingBackwardSparse([1, 2], fl.zeros([3, 4]))).toThrow(
      'flstm: embeddingBackwardSparse: grad has shape [3, 4], expected [2, D] for ids of shape [2]',
    );
    expect(() => fl.embedding(fl.zeros([10, 4], { requiresGrad: true }), fl.Tensor.empty([2], 'i32'))).toThrow(
      /the table's gradient needs the ids on the host, but ids \[2\] \(i32, from .*\) exist only on the GPU/,
    );
  });
});
