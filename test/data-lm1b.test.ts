// The One Billion Word format reader (lm1b:DIR) and the streaming batcher, on small files in
// that format written to a temporary directory. No GPU.
import { useBuiltCli } from './cli-helpers.js';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  corpusStats,
  loadCorpus,
  makeBatcher,
  StreamBatcher,
  LM1B_HELDOUT_DIR,
  LM1B_HELDOUT_FILE,
  LM1B_VALID_FILE,
  LM1B_TRAIN_DIR,
  LM1B_VOCAB_FILE,
  type Batch,
  type Corpus,
  type StreamSplit,
} from '../src/data/index.js';

const root = resolve(__dirname, '..');

const VOCAB = ['<S> 0', '</S> 0', '<UNK> 0', 'the 9', 'cat 4', 'sat 3', 'dog 2', '. 5', 'a 1'];
const SHARD1 = ['the cat sat .', 'a dog'];
const SHARD2 = ['the zebra sat .', '', 'dog dog dog'];
/** The test split's held-out shard (00000) and the validation split's (00001). */
const HELDOUT = ['the cat .', 'a yak sat'];
const VALID = ['dog sat .'];

let tmp: string;

/** Writes a corpus in LM1B's layout; `parts` can leave a piece out or change it. */
function makeLm1b(
  name: string,
  parts: { vocab?: string[] | null; shards?: Record<string, string[]> | null; heldout?: string[] | null; valid?: string[] | null } = {},
): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const vocab = parts.vocab === undefined ? VOCAB : parts.vocab;
  if (vocab) writeFileSync(join(dir, LM1B_VOCAB_FILE), vocab.join('\n') + '\n');
  const shards = parts.shards === undefined ? { 'news.en-00002-of-00100': SHARD2, 'news.en-00001-of-00100': SHARD1 } : parts.shards;
  if (shards) {
    mkdirSync(join(dir, LM1B_TRAIN_DIR));
    for (const [f, lines] of Object.entries(shards)) writeFileSync(join(dir, LM1B_TRAIN_DIR, f), lines.map((l) => l + '\n').join(''));
    writeFileSync(join(dir, LM1B_TRAIN_DIR, 'README'), 'not a shard\n');
  }
  const heldout = parts.heldout === undefined ? HELDOUT : parts.heldout;
  const valid = parts.valid === undefined ? VALID : parts.valid;
  mkdirSync(join(dir, LM1B_HELDOUT_DIR));
  if (heldout) writeFileSync(join(dir, LM1B_HELDOUT_DIR, LM1B_HELDOUT_FILE), heldout.map((l) => l + '\n').join(''));
  if (valid) writeFileSync(join(dir, LM1B_HELDOUT_DIR, LM1B_VALID_FILE), valid.map((l) => l + '\n').join(''));
  return dir;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

