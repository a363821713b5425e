// One training loop serves `flstm train` and the page: a CLI checkpoint continued in the page's
// session takes exactly the steps `train --resume` takes (the same batches across an epoch's
// end, the same per-step seeds for dropout and the sampled softmax, the same carried state).
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { train } from '../src/train/trainer.js';
import { type TrainConfig } from '../src/train/config.js';
import { loadCorpus } from '../src/data/corpus.js';
import { parseMetrics } from '../src/train/metrics.js';
import { Session, type NamedFile } from '../src/web/session.js';
import { brownExcerpt } from '../tools/build-web.mjs';
import { useDevice } from './helpers.js';

useDevice();

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** The training losses of a run folder's metrics after step `after`, in step order. */
async function lossesAfter(runDir: string, after: number): Promise<number[]> {
  const records = parseMetrics(await readFile(join(runDir, 'metrics.jsonl'), 'utf8')).records;
  return records.filter((r) => r.split === 'train' && r.step > after).map((r) => r.loss);
}

describe('the training loop', () => {
  it('continues a CLI checkpoint in the page exactly as train --resume does, across the end of an epoch', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flstm-loop-'));
    dirs.push(dir);
    const file = join(dir, 'train.txt');
    await writeFile(file, brownExcerpt(1).split('\n').slice(0, 60).join('\n'));
    const cfg: TrainConfig = {
      data: `text:${file}`,
      model: { cell: 'lstm', layers: 1, emb: 16, hidden: 32, proj: 16, dropout: 0.2 },
      batch: 4,
      bptt: 10,
      optimizer: 'adagrad',
      lr: 0.2,
      clip: 1,
      sampled: 16,
      seed: 5,
      maxVocab: 400,
    };
    const corpus = await loadCorpus(cfg.data, { maxVocab: cfg.maxVocab });
    const tokens = corpus.splits.train.kind === 'array' ? corpus.splits.train.tokens : new Int32Array();
    const perEpoch = Math.ceil((Math.floor(tokens.length / cfg.batch) - 1) / cfg.bptt);
    const first = perEpoch - 3;
    const last = perEpoch + 4;
    const run = join(dir, 'run');
    await train(cfg, { out: run, steps: first, logEvery: 1, evalTokens: 0 });

    const ck = join(run, 'checkpoint');
    const files: NamedFile[] = await Promise.all(
      (await readdir(ck)).map(async (n) => ({ name: n, bytes: new Uint8Array(await readFile(join(ck, n))) })),
    );
    const session = new Session();
    await session.load(files);
    expect(session.continuation).toEqual({ optimizerFrom: expect.any(String), carriedState: true });
    // The CLI's own token stream, so the page's batches are the trainer's.
    session.corpus = {
      source: file,
      vocab: session.vocab!,
      train: tokens,
      valid: new Int32Array(),
      tokens: tokens.length,
      words: 0 /* shown by the page only */,
    };
    const page: number[] = [];
    await session.train({ steps: last, reportEvery: 1, onReport: (r) => page.push(r.loss) });
    expect(session.epoch).toBe(1);
    session.dispose();

    await train(cfg, { out: run, resume: true, steps: last, logEvery: 1, evalTokens: 0 });
    const cli = await lossesAfter(run, first);
    expect(cli).toHaveLength(last - first);
    expect(page).toEqual(cli);
  });
});
