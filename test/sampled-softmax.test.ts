import { describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { logUniformProb, sampleCandidates, sampledSoftmaxLoss } from '../src/ops/sampled_softmax.js';
import { sampledLogitsRef } from '../src/ref/sampled_softmax.js';
import { softmaxCrossEntropyRef } from '../src/ref/softmax_ce.js';
import { nd } from '../src/ref/array.js';
import { expectClose, f32, freshSeed, randomNd, toTensor, useDevice } from './helpers.js';

useDevice();

describe('log-uniform candidate sampler', () => {
  it('draws distinct samples, adds unsampled targets once, and gives each target its column', () => {
    const seed = freshSeed();
    const V = 1000;
    const targets = Int32Array.from([5, 999, 5, 3, 998, 0]);
    const c = sampleCandidates(targets, V, 50, seed);
    const added = new Set([...targets].filter((t) => !c.ids.slice(0, 50).includes(t))).size;
    const padding = c.ids.length - 50 - added;
    expect(c.ids.length % 4).toBe(0);
    expect(padding).toBeGreaterThanOrEqual(0);
    expect(padding).toBeLessThan(4);
    expect(c.samples).toBe(50);
    expect(c.real).toBe(50 + added);
    expect(new Set(c.ids).size).toBe(c.ids.length);
    for (let i = 0; i < targets.length; i++) expect(c.ids[c.targetCol[i]]).toBe(targets[i]);
    for (let j = 0; j < c.ids.length; j++) expect(c.inSample[j]).toBe(j < 50 ? 1 : 0);
    // The padding is no row's target and not a sample: every row leaves it out.
    expect(c.targetOnly).toEqual([50, c.ids.length]);
    // Same seed, same draw; another seed, another draw.
    expect(Array.from(sampleCandidates(targets, V, 50, seed).ids)).toEqual(Array.from(c.ids));
    expect(Array.from(sampleCandidates(targets, V, 50, seed + 1).ids)).not.toEqual(Array.from(c.ids));
  });

  it('draws the same samples with the same log Q whatever the targets (a batch split over processes draws what the whole batch draws)', () => {
    const seed = freshSeed();
    const V = 1000;
    const whole = Int32Array.from([5, 999, 7, 3, 998, 0, 640, 641]);
    const c = sampleCandidates(whole, V, 50, seed);
    for (const part of [whole.subarray(0, 4), whole.subarray(4), new Int32Array()]) {
      const p = sampleCandidates(part, V, 50, seed);
      expect(Array.from(p.ids.subarray(0, 50)), `seed ${seed}`).toEqual(Array.from(c.ids.subarray(0, 50)));
      expect(Array.from(p.logQ.subarray(0, 50)), `seed ${seed}`).toEqual(Array.from(c.logQ.subarray(0, 50)));
    }
  });

  it('follows the log-uniform distribution (frequent ids sampled more) and sums to one', () => {
    let total = 0;
    for (let k = 0; k < 5000; k++) total += logUniformProb(k, 5000);
    expect(Math.abs(total - 1)).toBeLessThan(1e-12);
    const counts = new Map<number, number>();
    for (let s = 0; s < 200; s++)
      for (const id of sampleCandidates(new Int32Array(), 5000, 20, s).ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect(counts.get(0) ?? 0).toBeGreaterThan(counts.get(100) ?? 0);
    // id 0 has P = log 2 / log 5001 = 8.1%: with 20 distinct samples per draw it is nearly always in.
    expect(counts.get(0)!).toBeGreaterThan(150);
  });

  it('rejects a sample count that does not fit the vocabulary', () => {
    expect(() => sampleCandidates(new Int32Array([1]), 10, 10, 1)).toThrow(/number of samples must be in \[1, 9\]/);
  });
});

describe('sampledSoftmaxLoss', () => {
  it("is the softmax cross-entropy of the log-Q-corrected logits with other rows' unsampled targets masked; gradients to h, the rows and the biases", async () => {
    const seed = freshSeed();
    const targets = Int32Array.from([3, 400, 3, 77, 999, 12, 5]);
    const cand = sampleCandidates(targets, 1000, 40, seed);
    const N = targets.length;
    const U = cand.ids.length;
    const d = 8;
    const h = f32(randomNd([N, d], seed + 1, 1));
    const w = f32(randomNd([U, d], seed + 2, 1));
    const b = f32(randomNd([U], seed + 3, 1));
    const [ht, wt, bt] = [toTensor(h, true), toTensor(w, true), toTensor(b, true)];
    const loss = sampledSoftmaxLoss(ht, wt, bt, cand);
    loss.backward();
    // Reference: float64 logits, then the corrected and masked logits, then softmax CE.
    const logits = new Float64Array(N * U);
    for (let i = 0; i < N; i++)
      for (let j = 0; j < U; j++) {
        let v = b.data[j];
        for (let k = 0; k < d; k++) v += h.data[i * d + k] * w.data[j * d + k];
        logits[i * U + j] = v;
      }
    const want = softmaxCrossEntropyRef(sampledLogitsRef(nd(logits, [N, U]), cand), cand.targetCol);
    const what = `seed=${seed}`;
    expectClose(await loss.data(), [want.loss], { what, atol: 1e-5, rtol: 1e-5 });
    const dh = new Float64Array(N * d);
    const dw = new Float64Array(U * d);
    const db = new Float64Array(U);
    for (let i = 0; i < N; i++)
      for (let j = 0; j < U; j++) {
        const gl = want.grad.data[i * U + j];
        db[j] += gl;
        for (let k = 0; k < d; k++) {
          dh[i * d + k] += gl * w.data[j * d + k];
          dw[j * d + k] += gl * h.data[i * d + k];
        }
      }
    const tol = { atol: 1e-6, rtol: 1e-4 };
    expectClose(await ht.grad!.data(), dh, { ...tol, what: `dh ${what}` });
    expectClose(await wt.grad!.data(), dw, { ...tol, what: `dw ${what}` });
    expectClose(await bt.grad!.data(), db, { ...tol, what: `db ${what}` });
    // The draw has target-only columns (400, 999 are rarely sampled), so the mask was exercised.
    const [from, to] = cand.targetOnly;
    expect(to).toBeGreaterThan(from);
  });

  it('rejects biases and hidden rows that do not match the candidates', () => {
    const cand = sampleCandidates(Int32Array.from([1, 2]), 100, 10, 1);
    const U = cand.ids.length;
    expect(() => sampledSoftmaxLoss(fl.zeros([2, 4]), fl.zeros([U, 4]), fl.zeros([U + 1]), cand)).toThrow(
      new RegExp(`bRows must have shape \\[${U}\\]`),
    );
    expect(() => sampledSoftmaxLoss(fl.zeros([3, 4]), fl.zeros([U, 4]), fl.zeros([U]), cand)).toThrow(
      /h must have 2 rows \(the candidates were drawn for 2 targets\), got shape \[3, 4\]/,
    );
  });
});
