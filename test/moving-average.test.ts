// The moving average of the LSTM weights (--ema, f-lm's average_params): each update is
// avg = d·avg + (1 − d)·w against a float64 reference, the averages start as the initial
// weights, a validation runs on them and leaves the trained weights in place, a checkpoint
// stores them as ema.* and a resume continues them exactly, and a loaded model (evaluate,
// generate) uses them.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { MovingAverage } from '../src/optim/moving_average.js';
import { tensor, writeTensor } from '../src/ops/create.js';
import { train } from '../src/train/trainer.js';
import type { TrainConfig } from '../src/train/config.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { loadModel } from '../src/train/load.js';
import { evaluate } from '../src/train/evaluate.js';
import { loadCorpus } from '../src/data/corpus.js';
import { LanguageModel } from '../src/nn/lm.js';
import { modelOptions } from '../src/train/step.js';
import { brownExcerpt } from '../tools/build-web.mjs';

const dirs: string[] = [];
beforeAll(async () => {
  await fl.init();
});
afterAll(async () => {
  fl.dispose();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function randomValues(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** TensorFlow's ExponentialMovingAverage(decay, num_updates=t).apply(): the decay of update t. */
const tfDecay = (decay: number, t: number) => Math.min(decay, (1 + t) / (10 + t));

describe('MovingAverage', () => {
  it('updates as avg = d avg + (1 - d) w, swaps the averages in for a function and the weights back', async () => {
    const d = 0.75;
    const w0 = [randomValues(37, 1), randomValues(12, 2)];
    const params = w0.map((v, i) => tensor(v, [v.length]).keep());
    const ema = new MovingAverage(
      params.map((p, i) => [`p${i}`, p]),
      d,
      'fixed',
    );
    const ref = w0.map((v) => Float64Array.from(v));
    for (let step = 0; step < 3; step++) {
      params.forEach((p, i) => {
        const w = randomValues(p.size, 10 + 7 * step + i);
        writeTensor(p, w);
        ref[i] = ref[i].map((a, j) => d * a + (1 - d) * w[j]);
      });
      ema.update(step + 1);
    }
    const saved = await ema.stateDict();
    expect(Object.keys(saved)).toEqual(['ema.p0', 'ema.p1']);
    for (let i = 0; i < 2; i++) expect(maxDiff(saved[`ema.p${i}`].data, ref[i])).toBeLessThan(1e-6);

    const trained = await Promise.all(params.map((p) => p.data()));
    const inside = await ema.withAverages(() => Promise.all(params.map((p) => p.data())));
    for (let i = 0; i < 2; i++) {
      expect(Array.from(inside[i])).toEqual(Array.from(saved[`ema.p${i}`].data));
      expect(Array.from(await params[i].data())).toEqual(Array.from(trained[i]));
    }

    const other = new MovingAverage(
      params.map((p, i) => [`p${i}`, p]),
      d,
      'fixed',
    );
    other.loadStateDict(saved, 'test');
    expect(Array.from((await other.stateDict())['ema.p1'].data)).toEqual(Array.from(saved['ema.p1'].data));
    expect(() => other.loadStateDict({ 'ema.p0': saved['ema.p0'] }, 'the checkpoint in X')).toThrow(
      "the checkpoint in X holds no moving average 'ema.p1'",
    );
    expect(() => new MovingAverage([['p0', params[0]]], 1, 'fixed')).toThrow('decay must be a number in [0, 1), got 1');
    expect(() => ema.update(0)).toThrow('the step must be a positive integer, got 0');
    [ema, other].forEach((e) => e.dispose());
    params.forEach((p) => p.dispose());
  });

  it("warmup: the decay of update t is min(D, (1 + t)/(10 + t)), TensorFlow's num_updates form, from any step on", async () => {
    const D = 0.95;
    const w0 = randomValues(53, 3);
    const p = tensor(w0, [w0.length]).keep();
    // From step 1, and from step 40 as a resumed run continues (where the decay reaches D).
    for (const first of [1, 40]) {
      writeTensor(p, w0);
      const ema = new MovingAverage([['p', p]], D, 'warmup');
      let ref = Float64Array.from(w0);
      for (let t = first; t < first + 8; t++) {
        const w = randomValues(p.size, 100 + t);
        writeTensor(p, w);
        const d = tfDecay(D, t);
        ref = ref.map((a, j) => d * a + (1 - d) * w[j]);
        ema.update(t);
      }
      expect(maxDiff((await ema.stateDict())['ema.p'].data, ref), `from step ${first}`).toBeLessThan(1e-6);
      ema.dispose();
    }
    // The first update keeps 2/11 of the initial weights (fixed at D: 0.95 of them).
    expect(tfDecay(D, 1)).toBeCloseTo(2 / 11, 12);
    p.dispose();
  });
});

/** A folder with a Brown excerpt's first 600 lines to train on and 20 to validate on. */
async function excerptCorpus(): Promise<{ dir: string; data: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'flstm-ema-'));
  dirs.push(dir);
  const lines = brownExcerpt(1).split('\n');
  await writeFile(join(dir, 'train.txt'), lines.slice(0, 600).join('\n'));
  await writeFile(join(dir, 'valid.txt'), lines.slice(600, 620).join('\n'));
  return { dir, data: `text:${join(dir, 'train.txt')},${join(dir, 'valid.txt')}` };
}

describe('training with --ema', () => {
  // undefined: a configuration written before emaSchedule existed, which averaged with the fixed
  // decay; the CLI now gives it back as --ema-schedule fixed, and the run resumes with that.
  it.each([undefined, 'warmup'] as const)(
    'schedule %s: starts from the initial weights, continues exactly on resume, and validation and a loaded model use the averages',
    async (schedule) => {
      const { dir, data } = await excerptCorpus();
      const d = 0.9;
      const cfg: TrainConfig = {
        data,
        model: { cell: 'glstm', groups: 2, layers: 1, emb: 16, hidden: 32, proj: 16, dropout: 0 },
        batch: 4,
        bptt: 8,
        optimizer: 'adagrad',
        lr: 0.2,
        clip: 1,
        sampled: 16,
        seed: 5,
        maxVocab: 500,
        ema: d,
        ...(schedule ? { emaSchedule: schedule } : {}),
      };
      const decayAt = (t: number) => (schedule === 'warmup' ? tfDecay(d, t) : d);
      const o = { logEvery: 1, saveEvery: 1000, evalTokens: 96 };
      const run = join(dir, 'run');
      await train(cfg, { ...o, out: run, steps: 1, evalTokens: 0 });
      const first = await loadCheckpoint(join(run, 'checkpoint'));
      const resumed = await train({ ...cfg, emaSchedule: schedule ?? 'fixed' }, { ...o, out: run, steps: 2, resume: true });
      const second = await loadCheckpoint(join(run, 'checkpoint'));
      const whole = await train(cfg, { ...o, out: join(dir, 'whole'), steps: 2 });
      const wholeCk = await loadCheckpoint(join(dir, 'whole', 'checkpoint'));

      // The initial weights: a model of the same configuration and seed.
      const vocab = (await loadCorpus(cfg.data, { maxVocab: cfg.maxVocab })).vocab;
      const fresh = new LanguageModel(modelOptions(cfg, vocab.size));
      const w0 = await fresh.stateDict();
      fresh.dispose();
      const averaged = Object.keys(second.model).filter((k) => k.startsWith('ema.'));
      expect(averaged.sort()).toEqual(
        Object.keys(w0)
          .filter((k) => k.startsWith('rnn.'))
          .map((k) => `ema.${k}`)
          .sort(),
      );
      for (const name of averaged) {
        const w = name.slice(4);
        const avg1 = Array.from(w0[w].data, (v, i) => decayAt(1) * v + (1 - decayAt(1)) * first.model[w].data[i]);
        expect(maxDiff(first.model[name].data, avg1), name).toBeLessThan(1e-6);
        const avg2 = Array.from(first.model[name].data, (v, i) => decayAt(2) * v + (1 - decayAt(2)) * second.model[w].data[i]);
        expect(maxDiff(second.model[name].data, avg2), name).toBeLessThan(1e-6);
        expect(Array.from(second.model[name].data), name).toEqual(Array.from(wholeCk.model[name].data));
        expect(maxDiff(second.model[name].data, second.model[w].data), name).toBeGreaterThan(1e-4); // the average is not the weights
      }

      // A loaded model holds the averages, and evaluates as the run's validation did.
      const loaded = await loadModel(join(run, 'checkpoint'));
      expect(loaded.averaged).toBe(true);
      expect(loaded.weights).toBe('average');
      expect(resumed.weights).toBe('average');
      const lw = await loaded.model.stateDict();
      for (const name of averaged) expect(Array.from(lw[name.slice(4)].data), name).toEqual(Array.from(second.model[name].data));
      const corpus = await loadCorpus(cfg.data, { vocab: loaded.vocab });
      const r = await evaluate(loaded.model, corpus.splits.valid!, { batchSize: cfg.batch, bptt: cfg.bptt, maxTokens: 96 });
      expect(r.loss).toBeCloseTo(resumed.valid!.loss, 5);
      expect(resumed.valid!.loss).toBeCloseTo(whole.valid!.loss, 6);
      loaded.model.dispose();

      // The run trained on from the weights, not the averages: its second step's weights are the whole run's.
      for (const name of averaged)
        expect(Array.from(second.model[name.slice(4)].data)).toEqual(Array.from(wholeCk.model[name.slice(4)].data));
      expect((second.config as { train: TrainConfig }).train).toMatchObject({ ema: d, emaSchedule: schedule ?? 'fixed' });
    },
    120_000,
  );

  it("after a short run the warmup average evaluates near the trained weights (the fixed decay's is still near the initial ones)", async () => {
    const { dir, data } = await excerptCorpus();
    const cfg: TrainConfig = {
      data,
      model: { cell: 'lstm', layers: 1, emb: 32, hidden: 64, proj: 32, dropout: 0 },
      batch: 8,
      bptt: 10,
      optimizer: 'adagrad',
      lr: 0.2,
      clip: 1,
      sampled: 0,
      seed: 3,
      maxVocab: 1000,
      ema: 0.999,
    };
    const ppl = async (run: string, weights: 'average' | 'trained') => {
      const m = await loadModel(join(run, 'checkpoint'), { weights });
      expect(m.weights).toBe(weights);
      const corpus = await loadCorpus(cfg.data, { vocab: m.vocab });
      const r = await evaluate(m.model, corpus.splits.valid!, { batchSize: cfg.batch, bptt: cfg.bptt });
      m.model.dispose();
      return r.ppl;
    };
    const result: Record<string, { average: number; trained: number }> = {};
    for (const schedule of ['warmup', 'fixed'] as const) {
      const run = join(dir, schedule);
      await train({ ...cfg, emaSchedule: schedule }, { out: run, steps: 60, evalTokens: 0, logEvery: 60 });
      result[schedule] = { average: await ppl(run, 'average'), trained: await ppl(run, 'trained') };
    }
    console.log('validation perplexity after 60 steps, --ema 0.999:', JSON.stringify(result));
    expect(result.warmup.trained).toBeCloseTo(result.fixed.trained, 6); // the same training: the average never feeds back
    expect(result.warmup.average / result.warmup.trained).toBeLessThan(1.3);
    expect(result.fixed.average / result.fixed.trained).toBeGreaterThan(2);
  }, 240_000);
});
