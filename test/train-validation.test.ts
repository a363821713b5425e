// Validation during training (the best checkpoint, a learning-rate decay on plateaus, early
// stopping), exactly resumable; what the clock counts (--time is training only); the notice
// on a slow first step. In process, on tiny corpora the tests write.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { train, type TrainEvent } from '../src/train/trainer.js';
import { type TrainConfig } from '../src/train/config.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { parseMetrics, type MetricsRecord } from '../src/train/metrics.js';
import { afterValidation, checkValidationConfig, initialSchedule } from '../src/train/schedule.js';
import type { ValidationConfig } from '../src/train/config.js';
import { corpusText, useDevice } from './helpers.js';

useDevice();

let tmp: string;
let spec: string;
let runs = 0;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'flstm-validation-'));
  writeFileSync(join(tmp, 'train.txt'), corpusText(18, 11));
  writeFileSync(join(tmp, 'valid.txt'), corpusText(6, 12));
  writeFileSync(join(tmp, 'valid-long.txt'), corpusText(400, 13));
  spec = `text:${join(tmp, 'train.txt')},${join(tmp, 'valid.txt')}`;
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const dir = (name: string) => join(tmp, `${name}-${runs++}`);

/** Adagrad at lr 3 on this corpus: the validation loss jumps after the first steps, then recovers. */
function config(validation?: ValidationConfig, over: Partial<TrainConfig> = {}): TrainConfig {
  return {
    data: spec,
    model: { cell: 'glstm', layers: 2, emb: 8, hidden: 16, proj: 8, groups: 2, dropout: 0.25 },
    batch: 4,
    bptt: 5,
    optimizer: 'adagrad',
    lr: 3,
    clip: 1,
    sampled: 8,
    seed: 7,
    ...(validation ? { validation } : {}),
    ...over,
  };
}

function records(out: string, split: string): MetricsRecord[] {
  return parseMetrics(readFileSync(join(out, 'metrics.jsonl'), 'utf8')).records.filter((r) => r.split === split);
}

describe('the validation schedule (pure)', () => {
  it('keeps the best, counts validations since, decays on a plateau, stops after patience', () => {
    const rules = { patience: 2, lrDecay: 0.5 };
    let s = initialSchedule(1);
    const seen: [boolean, boolean, boolean, number][] = [];
    for (const [loss, step] of [
      [3, 10],
      [2, 20],
      [2.5, 30],
      [2, 40],
      [1.5, 50],
      [1.6, 60],
      [1.7, 70],
    ] as const) {
      const o = afterValidation(s, loss, step, rules);
      seen.push([o.improved, o.lrDecayed, o.stop, o.state.lr]);
      s = o.state;
    }
    // A tie (2 at step 40) is no improvement.
    expect(seen).toEqual([
      [true, false, false, 1],
      [true, false, false, 1],
      [false, true, false, 0.5],
      [false, true, true, 0.25],
      [true, false, false, 0.25],
      [false, true, false, 0.125],
      [false, true, true, 0.0625],
    ]);
    expect(s.best).toEqual({ loss: 1.5, step: 50 });
    expect(afterValidation(initialSchedule(1), NaN, 1, {}).improved).toBe(false);
    expect(afterValidation(initialSchedule(1), 5, 1, {}).state).toEqual({ lr: 1, best: { loss: 5, step: 1 }, sinceBest: 0 });
    // Without rules nothing but the best changes.
    expect(afterValidation({ lr: 1, best: { loss: 1, step: 1 }, sinceBest: 7 }, 2, 2, {})).toEqual({
      state: { lr: 1, best: { loss: 1, step: 1 }, sinceBest: 8 },
      improved: false,
      lrDecayed: false,
      stop: false,
    });
  });

  it('refuses impossible settings, naming the flag', () => {
    expect(() => checkValidationConfig({ every: 0 })).toThrow(/every \(--eval-every\) must be a positive integer, got 0/);
    expect(() => checkValidationConfig({ every: 2, lrDecay: 1.5 })).toThrow(/--lr-decay\) must be a number in \(0, 1\], got 1.5/);
    expect(() => checkValidationConfig({ every: 2, patience: 0 })).toThrow(/--patience\) must be a positive integer, got 0/);
  });
});