let dir: string;
let corpus: Corpus;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'flstm-lm1b-'));
  dir = makeLm1b('ok');
  corpus = await loadCorpus(`lm1b:${dir}`);
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('lm1b:DIR', () => {
  it('reads the vocabulary: id = line number, <UNK> for unknown words', () => {
    const v = corpus.vocab;
    expect(corpus.name).toBe('lm1b');
    expect(corpus.boundary).toBe('<S>');
    expect(v.size).toBe(9);
    VOCAB.forEach((line, i) => expect(v.get(line.split(' ')[0])).toBe(i));
    expect(v.unk).toBe('<UNK>');
    expect(v.unkId).toBe(2);
    expect(v.counts[3]).toBe(9);
  });

  it('streams the training shards in name order, each sentence as <S> w1 .. wn <S>', async () => {
    const train = corpus.splits.train as StreamSplit;
    expect(train.kind).toBe('stream');
    expect(train.files.map((f) => f.slice(-22))).toEqual(['news.en-00001-of-00100', 'news.en-00002-of-00100']);
    const sentences = (await collect(train.sentences())).map((s) => corpus.vocab.decode(s).join(' '));
    expect(sentences).toEqual([
      '<S> the cat sat . <S>',
      '<S> a dog <S>',
      '<S> the <UNK> sat . <S>', // the blank line of shard 2 is skipped
      '<S> dog dog dog <S>',
    ]);
  });

  it('tests on held-out shard 00000 and validates on another, 00001 (the best checkpoint is not chosen on the test set)', async () => {
    const test = corpus.splits.test as StreamSplit;
    const valid = corpus.splits.valid as StreamSplit;
    expect(test.files).toEqual([join(dir, LM1B_HELDOUT_DIR, 'news.en.heldout-00000-of-00050')]);
    expect(valid.files).toEqual([join(dir, LM1B_HELDOUT_DIR, 'news.en.heldout-00001-of-00050')]);
    expect((await collect(test.sentences())).map((s) => Array.from(s))).toEqual([
      [0, 3, 4, 7, 0],
      [0, 8, 2, 5, 0],
    ]);
    expect((await collect(valid.sentences())).map((s) => Array.from(s))).toEqual([[0, 6, 5, 7, 0]]);
  });

  it('counts tokens as words plus one <S> per sentence', async () => {
    const stats = await corpusStats(corpus);
    expect(stats.train).toEqual({ tokens: 4 + 1 + 2 + 1 + 4 + 1 + 3 + 1, unk: 1, sentences: 4 });
    expect(stats.valid).toEqual({ tokens: 4, unk: 0, sentences: 1 });
    expect(stats.test).toEqual({ tokens: 8, unk: 1, sentences: 2 });
  });

  it('a seeded shard shuffle is deterministic, and repeat starts over', async () => {
    const many: Record<string, string[]> = {};
    for (let i = 0; i < 8; i++) many[`news.en-0000${i}-of-00100`] = [`the ${'cat '.repeat(i + 1).trim()}`];
    const d = makeLm1b('many', { shards: many });
    const c = await loadCorpus(`lm1b:${d}`);
    const train = c.splits.train as StreamSplit;
    const lengths = async (seed?: number) => (await collect(train.sentences({ shuffleSeed: seed }))).map((s) => s.length - 4);
    expect(await lengths()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const a = await lengths(7);
    expect(a).toEqual(await lengths(7));
    expect([...a].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(a).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const forever: number[] = [];
    for await (const s of train.sentences({ repeat: true })) {
      forever.push(s.length - 4);
      if (forever.length === 12) break;
    }
    expect(forever).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3]);
  });
});

