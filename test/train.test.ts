// Training end to end, in process, on tiny corpora the tests write: a resumed run reproduces
// the uninterrupted one bit for bit (losses, weights, optimizer state, carried LSTM state) for
// several cells, optimizers and softmaxes; the One Billion Word reader trains, resumes and
// evaluates (padded last batches counted exactly); and the sparse rows of sampled-softmax
// training carry exactly the dense gradient of a float64 reference model.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { train, type TrainEvent, type TrainOptions } from '../src/train/trainer.js';
import { type TrainConfig } from '../src/train/config.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { parseMetrics, type MetricsRecord } from '../src/train/metrics.js';
import { LanguageModel } from '../src/nn/lm.js';
import { uniqueSorted } from '../src/nn/table.js';
import { sampleCandidates } from '../src/ops/sampled_softmax.js';
import { nd, type NDArray } from '../src/ref/array.js';
import { embeddingBackwardRef, embeddingRef } from '../src/ref/embedding.js';
import { lstmBackwardRef, lstmForwardRef, type LstmRefParams } from '../src/ref/lstm.js';
import { matmulBackwardRef, matmulRef } from '../src/ref/matmul.js';
import { sampledLogitsRef } from '../src/ref/sampled_softmax.js';
import { softmaxCrossEntropyRef } from '../src/ref/softmax_ce.js';
import { Rng } from '../src/random.js';
import {
  corpusStats,
  loadCorpus,
  LM1B_HELDOUT_DIR,
  LM1B_HELDOUT_FILE,
  LM1B_TRAIN_DIR,
  LM1B_VALID_FILE,
  LM1B_VOCAB_FILE,
} from '../src/data/index.js';
import { CORPUS_WORDS, corpusText, expectClose, freshSeed, useDevice } from './helpers.js';

useDevice();

let tmp: string;
let textSpec: string;
let lm1bDir: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'flstm-train-'));
  // 18 lines, ~150 tokens: 4 streams of ~37 tokens, 7 batches of 5 steps per epoch, so 12
  // steps cross an epoch boundary (the carried state is reset there).
  writeFileSync(join(tmp, 'train.txt'), corpusText(18, 11));
  writeFileSync(join(tmp, 'valid.txt'), corpusText(6, 12));
  textSpec = `text:${join(tmp, 'train.txt')},${join(tmp, 'valid.txt')}`;

  lm1bDir = join(tmp, 'lm1b');
  mkdirSync(join(lm1bDir, LM1B_TRAIN_DIR), { recursive: true });
  mkdirSync(join(lm1bDir, LM1B_HELDOUT_DIR), { recursive: true });
  const vocab = ['<S> 0', '</S> 0', '<UNK> 0', ...CORPUS_WORDS.slice(0, 14).map((w, i) => `${w} ${100 - i}`)];
  writeFileSync(join(lm1bDir, LM1B_VOCAB_FILE), vocab.join('\n') + '\n');
  writeFileSync(join(lm1bDir, LM1B_TRAIN_DIR, 'news.en-00001-of-00100'), corpusText(12, 21));
  writeFileSync(join(lm1bDir, LM1B_TRAIN_DIR, 'news.en-00002-of-00100'), corpusText(12, 22));
  // Held-out sentences with words outside the vocabulary (<UNK>).
  writeFileSync(join(lm1bDir, LM1B_HELDOUT_DIR, LM1B_HELDOUT_FILE), corpusText(7, 23) + 'zebra the yak\n');
  writeFileSync(join(lm1bDir, LM1B_HELDOUT_DIR, LM1B_VALID_FILE), corpusText(5, 24) + 'the yak\n');
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

let runs = 0;
function runDir(name: string): string {
  return join(tmp, `${name}-${runs++}`);
}

