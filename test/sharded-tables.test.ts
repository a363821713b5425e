// Tables past one binding: with a binding cap (fl.init({ maxBindingBytes })) the embedding,
// softmax weights and bias are stored as row shards (the last one shorter), and a run trains
// exactly as without the cap: the same training losses, the same checkpoint, an exact resume;
// a checkpoint opens in a model of another shard count, and full-softmax evaluation across
// shards and blocks of rows agrees to rounding.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { train } from '../src/train/trainer.js';
import type { TrainConfig } from '../src/train/config.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { loadModel } from '../src/train/load.js';
import { evaluate } from '../src/train/evaluate.js';
import { loadCorpus } from '../src/data/corpus.js';
import { parseMetrics } from '../src/train/metrics.js';
import { LanguageModel } from '../src/nn/lm.js';
import { brownExcerpt } from '../tools/build-web.mjs';

const CAP = 32 * 1024;
const dirs: string[] = [];
afterAll(async () => {
  fl.dispose();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function trainLosses(run: string): Promise<number[]> {
  return parseMetrics(await readFile(join(run, 'metrics.jsonl'), 'utf8'))
    .records.filter((r) => r.split === 'train')
    .map((r) => r.loss);
}

describe('sharded tables', () => {
  it('train, save, resume and evaluate as the unsharded model does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flstm-shards-'));
    dirs.push(dir);
    const lines = brownExcerpt(1).split('\n');
    await writeFile(join(dir, 'train.txt'), lines.slice(0, 1500).join('\n'));
    await writeFile(join(dir, 'valid.txt'), lines.slice(1500, 1520).join('\n'));
    const cfg: TrainConfig = {
      data: `text:${join(dir, 'train.txt')},${join(dir, 'valid.txt')}`,
      model: { cell: 'lstm', layers: 1, emb: 16, hidden: 32, proj: 16, dropout: 0.1 },
      batch: 4,
      bptt: 10,
      optimizer: 'adagrad',
      lr: 0.2,
      clip: 1,
      sampled: 16,
      seed: 9,
      maxVocab: 1999,
    };
    const steps = 12;
    const o = { logEvery: 1, saveEvery: 1000, evalTokens: 120 };

    await fl.init();
    const whole = await train(cfg, { ...o, out: join(dir, 'whole'), steps });
    const wholeLosses = await trainLosses(join(dir, 'whole'));
    fl.dispose();

    await fl.init({ maxBindingBytes: CAP });
    const vocab = (await loadCorpus(cfg.data, { maxVocab: cfg.maxVocab })).vocab.size;
    expect(vocab).toBe(1999);
    const probe = new LanguageModel({ vocabSize: vocab, emb: 16, layers: 1, hidden: 32, proj: 16 });
    // 32 KiB hold 512 rows of 16 floats: 3 shards of 512 rows and one of 463.
    expect(probe.embeddingTable.shards.map((s) => s.rows)).toEqual([512, 512, 512, 463]);
    expect(probe.biasTable.shards.map((s) => s.rows)).toEqual(probe.softmaxTable.shards.map((s) => s.rows));
    expect(probe.parameters().map(([n]) => n)).toContain('softmax_w_shard3');
    probe.dispose();
    // A model whose weights are loaded next draws no tables: they start as zeros, in the same shards.
    const blank = new LanguageModel({ vocabSize: vocab, emb: 16, layers: 1, hidden: 32, proj: 16, drawTables: false });
    expect(blank.softmaxTable.shards.map((s) => s.rows)).toEqual([512, 512, 512, 463]);
    for (const t of blank.tables)
      for (const s of t.shards)
        expect(
          (await s.param.data()).every((v) => v === 0),
          `${t.name} shard at ${s.start}`,
        ).toBe(true);
    blank.dispose();

    const run = join(dir, 'sharded');
    await train(cfg, { ...o, out: run, steps: steps / 2, evalTokens: 0 });
    const resumed = await train(cfg, { ...o, out: run, steps, resume: true });
    expect(await trainLosses(run)).toEqual(wholeLosses);
    expect(resumed.valid!.tokens).toBe(whole.valid!.tokens);
    expect(resumed.valid!.loss).toBeCloseTo(whole.valid!.loss, 5);

    // One logical tensor per table in both checkpoints, with the same values.
    const a = await loadCheckpoint(join(dir, 'whole', 'checkpoint'));
    const b = await loadCheckpoint(join(run, 'checkpoint'));
    expect(Object.keys(b.model).sort()).toEqual(Object.keys(a.model).sort());
    for (const [k, t] of Object.entries(a.model)) expect(Array.from(b.model[k].data), k).toEqual(Array.from(t.data));
    expect(Object.keys(b.optimizer!.tensors).sort()).toEqual(Object.keys(a.optimizer!.tensors).sort());
    for (const [k, t] of Object.entries(a.optimizer!.tensors))
      expect(Array.from(b.optimizer!.tensors[k].data), k).toEqual(Array.from(t.data));

    // The unsharded run's checkpoint opens sharded here and evaluates as it did there.
    const loaded = await loadModel(join(dir, 'whole', 'checkpoint'));
    expect(loaded.model.softmaxTable.shards.length).toBe(4);
    const corpus = await loadCorpus(cfg.data, { vocab: loaded.vocab });
    const r = await evaluate(loaded.model, corpus.splits.valid!, { batchSize: cfg.batch, bptt: cfg.bptt, maxTokens: 120 });
    expect(r.tokens).toBe(whole.valid!.tokens);
    expect(r.loss).toBeCloseTo(whole.valid!.loss, 5);
    // An evaluation gives its blocks of logits back to the driver: the pool keeps no free buffer.
    expect(fl.stats().poolFreeBytes).toBe(0);
    loaded.model.dispose();

    // The full softmax cannot train a sharded softmax table: one message that says what to do.
    await expect(train({ ...cfg, sampled: 0 }, { ...o, out: join(dir, 'full'), steps: 1 })).rejects.toThrow(
      /the full softmax trains a softmax table of one binding; this one \(\[1999, 16\], 124\.9 KiB\) would be stored in 4 shards: train with the sampled softmax \(--sampled N\)/,
    );
  }, 120_000);
});