describe('StreamBatcher', () => {
  /** Each stream's (input, target) pairs over all batches, where the mask is 1. */
  function perStream(batches: Batch[], B: number): [number, number][][] {
    const out: [number, number][][] = Array.from({ length: B }, () => []);
    for (const x of batches) {
      for (let t = 0; t < x.steps; t++) {
        for (let b = 0; b < B; b++) {
          const o = t * B + b;
          if (!x.mask || x.mask[o]) out[b].push([x.inputs[o], x.targets[o]]);
        }
      }
    }
    return out;
  }

  it('fills B streams with whole sentences as the paper code does, time-major', async () => {
    // sentences (ids): [0 3 4 5 7 0] [0 8 6 0] [0 3 2 5 7 0] [0 6 6 6 0]
    const b = makeBatcher(corpus.splits.train, { batchSize: 2, bptt: 3 }) as StreamBatcher;
    const batches = await collect(b.batches());
    const rows = (x: Batch, a: Int32Array) => Array.from({ length: x.steps }, (_, t) => [a[t * 2], a[t * 2 + 1]]);
    // Stream 0 takes sentence 1, stream 1 sentence 2; a stream that needs more takes the next sentence.
    expect(rows(batches[0], batches[0].inputs)).toEqual([
      [0, 0],
      [3, 8],
      [4, 6],
    ]);
    expect(rows(batches[0], batches[0].targets)).toEqual([
      [3, 8],
      [4, 6],
      [5, 0],
    ]);
    expect(batches[0].mask).toBeUndefined();
    // Batch 1: stream 0 finishes sentence 1 (inputs 5 7) and starts sentence 3 (its <S>); stream 1
    // has only sentence 2's last <S> left, which is no input: it takes sentence 4.
    expect(rows(batches[1], batches[1].inputs)).toEqual([
      [5, 0],
      [7, 6],
      [0, 6],
    ]);
    expect(rows(batches[1], batches[1].targets)).toEqual([
      [7, 6],
      [0, 6],
      [3, 6],
    ]);
    const pairs = perStream(batches, 2);
    const totalTargets = pairs[0].length + pairs[1].length;
    expect(totalTargets).toBe(5 + 3 + 5 + 4); // n + 1 per sentence
    const last = batches[batches.length - 1];
    expect(last.mask).toBeDefined();
    expect(last.steps).toBeLessThanOrEqual(3);
  });

  it('carries state: within a stream each target is the next input, across batches too', async () => {
    for (const [B, T] of [
      [1, 1],
      [2, 2],
      [3, 4],
      [2, 7],
      [5, 3],
    ]) {
      const batches = await collect((makeBatcher(corpus.splits.train, { batchSize: B, bptt: T }) as StreamBatcher).batches());
      expect(batches.map((x) => x.index)).toEqual(batches.map((_, i) => i));
      let n = 0;
      for (const pairs of perStream(batches, B)) {
        n += pairs.length;
        for (let i = 0; i + 1 < pairs.length; i++) expect(pairs[i][1]).toBe(pairs[i + 1][0]);
        if (pairs.length > 0) expect(pairs[0][0]).toBe(0); // every stream starts with <S>
      }
      expect(n, `B=${B} T=${T}`).toBe(17);
      for (const x of batches) {
        expect(x.inputs.length).toBe(x.steps * B);
        if (x.mask) expect(x.mask.length).toBe(x.steps * B);
      }
    }
  });

  it('resumes at batch k as if k batches were skipped, and is deterministic', async () => {
    const b = makeBatcher(corpus.splits.train, { batchSize: 2, bptt: 2 }) as StreamBatcher;
    const all = await collect(b.batches());
    expect(all.length).toBeGreaterThan(3);
    expect(await collect(b.batches())).toEqual(all);
    expect(await collect(b.batches(3))).toEqual(all.slice(3));
    const forever = makeBatcher(corpus.splits.train, { batchSize: 2, bptt: 2, repeat: true }) as StreamBatcher;
    const first: Batch[] = [];
    for await (const x of forever.batches()) {
      first.push(x);
      if (first.length === 3 * all.length) break;
    }
    expect(first.every((x) => x.mask === undefined && x.steps === 2)).toBe(true);
    // Until the one-pass stream runs out, repeating changes nothing.
    const k = all.findIndex((x) => x.mask !== undefined || x.steps < 2);
    expect(k).toBeGreaterThan(0);
    expect(first.slice(0, k)).toEqual(all.slice(0, k));
  });

  it('rejects bad sizes', () => {
    expect(() => makeBatcher(corpus.splits.train, { batchSize: 0, bptt: 2 })).toThrow(/batchSize must be a positive integer, got 0/);
  });
});