function config(over: Omit<Partial<TrainConfig>, 'model'> & { model?: Partial<TrainConfig['model']> } = {}): TrainConfig {
  const { model, ...rest } = over;
  return {
    data: textSpec,
    model: { cell: 'glstm', layers: 2, emb: 8, hidden: 16, proj: 8, groups: 2, dropout: 0.25, ...model },
    batch: 4,
    bptt: 5,
    optimizer: 'adagrad',
    lr: 0.2,
    clip: 1,
    sampled: 8,
    seed: 7,
    ...rest,
  };
}

function trainRecords(out: string): MetricsRecord[] {
  return parseMetrics(readFileSync(join(out, 'metrics.jsonl'), 'utf8')).records.filter((r) => r.split === 'train');
}

/** Float32/Int32 arrays compared bit for bit (NaN payloads and -0 included). */
function sameBits(a: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }, b: typeof a): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

async function expectSameCheckpoint(dirA: string, dirB: string): Promise<void> {
  const a = await loadCheckpoint<Record<string, unknown>>(join(dirA, 'checkpoint'));
  const b = await loadCheckpoint<Record<string, unknown>>(join(dirB, 'checkpoint'));
  const { seconds: _sa, otherSeconds: _oa, ...ca } = a.config as Record<string, unknown>;
  const { seconds: _sb, otherSeconds: _ob, ...cb } = b.config as Record<string, unknown>;
  expect(cb).toEqual(ca);
  expect(Object.keys(b.model).sort()).toEqual(Object.keys(a.model).sort());
  for (const [name, t] of Object.entries(a.model)) {
    expect(b.model[name].shape, name).toEqual(t.shape);
    expect(sameBits(b.model[name].data, t.data), `weights '${name}' differ`).toBe(true);
  }
  expect(a.optimizer).toBeDefined();
  expect(Object.keys(b.optimizer!.tensors).sort()).toEqual(Object.keys(a.optimizer!.tensors).sort());
  for (const [name, t] of Object.entries(a.optimizer!.tensors)) {
    expect(sameBits(b.optimizer!.tensors[name].data, t.data), `optimizer state '${name}' differs`).toBe(true);
  }
  expect(b.optimizer!.scalars).toEqual(a.optimizer!.scalars);
  expect(b.vocab).toBe(a.vocab);
}

