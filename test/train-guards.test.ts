// What train() checks before the first step, and what it keeps after the last: a split too
// short for the batch is refused before anything trains, naming the file and --batch; the
// checkpoint is saved before the final validation, so a failure there loses no trained
// weights; a resume whose checkpoint is already at the limit changes nothing; --resume on a
// folder another trainer holds names the holder; a default sample count that does not fit a
// small vocabulary trains with the full softmax. In process, on tiny corpora the tests write.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { train, type TrainEvent } from '../src/train/trainer.js';
import { type TrainConfig } from '../src/train/config.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { parseMetrics } from '../src/train/metrics.js';
import { acquireRunLock } from '../src/train/run_lock.js';
import { corpusText, useDevice } from './helpers.js';

useDevice();

let tmp: string;
let trainFile: string;
let validFile: string;
let oneWord: string;
let runs = 0;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'flstm-guards-'));
  trainFile = join(tmp, 'train.txt');
  validFile = join(tmp, 'valid.txt');
  oneWord = join(tmp, 'one.txt');
  writeFileSync(trainFile, corpusText(18, 11));
  writeFileSync(validFile, corpusText(6, 12));
  writeFileSync(oneWord, 'cat\n');
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const dir = (name: string) => join(tmp, `${name}-${runs++}`);

function config(files: string[], over: Partial<TrainConfig> = {}): TrainConfig {
  return {
    data: `text:${files.join(',')}`,
    model: { cell: 'glstm', layers: 1, emb: 8, hidden: 16, proj: 8, groups: 2, dropout: 0.1 },
    batch: 4,
    bptt: 5,
    optimizer: 'adagrad',
    lr: 0.2,
    clip: 1,
    sampled: 8,
    seed: 3,
    ...over,
  };
}

/** Every file of a run folder (checkpoint/ and best/ included) and its bytes. */
function filesOf(d: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) for (const [k, v] of Object.entries(filesOf(p))) out[`${e.name}/${k}`] = v;
    else out[e.name] = readFileSync(p).toString('base64');
  }
  return out;
}

describe('checked before the first step', () => {
  it('a validation or test split too short for the batch: one message naming the file, its split and --batch; nothing trained or written', async () => {
    for (const files of [
      [trainFile, oneWord],
      [trainFile, validFile, oneWord],
    ]) {
      const out = dir('short-split');
      const events: TrainEvent[] = [];
      const split = files.length === 2 ? 'validation' : 'test';
      await expect(train(config(files), { out, steps: 4, onLog: (e) => events.push(e) })).rejects.toThrow(
        `flstm: ${oneWord} (the ${split} split) has 2 tokens, too few for --batch 4: each of the 4 streams needs at least 2 tokens (8 in all); give a longer file or --batch 1`,
      );
      expect(events.map((e) => e.type)).toEqual([]);
      expect(existsSync(join(out, 'metrics.jsonl'))).toBe(false);
      expect(existsSync(join(out, 'checkpoint'))).toBe(false);
    }
  });

  it('a training split too short for the batch: the same message', async () => {
    await expect(train(config([oneWord]), { out: dir('short-train'), steps: 1 })).rejects.toThrow(
      `flstm: ${oneWord} (the training split) has 2 tokens, too few for --batch 4`,
    );
  });

  it('--resume on a folder another trainer holds before its first save names the holder, not "no checkpoint"', async () => {
    const out = dir('held');
    mkdirSync(out);
    const lock = await acquireRunLock(out);
    try {
      await expect(train(config([trainFile, validFile]), { out, steps: 2, resume: true })).rejects.toThrow(
        new RegExp(`^flstm: ${out} is in use by another flstm train \\(pid ${process.pid} on host `),
      );
    } finally {
      await lock.release();
    }
    // Free, the folder holds no checkpoint, and --resume says so; a folder that is not there is not created.
    await expect(train(config([trainFile, validFile]), { out, steps: 2, resume: true })).rejects.toThrow(
      `--resume: no checkpoint in ${join(out, 'checkpoint')}`,
    );
    const missing = dir('missing');
    await expect(train(config([trainFile, validFile]), { out: missing, steps: 2, resume: true })).rejects.toThrow(
      `--resume: no checkpoint in ${join(missing, 'checkpoint')}`,
    );
    expect(existsSync(missing)).toBe(false);
  });
});

