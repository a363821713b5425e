// evaluate(): a token limit scores exactly that many targets, whatever the batch shape (the
// count, the <unk> count, the progress total and the loss are those of the first N targets in
// the order the batches read them, the loss checked against a float64 cross-entropy of the
// model's own logits over every batch, with no limit and no mask), an array split and a padded
// stream split alike; the cut of a batch itself (data/batcher.ts firstPositions); and progress
// from the first batch on, not after a group of them.
import { describe, expect, it } from 'vitest';
import { evaluate, type EvalProgress } from '../src/train/evaluate.js';
import { firstPositions, makeBatcher, type Batch } from '../src/data/batcher.js';
import type { Split } from '../src/data/types.js';
import { LanguageModel } from '../src/nn/lm.js';
import type { LSTMState } from '../src/nn/lstm.js';
import { Rng } from '../src/random.js';
import { freshSeed, useDevice } from './helpers.js';

useDevice();

const V = 40;
const UNK = 3;
const B = 4;
const T = 5;

/** Every counted target's float64 cross-entropy, in the order evaluate() reads them (batch by batch, time-major). */
async function referenceLosses(model: LanguageModel, split: Split): Promise<{ loss: number; unk: boolean }[]> {
  const out: { loss: number; unk: boolean }[] = [];
  let state: LSTMState[] | undefined;
  for await (const batch of makeBatcher(split, { batchSize: B, bptt: T }).batches()) {
    const r = model.logits(batch.inputs, batch.steps, batch.batchSize, state);
    state?.forEach((s) => {
      s.h.dispose();
      s.c.dispose();
    });
    state = r.state;
    const logits = (await r.logits.data()) as Float32Array;
    r.logits.dispose();
    for (let i = 0; i < batch.targets.length; i++) {
      if (batch.mask && !batch.mask[i]) continue;
      const row = logits.subarray(i * V, (i + 1) * V);
      const max = Math.max(...row);
      let z = 0;
      for (const x of row) z += Math.exp(x - max);
      out.push({ loss: Math.log(z) + max - row[batch.targets[i]], unk: batch.targets[i] === UNK });
    }
  }
  state?.forEach((s) => {
    s.h.dispose();
    s.c.dispose();
  });
  return out;
}

async function expectFirstN(model: LanguageModel, split: Split, ref: { loss: number; unk: boolean }[], n: number, seed: number) {
  const progress: EvalProgress[] = [];
  const r = await evaluate(model, split, { batchSize: B, bptt: T, maxTokens: n, unkId: UNK, onProgress: (p) => progress.push(p) });
  const want = ref.slice(0, n);
  const what = `${split.kind} split, --max-tokens ${n} (seed ${seed})`;
  expect(r.tokens, what).toBe(want.length);
  expect(r.unk, what).toBe(want.filter((t) => t.unk).length);
  expect(r.loss, what).toBeCloseTo(want.reduce((a, t) => a + t.loss, 0) / want.length, 4);
  expect(progress.at(-1), what).toMatchObject({ tokens: want.length, total: split.kind === 'array' ? want.length : n });
}

function model(seed: number): LanguageModel {
  return new LanguageModel({ vocabSize: V, emb: 8, layers: 2, hidden: 16, proj: 8, cell: 'lstm', seed });
}

describe('evaluate() with maxTokens scores exactly the first maxTokens targets', () => {
  it('an array split: limits inside a step, at a step, inside a batch, past the split', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const split: Split = { kind: 'array', name: 'valid', tokens: Int32Array.from({ length: 403 }, () => Math.floor(rng.uniform() * V)) };
    const m = model(seed);
    try {
      const ref = await referenceLosses(m, split);
      expect(ref.length).toBe(B * (Math.floor(403 / B) - 1)); // 400 targets: 20 batches of 20
      for (const n of [1, 7, 37, 200, 203, 399]) await expectFirstN(m, split, ref, n, seed);
      const all = await evaluate(m, split, { batchSize: B, bptt: T, maxTokens: 5000 });
      expect(all.tokens).toBe(ref.length);
    } finally {
      m.dispose();
    }
  });

  it('a stream split whose batches are padded where the sentences run out: only real targets count', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const sentences = Array.from({ length: 9 }, () =>
      Int32Array.from({ length: 2 + Math.floor(rng.uniform() * 9) }, () => Math.floor(rng.uniform() * V)),
    );
    const split: Split = {
      kind: 'stream',
      name: 'valid',
      files: [],
      sentences: async function* () {
        yield* sentences;
      },
    };
    const m = model(seed);
    try {
      const ref = await referenceLosses(m, split);
      expect(ref.length, `seed ${seed}`).toBe(sentences.reduce((a, s) => a + s.length - 1, 0));
      for (const n of [3, 13, Math.max(1, ref.length - 2)]) await expectFirstN(m, split, ref, n, seed);
    } finally {
      m.dispose();
    }
  });
});

describe('evaluate() progress', () => {
  it('reports after the first batch (its kernels may take seconds to compile), then in groups of about a second', async () => {
    const split: Split = { kind: 'array', name: 'valid', tokens: Int32Array.from({ length: 2001 }, (_, i) => (i * 7) % V) };
    const m = model(1);
    try {
      const progress: EvalProgress[] = [];
      const r = await evaluate(m, split, { batchSize: B, bptt: T, onProgress: (p) => progress.push(p) });
      expect(progress[0]!.tokens).toBe(B * T);
      expect(progress.at(-1)).toMatchObject({ tokens: r.tokens, total: r.tokens, eta: 0 });
      const steps = progress
        .slice(1)
        .map((p, i) => p.tokens - progress[i]!.tokens)
        .filter((d) => d > 0);
      expect(Math.max(...steps)).toBeLessThanOrEqual(16 * B * T); // at most 16 batches a group
    } finally {
      m.dispose();
    }
  });
});

describe('firstPositions', () => {
  const batch = (mask?: number[]): Batch => ({
    index: 0,
    steps: 3,
    batchSize: 2,
    inputs: Int32Array.of(0, 1, 2, 3, 4, 5),
    targets: Int32Array.of(10, 11, 12, 13, 14, 15),
    ...(mask ? { mask: Uint8Array.from(mask) } : {}),
  });

  it('keeps the first n positions in time-major order, drops the steps after them and masks the rest of the last', () => {
    const cut = firstPositions(batch(), 3);
    expect(cut.steps).toBe(2);
    expect(Array.from(cut.inputs)).toEqual([0, 1, 2, 3]);
    expect(Array.from(cut.targets)).toEqual([10, 11, 12, 13]);
    expect(Array.from(cut.mask!)).toEqual([1, 1, 1, 0]);
    expect(Array.from(firstPositions(batch(), 4).mask!)).toEqual([1, 1, 1, 1]);
  });

  it('counts only the positions a padded batch keeps, and returns a batch within the limit as it is', () => {
    const padded = batch([1, 0, 1, 1, 0, 1]);
    expect(Array.from(firstPositions(padded, 2).mask!)).toEqual([1, 0, 1, 0]);
    expect(firstPositions(padded, 4)).toBe(padded);
    const plain = batch();
    expect(firstPositions(plain, 6)).toBe(plain);
  });
});