/** Run A: N steps straight. Run B: `half` steps, then a resumed train() call to N. */
async function resumeMatches(
  cfg: TrainConfig,
  N = 12,
  half = 6,
  extra: Partial<TrainOptions> = {},
): Promise<{ a: MetricsRecord[]; events: TrainEvent[]; outA: string }> {
  const common = { saveEvery: 4, logEvery: 1, evalTokens: 0, ...extra };
  const outA = runDir('straight');
  const outB = runDir('resumed');
  const sa = await train(cfg, { ...common, out: outA, steps: N });
  expect(sa.step).toBe(N);
  expect(sa.stopReason).toBe('steps');
  const first = await train(cfg, { ...common, out: outB, steps: half });
  expect(first.step).toBe(half);
  const events: TrainEvent[] = [];
  const sb = await train(cfg, { ...common, out: outB, steps: N, resume: true, onLog: (e) => events.push(e) });
  expect(events[0]).toMatchObject({ type: 'start', step: half, resumed: true });
  expect(sb.step).toBe(N);

  const a = trainRecords(outA);
  const b = trainRecords(outB);
  expect(a.map((r) => r.step)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
  expect(b.map((r) => r.step)).toEqual(a.map((r) => r.step));
  for (let i = 0; i < N; i++) {
    // Bit-identical, not close: everything random is seeded by the step, the state restored.
    expect(b[i].loss, `step ${i + 1}: resumed ${b[i].loss} vs straight ${a[i].loss}`).toBe(a[i].loss);
  }
  expect(sb.trainLoss).toBe(sa.trainLoss);
  await expectSameCheckpoint(outA, outB);
  return { a, events, outA };
}

describe('resume reproduces the uninterrupted run exactly', () => {
  it("G-LSTM, Adagrad (the paper's), sampled softmax, dropout 0.25; across an epoch boundary", async () => {
    const cfg = config();
    const { a, outA } = await resumeMatches(cfg);
    // The run learns something and its losses are not all alike (the comparison means something).
    expect(new Set(a.map((r) => r.loss)).size).toBe(a.length);
    expect(a.every((r) => Number.isFinite(r.loss))).toBe(true);
    const ck = await loadCheckpoint<{ epoch: number }>(join(outA, 'checkpoint'));
    expect(ck.config.epoch).toBeGreaterThanOrEqual(1);

    // A control: another seed draws other samples and masks, so step 1 already differs.
    const other = runDir('seed');
    await train({ ...cfg, seed: 8 }, { out: other, steps: 1, logEvery: 1, evalTokens: 0 });
    expect(trainRecords(other)[0].loss).not.toBe(a[0].loss);
  });

  it('F-LSTM, Adam, full softmax, dropout; resumed from a checkpoint that is not on a save boundary', async () => {
    await resumeMatches(config({ model: { cell: 'flstm', factor: 4, groups: undefined }, optimizer: 'adam', lr: 0.01, sampled: 0 }), 12, 5);
  });

  it('hierarchical G-LSTM (groups 2,4), SGD, no clipping, sampled softmax, resumed mid-epoch from the carried state', async () => {
    await resumeMatches(
      config({ model: { groups: [2, 4], hidden: 32, dropout: 0.1 }, optimizer: 'sgd', lr: 0.5, clip: 0, sampled: 6 }),
      9,
      3,
      { saveEvery: 3 },
    );
  });
});

describe('precision f16 (the matmuls read f16 copies of the weight matrices and their inputs)', () => {
  it('tracks the f32 run step by step, is not identical to it, and resumes exactly', async () => {
    const f16 = config({ model: { precision: 'f16' } });
    expect(f16.model.precision).toBe('f16');
    const { a: half, outA } = await resumeMatches(f16, 10, 5);
    const ck = await loadCheckpoint<{ train: TrainConfig }>(join(outA, 'checkpoint'));
    expect(ck.config.train.model.precision).toBe('f16');
    const outF = runDir('f32');
    await train(config(), { out: outF, steps: 10, logEvery: 1, evalTokens: 0 });
    const full = trainRecords(outF);
    let differ = 0;
    for (let i = 0; i < 10; i++) {
      expect(
        Math.abs(half[i].loss - full[i].loss) / full[i].loss,
        `step ${i + 1}: f16 ${half[i].loss} vs f32 ${full[i].loss}`,
      ).toBeLessThan(0.01);
      if (half[i].loss !== full[i].loss) differ++;
    }
    expect(differ).toBeGreaterThan(0);
  });
});

describe('One Billion Word format (lm1b:DIR)', () => {
  it('trains a few steps, resumes exactly (the stream is re-read and skipped), and evaluates every held-out token', async () => {
    const cfg = config({ data: `lm1b:${lm1bDir}`, model: { cell: 'lstm', groups: undefined, hidden: 16 }, sampled: 6, batch: 3, bptt: 4 });
    const out = runDir('lm1b');
    const events: TrainEvent[] = [];
    const s = await train(cfg, { out, steps: 8, logEvery: 2, saveEvery: 4, onLog: (e) => events.push(e) });
    expect(s.step).toBe(8);
    const corpus = await loadCorpus(`lm1b:${lm1bDir}`);
    const stats = await corpusStats(corpus);
    expect(stats.valid!.unk).toBeGreaterThan(0);
    // Every held-out target counted once: the padded positions of the last batches are not.
    expect(s.valid!.tokens).toBe(stats.valid!.tokens);
    expect(Number.isFinite(s.valid!.loss)).toBe(true);
    expect(s.valid!.ppl).toBeGreaterThan(1);
    expect(s.valid!.ppl).toBeLessThan(corpus.vocab.size * 3);
    expect(events.find((e) => e.type === 'eval')).toMatchObject({ split: 'valid', tokens: stats.valid!.tokens });

    // The training stream: 24 sentences over 3 streams of 4 steps; 12 steps go around the shards.
    await resumeMatches(cfg, 12, 7, { evalTokens: 0 });
  });
});

// --- sampled-softmax gradients against a float64 reference --------------------------------

interface RefGrads {
  loss: number;
  dEmb: NDArray;
  dW: NDArray;
  db: NDArray;
  dLayers: Record<string, Float64Array>;
}

/**
 * The float64 reference of LanguageModel.trainLoss with dropout 0: embedding -> LSTM stack
 * (src/ref/lstm.ts, from a given carried state) -> softmax over all words (S = 0) or the
 * sampled candidates (corrected logits, accidental hits masked) -> mean cross-entropy; and
 * the dense gradients of the whole tables [V, ...].
 */
function referenceModel(
  sd: Record<string, { shape: number[]; data: Float32Array }>,
  o: {
    V: number;
    emb: number;
    layers: { cell: 'glstm' | 'lstm' | 'flstm'; groups?: number; factor?: number; pin: number; n: number; p: number }[];
  },
  inputs: Int32Array,
  targets: Int32Array,
  T: number,
  B: number,
  state: { h: NDArray; c: NDArray }[],
  cand: ReturnType<typeof sampleCandidates> | null,
): RefGrads {
  const E = nd(sd.embedding.data, sd.embedding.shape);
  const W = nd(sd.softmax_w.data, sd.softmax_w.shape);
  const bias = nd(sd.softmax_b.data, sd.softmax_b.shape);
  const params: LstmRefParams[] = o.layers.map((l, i) => {
    const g = (k: string) =>
      sd[`rnn.layers.${i}.${k}`] ? nd(sd[`rnn.layers.${i}.${k}`].data, sd[`rnn.layers.${i}.${k}`].shape) : undefined;
    return {
      cell: l.cell,
      inputSize: l.pin,
      hiddenSize: l.n,
      projSize: l.p,
      groups: l.groups,
      factor: l.factor,
      W: g('W'),
      W1: g('W1'),
      W2: g('W2'),
      b: g('b')!,
      P: g('P'),
    };
  });
  // Forward.
  const xs: NDArray[] = [embeddingRef(E, inputs, [T, B])];
  for (let l = 0; l < params.length; l++) xs.push(lstmForwardRef(params[l], xs[l], state[l].h, state[l].c).y);
  const d = o.layers[o.layers.length - 1].p;
  const h = nd(xs[xs.length - 1].data, [T * B, d]);
  const ids = cand ? Array.from(cand.ids) : Array.from({ length: o.V }, (_, i) => i);
  const rowsW = embeddingRef(W, ids);
  const rowsB = nd(
    ids.map((i) => bias.data[i]),
    [ids.length],
  );
  const logits = matmulRef(h, rowsW, { transposeB: true, bias: rowsB });
  const final = cand ? sampledLogitsRef(logits, cand) : logits;
  const ce = softmaxCrossEntropyRef(final, cand ? cand.targetCol : targets);
  // Backward: the correction is a constant shift and the masked entries get probability 0,
  // so d loss / d logits is the cross-entropy gradient itself.
  const dl = ce.grad;
  const mm = matmulBackwardRef(h, rowsW, dl, { transposeB: true, bias: rowsB });
  let dy = nd(mm.da.data, [T, B, d]);
  const dLayers: Record<string, Float64Array> = {};
  for (let l = params.length - 1; l >= 0; l--) {
    const g = lstmBackwardRef(params[l], xs[l], state[l].h, state[l].c, dy);
    for (const k of ['W', 'W1', 'W2', 'b', 'P'] as const) {
      const v = g[`d${k}` as keyof typeof g] as NDArray | undefined;
      if (v) dLayers[`rnn.layers.${l}.${k}`] = Float64Array.from(v.data);
    }
    dy = g.dx;
  }
  const dEmb = embeddingBackwardRef(o.V, inputs, dy);
  const dW = embeddingBackwardRef(o.V, ids, mm.db);
  const db = embeddingBackwardRef(o.V, ids, nd(mm.dbias!.data, [ids.length, 1]));
  return { loss: ce.loss, dEmb, dW, db: nd(db.data, [o.V]), dLayers };
}

/** The rows `ids` of a dense [V, D] array, and whether every other row is exactly zero. */
function rowsOf(a: NDArray, ids: ArrayLike<number>): { rows: Float64Array; restZero: boolean } {
  const D = a.data.length / a.shape[0];
  const rows = new Float64Array(ids.length * D);
  const set = new Set(Array.from(ids));
  for (let k = 0; k < ids.length; k++) rows.set(a.data.subarray(ids[k] * D, (ids[k] + 1) * D), k * D);
  let restZero = true;
  for (let r = 0; r < a.shape[0]; r++) if (!set.has(r)) for (let j = 0; j < D; j++) if (a.data[r * D + j] !== 0) restZero = false;
  return { rows, restZero };
}

describe('sparse rows of LanguageModel.trainLoss equal the dense gradient of a float64 reference', () => {
  for (const S of [5, 0]) {
    it(`${S > 0 ? `sampled softmax (S = ${S})` : 'full softmax'}: embedding, softmax weight and bias rows; LSTM weights; from a carried state`, async () => {
      const seed = freshSeed();
      const rng = new Rng(seed);
      const V = 24;
      const [T, B] = [4, 3];
      const layers = [
        { cell: 'glstm' as const, groups: 2, pin: 8, n: 8, p: 4 },
        { cell: 'glstm' as const, groups: 2, pin: 4, n: 8, p: 4 },
      ];
      const model = new LanguageModel({ vocabSize: V, emb: 8, layers: 2, hidden: 8, proj: 4, cell: 'glstm', groups: 2, dropout: 0, seed });
      // Nonzero softmax bias, so its gradient path is exercised with real values.
      const sd0 = await model.stateDict();
      model.loadStateDict({ ...sd0, softmax_b: { shape: [V], data: Float32Array.from({ length: V }, () => rng.uniform() - 0.5) } });
      const sd = await model.stateDict();
      // Frequent ids (low) and a few rare ones, repeats included (rows are summed per id).
      const draw = () => Math.floor(rng.uniform() * rng.uniform() * V);
      const inputs = Int32Array.from({ length: T * B }, draw);
      const targets = Int32Array.from({ length: T * B }, draw);
      const state = layers.map((l) => ({
        h: nd(
          Float32Array.from({ length: B * l.p }, () => rng.uniform() - 0.5),
          [B, l.p],
        ),
        c: nd(
          Float32Array.from({ length: B * l.n }, () => rng.uniform() - 0.5),
          [B, l.n],
        ),
      }));
      const stepSeed = 1000 + (seed % 1000);
      // The candidates trainLoss draws for this seed (the same derivation as src/nn/lm.ts).
      const cand = S > 0 ? sampleCandidates(targets, V, S, (stepSeed * 40503 + 17) >>> 0) : null;
      const ref = referenceModel(sd, { V, emb: 8, layers }, inputs, targets, T, B, state, cand);

      const gpuState = state.map((s) => ({
        h: fl.tensor(Float32Array.from(s.h.data), s.h.shape),
        c: fl.tensor(Float32Array.from(s.c.data), s.c.shape),
      }));
      const r = model.trainLoss(inputs, targets, T, B, gpuState, { sampled: S, seed: stepSeed });
      r.loss.backward();
      const what = `seed=${seed} S=${S}`;
      expectClose(await r.loss.data(), [ref.loss], { atol: 1e-5, rtol: 1e-5, what: `loss ${what}` });

      expect(r.sparse.map((x) => x.table)).toEqual(
        S > 0 ? [model.embeddingTable, model.softmaxTable, model.biasTable] : [model.embeddingTable],
      );
      // Embedding: the unique input ids, their summed gradient rows; no other row has any.
      const emb = r.sparse[0];
      expect(Array.from(emb.ids)).toEqual(Array.from(uniqueSorted(inputs)));
      const e = rowsOf(ref.dEmb, emb.ids);
      expect(e.restZero).toBe(true);
      expectClose(await emb.rows.grad!.data(), e.rows, { atol: 2e-6, rtol: 1e-3, what: `embedding rows ${what}` });
      expect(model.embedding.grad ?? null).toBeNull();

      if (cand) {
        // Softmax table: the candidates (samples, then unsampled targets), rows and biases.
        expect(Array.from(r.sparse[1].ids)).toEqual(Array.from(cand.ids));
        const w = rowsOf(ref.dW, cand.ids);
        const b = rowsOf(nd(ref.db.data, [V, 1]), cand.ids);
        expect(w.restZero && b.restZero).toBe(true);
        expectClose(await r.sparse[1].rows.grad!.data(), w.rows, { atol: 2e-6, rtol: 1e-3, what: `softmax_w rows ${what}` });
        expectClose(await r.sparse[2].rows.grad!.data(), b.rows, { atol: 2e-6, rtol: 1e-3, what: `softmax_b rows ${what}` });
        expect(model.softmaxW.grad ?? null).toBeNull();
      } else {
        expectClose(await model.softmaxW.grad!.data(), ref.dW, { atol: 2e-6, rtol: 1e-3, what: `softmax_w ${what}` });
        expectClose(await model.softmaxB.grad!.data(), ref.db, { atol: 2e-6, rtol: 1e-3, what: `softmax_b ${what}` });
      }
      // The LSTM layers' dense gradients too (the same backward feeds the embedding rows).
      for (const [name, t] of model.rnn.parameters()) {
        expectClose(await t.grad!.data(), ref.dLayers[`rnn.${name}`], { atol: 5e-6, rtol: 1e-3, what: `rnn.${name} ${what}` });
      }
      model.dispose();
    });
  }
});

describe('evaluation and generation hold no GPU memory from one batch to the next', () => {
  it('evaluate() and LanguageModel.logits() leave the buffer pool where they found it', async () => {
    const model = new LanguageModel({ vocabSize: 50, emb: 8, layers: 2, hidden: 16, proj: 8, cell: 'glstm', groups: 2, seed: 1 });
    const split = { kind: 'array' as const, name: 'valid', tokens: Int32Array.from({ length: 2000 }, (_, i) => (i * 7) % 50) };
    try {
      await fl.train.evaluate(model, split, { batchSize: 4, bptt: 5 }); // after the model's own buffers
      const start = fl.stats();
      await fl.train.evaluate(model, split, { batchSize: 4, bptt: 5 });
      const before = fl.stats();
      const r = await fl.train.evaluate(model, split, { batchSize: 4, bptt: 5 });
      expect(r.tokens).toBeGreaterThan(1900); // ~100 batches
      const after = fl.stats();
      expect(after.poolInUseBytes).toBe(before.poolInUseBytes);
      // Each evaluation reuses its buffers batch after batch and gives them back at its end:
      // the second allocates what the first did, and neither leaves a free buffer in the pool.
      expect(after.bufferAllocations - before.bufferAllocations).toBe(before.bufferAllocations - start.bufferAllocations);
      expect(after.bufferAllocations - before.bufferAllocations).toBeLessThan(100);
      expect([before.poolFreeBytes, after.poolFreeBytes]).toEqual([0, 0]);
      // Token by token, as generation runs: only the returned logits and state live on.
      let state: ReturnType<LanguageModel['logits']>['state'] | undefined;
      for (let i = 0; i < 30; i++) {
        const o = model.logits(Int32Array.of(i % 50), 1, 1, state);
        state?.forEach((s) => {
          s.h.dispose();
          s.c.dispose();
        });
        state = o.state;
        o.logits.dispose();
      }
      state?.forEach((s) => {
        s.h.dispose();
        s.c.dispose();
      });
      expect(fl.stats().poolInUseBytes).toBe(before.poolInUseBytes);
    } finally {
      model.dispose();
    }
  });
});
