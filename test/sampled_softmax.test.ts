import { describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { logUniformProb, sampleCandidates, sampledLogits } from '../src/ops/sampled_softmax.js';
import { sampledLogitsRef } from '../src/ref/sampled_softmax.js';
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
    expect(c.samples).toBe(50 + padding);
    expect(new Set(c.ids).size).toBe(c.ids.length);
    for (let i = 0; i < targets.length; i++) expect(c.ids[c.targetCol[i]]).toBe(targets[i]);
    for (let j = 0; j < c.ids.length; j++) expect(c.inSample[j]).toBe(j < 50 || j >= 50 + added ? 1 : 0);
    // Same seed, same draw; another seed, another draw.
    expect(Array.from(sampleCandidates(targets, V, 50, seed).ids)).toEqual(Array.from(c.ids));
    expect(Array.from(sampleCandidates(targets, V, 50, seed + 1).ids)).not.toEqual(Array.from(c.ids));
  });

  it('follows the log-uniform distribution (frequent ids sampled more) and sums to one', () => {
    let total = 0;
    for (let k = 0; k < 5000; k++) total += logUniformProb(k, 5000);
    expect(Math.abs(total - 1)).toBeLessThan(1e-12);
    const counts = new Map<number, number>();
    for (let s = 0; s < 200; s++) for (const id of sampleCandidates(new Int32Array(), 5000, 20, s).ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect(counts.get(0) ?? 0).toBeGreaterThan(counts.get(100) ?? 0);
    // id 0 has P = log 2 / log 5001 = 8.1%: with 20 distinct samples per draw it is nearly always in.
    expect(counts.get(0)!).toBeGreaterThan(150);
  });

  it('rejects a sample count that does not fit the vocabulary', () => {
    expect(() => sampleCandidates(new Int32Array([1]), 10, 10, 1)).toThrow(/number of samples must be in \[1, 9\]/);
  });
});

describe('sampledLogits kernel', () => {
  it('corrects by log Q, masks other rows\' unsampled targets, and passes gradients only where valid', async () => {
    const seed = freshSeed();
    const targets = Int32Array.from([3, 400, 3, 77, 999, 12, 5]);
    const cand = sampleCandidates(targets, 1000, 40, seed);
    const U = cand.ids.length;
    const logits = f32(randomNd([targets.length, U], seed + 1, 3));
    const lt = toTensor(logits, true);
    const y = sampledLogits(lt, cand);
    const dy = f32(randomNd([targets.length, U], seed + 2));
    y.backward(toTensor(dy));
    const want = sampledLogitsRef(logits, cand);
    expectClose(await y.data(), want, { what: `seed=${seed}`, atol: 1e-5 });
    const g = await lt.grad!.data();
    for (let i = 0; i < g.length; i++) expect(g[i]).toBe(want.data[i] === -1e30 ? 0 : Math.fround(dy.data[i]));
    // The loss over them is finite even with masked columns.
    const loss = await fl.softmaxCrossEntropy(y, cand.targetCol).data();
    expect(Number.isFinite(loss[0])).toBe(true);
  });
});