describe('validation during training', () => {
  it('follows the schedule on its own validations: the best checkpoint, each decay, the early stop', async () => {
    const out = dir('schedule');
    const events: TrainEvent[] = [];
    const s = await train(config({ every: 2, lrDecay: 0.5, patience: 2 }), { out, steps: 40, logEvery: 2, onLog: (e) => events.push(e) });
    const valid = records(out, 'valid');
    expect(valid.length).toBeGreaterThanOrEqual(2);
    // Replay the rules on the losses the run recorded: every decision must match.
    let state = initialSchedule(3);
    let stopAt: number | null = null;
    const decays: number[] = [];
    for (const v of valid) {
      expect(v.lr, `lr at the validation of step ${v.step}`).toBe(state.lr);
      const o = afterValidation(state, v.loss, v.step, { lrDecay: 0.5, patience: 2 });
      state = o.state;
      if (o.lrDecayed) decays.push(o.state.lr);
      if (o.stop) {
        stopAt = v.step;
        break;
      }
    }
    expect(stopAt, 'this recipe must plateau within 40 steps, or the test checks nothing').not.toBeNull();
    expect(s.stopReason).toBe('early stop');
    expect(s.step).toBe(stopAt);
    expect(valid[valid.length - 1]!.step).toBe(stopAt);
    // Each decay the rules make is announced, and no other.
    expect(decays.length, 'this recipe must decay the learning rate, or the test checks nothing').toBeGreaterThan(0);
    expect(events.filter((e) => e.type === 'lr').map((e) => (e as { lr: number }).lr)).toEqual(decays);
    // The best checkpoint holds the weights of the best validation's step.
    const best = await loadCheckpoint<Record<string, any>>(join(out, 'best'));
    expect(best.config.step).toBe(state.best!.step);
    expect(s.best).toEqual({ step: state.best!.step, loss: state.best!.loss, ppl: Math.exp(state.best!.loss), dir: join(out, 'best') });
    const last = await loadCheckpoint<Record<string, any>>(join(out, 'checkpoint'));
    expect(last.config.step).toBe(stopAt);
    expect(last.config.schedule).toEqual({ ...state, kept: state.best });
    expect(events.find((e) => e.type === 'stopped')).toMatchObject({
      reason: expect.stringMatching(/^early stop at step \d+: no improvement in 2 validations/),
    });
  });

  it('resumes exactly: the same losses, validations, decays and checkpoint as the uninterrupted run', async () => {
    const cfg = config({ every: 3, lrDecay: 0.5 });
    const a = dir('straight');
    const b = dir('resumed');
    await train(cfg, { out: a, steps: 18, logEvery: 1, saveEvery: 4 });
    await train(cfg, { out: b, steps: 7, logEvery: 1, saveEvery: 4 });
    await train(cfg, { out: b, steps: 18, logEvery: 1, saveEvery: 4, resume: true });
    const ra = records(a, 'train');
    expect(records(b, 'train').map((r) => r.loss)).toEqual(ra.map((r) => r.loss));
    // The first run's final validation (step 7) is a measurement of its own; the cadence's are the same.
    const cadence = (out: string) =>
      records(out, 'valid')
        .filter((r) => !r.final)
        .map((r) => [r.step, r.loss, r.lr]);
    expect(
      records(b, 'valid')
        .filter((r) => r.final)
        .map((r) => r.step),
    ).toEqual([7]);
    expect(cadence(b)).toEqual(cadence(a));
    expect(new Set(records(a, 'valid').map((r) => r.lr)).size, 'the learning rate must decay at least once').toBeGreaterThan(1);
    const ca = await loadCheckpoint<Record<string, any>>(join(a, 'checkpoint'));
    const cb = await loadCheckpoint<Record<string, any>>(join(b, 'checkpoint'));
    expect(cb.config.schedule).toEqual(ca.config.schedule);
    for (const [name, t] of Object.entries(ca.model))
      expect(Buffer.from(cb.model[name]!.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);
    // Each best checkpoint holds the lowest validation its run measured, a final one included.
    for (const out of [a, b]) {
      const all = records(out, 'valid');
      const lowest = all.reduce((m, r) => (r.loss < m.loss ? r : m));
      const best = await loadCheckpoint<Record<string, any>>(join(out, 'best'));
      expect(best.config.step, out).toBe(lowest.step);
      expect(best.config.schedule.kept).toEqual({ loss: lowest.loss, step: lowest.step });
    }
  });
});

describe('the clock and the first step', () => {
  it('a time limit counts training only: validations and saves are on their own clock, and the summary says both', async () => {
    const out = dir('clock');
    const cfg = config({ every: 10 }, { data: `text:${join(tmp, 'train.txt')},${join(tmp, 'valid-long.txt')}`, lr: 0.2 });
    const t0 = performance.now();
    const s = await train(cfg, { out, seconds: 1, logEvery: 5, saveEvery: 1000 });
    const wall = (performance.now() - t0) / 1e3;
    expect(s.stopReason).toBe('time');
    expect(s.trainSeconds).toBeGreaterThanOrEqual(1);
    expect(s.evalSeconds).toBeGreaterThan(0.3); // every 10 steps validates ~2,700 tokens
    expect(wall).toBeGreaterThan(s.trainSeconds + s.evalSeconds);
    const ck = await loadCheckpoint<Record<string, any>>(join(out, 'checkpoint'));
    expect(ck.config.seconds).toBeCloseTo(s.totalTrainSeconds, 2);
    expect(ck.config.otherSeconds).toBeGreaterThanOrEqual(s.evalSeconds);
    // The records' time is training time: the last is within the limit plus one step.
    const times = records(out, 'valid').map((r) => r.time);
    expect(Math.max(...times)).toBeLessThan(s.trainSeconds + 0.5);
  });

  it('a slow first step says why (compiling) while it runs, and how long it took; a fast one says nothing', async () => {
    const slow: TrainEvent[] = [];
    await train(config(), { out: dir('notice'), steps: 2, logEvery: 1, evalTokens: 0, compileNoticeMs: 0, onLog: (e) => slow.push(e) });
    const types = slow.map((e) => e.type);
    expect(types.indexOf('compiling')).toBeGreaterThan(types.indexOf('start'));
    expect(types.indexOf('compiled')).toBeGreaterThan(types.indexOf('compiling'));
    expect(types.indexOf('progress')).toBeGreaterThan(types.indexOf('compiled'));
    expect(slow.find((e) => e.type === 'compiled')).toMatchObject({ step: 1, seconds: expect.any(Number) });
    const fast: TrainEvent[] = [];
    await train(config(), {
      out: dir('no-notice'),
      steps: 2,
      logEvery: 1,
      evalTokens: 0,
      compileNoticeMs: 600_000,
      onLog: (e) => fast.push(e),
    });
    expect(fast.some((e) => e.type === 'compiling' || e.type === 'compiled')).toBe(false);
  });
});