describe('after the last step', () => {
  it('a failure in the final validation keeps the trained weights: the checkpoint of the last step is saved first, and loads', async () => {
    const out = dir('fails-validating');
    const onLog = (e: TrainEvent) => {
      if (e.type === 'eval-progress') throw new Error('injected: the validation failed');
    };
    await expect(train(config([trainFile, validFile]), { out, steps: 6, logEvery: 2, onLog })).rejects.toThrow(
      'injected: the validation failed',
    );
    const ck = await loadCheckpoint<Record<string, any>>(join(out, 'checkpoint'));
    expect(ck.config.step).toBe(6);
    expect(existsSync(join(out, 'chart.svg'))).toBe(true);
    // The run continues from it.
    const s = await train(config([trainFile, validFile]), { out, steps: 8, resume: true, logEvery: 2 });
    expect(s.step).toBe(8);
  });

  it('the final validation is saved into the checkpoint after it: the best it kept and its time', async () => {
    const out = dir('final-recorded');
    const s = await train(config([trainFile, validFile], { validation: { every: 4 } }), { out, steps: 6, logEvery: 2 });
    const valid = parseMetrics(readFileSync(join(out, 'metrics.jsonl'), 'utf8')).records.filter((r) => r.split === 'valid');
    expect(valid.map((r) => [r.step, !!r.final])).toEqual([
      [4, false],
      [6, true],
    ]);
    const ck = await loadCheckpoint<Record<string, any>>(join(out, 'checkpoint'));
    const lowest = valid.reduce((m, r) => (r.loss < m.loss ? r : m));
    expect(ck.config.schedule.kept).toEqual({ loss: lowest.loss, step: lowest.step });
    expect(ck.config.otherSeconds).toBeGreaterThanOrEqual(s.evalSeconds);
  });
});

describe('a resume whose checkpoint is already at the limit', () => {
  it('says so and changes nothing: no validation, no metrics record, no save', async () => {
    const out = dir('past-target');
    const cfg = config([trainFile, validFile], { validation: { every: 2 } });
    await train(cfg, { out, steps: 6, logEvery: 2 });
    const before = filesOf(out);
    for (const steps of [4, 6]) {
      const events: TrainEvent[] = [];
      const s = await train(cfg, { out, steps, resume: true, onLog: (e) => events.push(e) });
      expect(events).toEqual([
        {
          type: 'stopped',
          step: 6,
          reason: `the checkpoint in ${join(out, 'checkpoint')} is at step 6, already ${steps < 6 ? 'past' : 'at'} --steps ${steps}: nothing to train, and nothing was changed (a larger --steps continues it)`,
        },
      ]);
      expect(s).toMatchObject({ step: 6, upToDate: true, stopReason: 'steps', trainSeconds: 0, evalSeconds: 0 });
      expect(filesOf(out)).toEqual(before);
    }
    // A limit above it trains on.
    expect((await train(cfg, { out, steps: 8, resume: true })).step).toBe(8);
  });

  it("a total time already trained (compare's budget): the same", async () => {
    const out = dir('past-time');
    const cfg = config([trainFile, validFile]);
    await train(cfg, { out, steps: 2, evalTokens: 0 });
    const before = filesOf(out);
    const events: TrainEvent[] = [];
    const s = await train(cfg, { out, totalSeconds: 1e-6, resume: true, onLog: (e) => events.push(e) });
    expect(s).toMatchObject({ step: 2, upToDate: true, stopReason: 'time' });
    expect(events).toMatchObject([
      {
        type: 'stopped',
        reason: expect.stringMatching(/is at \S+ of training, already the \S+ asked for: nothing to train, and nothing was changed$/),
      },
    ]);
    expect(filesOf(out)).toEqual(before);
  });
});

describe('a default sample count and a small vocabulary', () => {
  it('the default trains with the full softmax and the checkpoint stores 0; the same count given is refused', async () => {
    const out = dir('default-sampled');
    const events: TrainEvent[] = [];
    const cfg = config([trainFile, validFile], { sampled: 512 });
    await train(cfg, { out, steps: 2, evalTokens: 0, sampledIsDefault: true, onLog: (e) => events.push(e) });
    expect(events[0]).toMatchObject({ type: 'start', sampled: 0, defaultSampledUnfit: 512, objective: 'full-softmax', vocab: 19 });
    const ck = await loadCheckpoint<Record<string, any>>(join(out, 'checkpoint'));
    expect(ck.config.train.sampled).toBe(0);
    // A default that fits is kept.
    const fits: TrainEvent[] = [];
    await train(config([trainFile, validFile], { sampled: 8 }), {
      out: dir('default-fits'),
      steps: 1,
      evalTokens: 0,
      sampledIsDefault: true,
      onLog: (e) => fits.push(e),
    });
    expect(fits[0]).toMatchObject({ type: 'start', sampled: 8, objective: 'sampled-softmax' });
    expect(fits[0]).not.toHaveProperty('defaultSampledUnfit');
    await expect(train(cfg, { out: dir('given-sampled'), steps: 2 })).rejects.toThrow(
      /--sampled 512 needs a vocabulary of more than 512 words; .* has 19: use fewer samples or --sampled 0/,
    );
  });
});