describe('lm1b errors', () => {
  it('a missing directory, vocabulary, shard directory, shards or held-out shard', async () => {
    await expect(loadCorpus(`lm1b:${join(tmp, 'absent')}`)).rejects.toThrow(/^flstm: no One Billion Word directory .*absent$/);
    await expect(loadCorpus(`lm1b:${makeLm1b('novocab', { vocab: null })}`)).rejects.toThrow(
      /no One Billion Word vocabulary .*1b_word_vocab\.txt/,
    );
    await expect(loadCorpus(`lm1b:${makeLm1b('notrain', { shards: null })}`)).rejects.toThrow(
      /no training shard directory .*training-monolingual\.tokenized\.shuffled/,
    );
    await expect(loadCorpus(`lm1b:${makeLm1b('noshards', { shards: {} })}`)).rejects.toThrow(/holds no training shards \(news\.en-\*\)/);
    await expect(loadCorpus(`lm1b:${makeLm1b('noheld', { heldout: null })}`)).rejects.toThrow(
      /no held-out shard of the test split .*news\.en\.heldout-00000-of-00050/,
    );
    // The validation split's shard is another one; without it, the message says which each split reads.
    await expect(loadCorpus(`lm1b:${makeLm1b('novalid', { valid: null })}`)).rejects.toThrow(
      /no held-out shard of the validation split .*news\.en\.heldout-00001-of-00050 \(lm1b:DIR tests on news\.en\.heldout-00000-of-00050 and validates on news\.en\.heldout-00001-of-00050\)/,
    );
    await expect(loadCorpus(`lm1b:${makeLm1b('emptyvalid', { valid: [] })}`)).rejects.toThrow(
      /the held-out shard of the validation split .*00001-of-00050 is empty/,
    );
  });

  it('empty shards, a vocabulary without <UNK> or <S>', async () => {
    await expect(loadCorpus(`lm1b:${makeLm1b('empty', { shards: { 'news.en-00001-of-00100': [] } })}`)).rejects.toThrow(
      /the training shards in .* are empty/,
    );
    const blank = await loadCorpus(`lm1b:${makeLm1b('blank', { shards: { 'news.en-00001-of-00100': ['', '  '] } })}`);
    await expect(collect((blank.splits.train as StreamSplit).sentences())).rejects.toThrow(/the train split holds no sentences/);
    const noUnk = VOCAB.filter((l) => !l.startsWith('<UNK>'));
    await expect(loadCorpus(`lm1b:${makeLm1b('nounk', { vocab: noUnk })}`)).rejects.toThrow(
      /1b_word_vocab\.txt: has no unknown-word token \(<unk> or <UNK>\)/,
    );
    const noS = VOCAB.filter((l) => !l.startsWith('<S>'));
    await expect(loadCorpus(`lm1b:${makeLm1b('nos', { vocab: noS })}`)).rejects.toThrow(/has no sentence token <S>/);
    await expect(loadCorpus(`lm1b:${dir}`, { maxVocab: 10 })).rejects.toThrow(/uses its own vocabulary/);
  });
});

describe('flstm data --data lm1b:DIR', () => {
  useBuiltCli();

  const data = (...args: string[]) =>
    spawnSync(process.execPath, ['dist/cli.js', 'data', '--data', `lm1b:${dir}`, ...args], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
  const held = (n: string) => join(dir, LM1B_HELDOUT_DIR, `news.en.heldout-${n}-of-00050`);

  it('prints the counts of the streamed splits and the files each one reads', () => {
    const r = data('--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      data: `lm1b:${dir}`,
      vocab: 9,
      splits: {
        train: { tokens: 17, unk: 1, sentences: 4 },
        valid: { tokens: 4, unk: 0, sentences: 1 },
        test: { tokens: 8, unk: 1, sentences: 2 },
      },
      files: {
        train: ['news.en-00001-of-00100', 'news.en-00002-of-00100'].map((f) => join(dir, LM1B_TRAIN_DIR, f)),
        valid: [held('00001')],
        test: [held('00000')],
      },
    });
  });

  it('the table names the file of each held-out split', () => {
    const r = data();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^valid file +${held('00001')}$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^test file +${held('00000')}$`, 'm'));
    expect(r.stdout).toMatch(
      new RegExp(`^train files +2: ${join(dir, LM1B_TRAIN_DIR, 'news.en-00001-of-00100')} \\.\\. .*news\\.en-00002-of-00100$`, 'm'),
    );
  });
});
