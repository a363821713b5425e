// The synthetic One Billion Word generator (src/data/lm1b_synthetic.ts): small corpora in
// LM1B's layout, read back through loadCorpus('lm1b:DIR') and the StreamBatcher. No GPU.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DataError,
  loadCorpus,
  loadLm1b,
  makeBatcher,
  StreamBatcher,
  syntheticWord,
  writeSyntheticLm1b,
  writeSyntheticLm1bShard,
  LM1B_HELDOUT_DIR,
  LM1B_HELDOUT_FILE,
  LM1B_VALID_FILE,
  LM1B_TRAIN_DIR,
  LM1B_VOCAB_FILE,
  type Corpus,
  type StreamSplit,
  type SyntheticLm1bInfo,
  type SyntheticLm1bOptions,
} from '../src/data/index.js';

/** Small: 2000 entries, 3 training shards of 50 KB, 2 held-out shards; OOV 2% so it is measurable. */
const SMALL: SyntheticLm1bOptions = {
  vocabSize: 2000,
  trainShards: 3,
  shardBytes: 50_000,
  heldoutShards: 2,
  heldoutShardBytes: 20_000,
  oovRate: 0.02,
  seed: 7,
};

let tmp: string;
let dir: string;
let info: SyntheticLm1bInfo;
let corpus: Corpus;
/** Every training sentence's ids, streamed once. */
let train: Int32Array[];

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Every file of a corpus directory (relative path -> bytes). */
function filesOf(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (rel: string) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      const r = rel ? join(rel, e.name) : e.name;
      if (e.isDirectory()) walk(r);
      else out.set(r, readFileSync(join(root, r)));
    }
  };
  walk('');
  return out;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'flstm-lm1b-syn-'));
  dir = join(tmp, 'small');
  info = await writeSyntheticLm1b(dir, SMALL);
  corpus = await loadCorpus(`lm1b:${dir}`);
  train = await collect((corpus.splits.train as StreamSplit).sentences());
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('writeSyntheticLm1b: layout', () => {
  it('writes exactly the file names of LM1B, which lm1b:DIR reads', () => {
    expect(readdirSync(dir).sort()).toEqual([LM1B_VOCAB_FILE, LM1B_HELDOUT_DIR, LM1B_TRAIN_DIR].sort());
    expect(readdirSync(join(dir, LM1B_TRAIN_DIR)).sort()).toEqual([
      'news.en-00001-of-00100',
      'news.en-00002-of-00100',
      'news.en-00003-of-00100',
    ]);
    expect(readdirSync(join(dir, LM1B_HELDOUT_DIR)).sort()).toEqual([LM1B_HELDOUT_FILE, 'news.en.heldout-00001-of-00050']);
    expect(corpus.name).toBe('lm1b');
    expect(corpus.splits.train.kind).toBe('stream');
    expect((corpus.splits.train as StreamSplit).files).toEqual(info.files.filter((f) => f.split === 'train').map((f) => f.path));
    // Two held-out shards: the test split's and the validation split's.
    expect((corpus.splits.test as StreamSplit).files).toEqual([join(dir, LM1B_HELDOUT_DIR, LM1B_HELDOUT_FILE)]);
    expect((corpus.splits.valid as StreamSplit).files).toEqual([join(dir, LM1B_HELDOUT_DIR, LM1B_VALID_FILE)]);
  });

  it('reports the bytes, sentences and words it wrote', () => {
    expect(info.files).toHaveLength(5);
    for (const f of info.files) {
      expect(statSync(f.path).size).toBe(f.bytes);
      expect(readFileSync(f.path, 'latin1').split('\n').length - 1).toBe(f.sentences);
      expect(f.bytes).toBeGreaterThanOrEqual(f.split === 'train' ? 50_000 : 20_000);
      // A shard ends with the sentence that reaches its size: over it by less than a sentence.
      expect(f.bytes).toBeLessThan((f.split === 'train' ? 50_000 : 20_000) + 3000);
    }
    expect(info.bytes).toBe(info.files.reduce((a, f) => a + f.bytes, 0));
    expect(statSync(info.vocabFile).size).toBe(info.vocabBytes);
    const trainFiles = info.files.filter((f) => f.split === 'train');
    expect(train.length).toBe(trainFiles.reduce((a, f) => a + f.sentences, 0));
    expect(train.reduce((a, s) => a + s.length - 2, 0)).toBe(trainFiles.reduce((a, f) => a + f.words, 0));
  });

  it('the vocabulary has the requested entries: <S>, </S>, <UNK> first, then counts non-increasing', () => {
    const lines = readFileSync(info.vocabFile, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(2000);
    expect(lines.slice(0, 3)).toEqual(['<S> 0', '</S> 0', '<UNK> 0']);
    const counts = lines.slice(3).map((l) => Number(l.split(' ')[1]));
    expect(counts.every((c) => Number.isInteger(c) && c >= 1)).toBe(true);
    expect(counts.every((c, i) => i === 0 || c <= counts[i - 1])).toBe(true);
    expect(counts[0]).toBeGreaterThan(counts[counts.length - 1]);
    expect(lines[3]).toBe(`${syntheticWord(0)} ${counts[0]}`);
    expect(corpus.vocab.size).toBe(2000);
    expect(corpus.vocab.unkId).toBe(2);
  });

  it('leaves no temporary file, and a failed write removes its own', async () => {
    const d = join(tmp, 'blocked');
    // A directory where the second held-out shard goes: the rename onto it fails.
    mkdirSync(join(d, LM1B_HELDOUT_DIR, 'news.en.heldout-00001-of-00050'), { recursive: true });
    await expect(writeSyntheticLm1b(d, SMALL)).rejects.toThrow(/cannot write .*news\.en\.heldout-00001-of-00050/);
    expect(readdirSync(join(d, LM1B_HELDOUT_DIR))).toEqual([LM1B_HELDOUT_FILE, 'news.en.heldout-00001-of-00050']);
    for (const sub of [LM1B_TRAIN_DIR, LM1B_HELDOUT_DIR]) expect(readdirSync(join(dir, sub)).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});

describe('writeSyntheticLm1b: rewriting', () => {
  it('a smaller corpus written over a larger one removes the extra shards (the reader would take them) and old temporary files', async () => {
    const d = join(tmp, 'rewrite');
    await writeSyntheticLm1b(d, { ...SMALL, shardBytes: 5000, heldoutShards: 3 });
    writeFileSync(join(d, LM1B_TRAIN_DIR, 'README'), 'not a shard\n');
    // What an interrupted run leaves: a hidden temporary file.
    writeFileSync(join(d, LM1B_TRAIN_DIR, '.news.en-00002-of-00100.tmp-12345'), 'half a shard');
    const smaller = await writeSyntheticLm1b(d, { ...SMALL, shardBytes: 5000, trainShards: 1, heldoutShards: 2 });
    expect(readdirSync(join(d, LM1B_TRAIN_DIR)).sort()).toEqual(['README', 'news.en-00001-of-00100']);
    expect(readdirSync(join(d, LM1B_HELDOUT_DIR)).sort()).toEqual([LM1B_HELDOUT_FILE, LM1B_VALID_FILE]);
    const c = await loadLm1b(d);
    expect((await collect((c.splits.train as StreamSplit).sentences())).length).toBe(smaller.files[0].sentences);
  });
});

describe('writeSyntheticLm1b: determinism', () => {
  it('the same seed gives byte-identical files, another seed different ones', async () => {
    const a = filesOf(dir);
    const same = filesOf((await writeSyntheticLm1b(join(tmp, 'same'), SMALL)).dir);
    expect([...same.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [k, v] of a) expect(same.get(k)!.equals(v), k).toBe(true);
    const other = filesOf((await writeSyntheticLm1b(join(tmp, 'other'), { ...SMALL, seed: 8 })).dir);
    for (const [k, v] of a) {
      // The vocabulary does not depend on the seed; every shard does.
      if (k === LM1B_VOCAB_FILE) expect(other.get(k)!.equals(v)).toBe(true);
      else expect(other.get(k)!.equals(v), k).toBe(false);
    }
  });

  it('regenerating one shard alone gives the same bytes', async () => {
    for (const f of info.files.filter((x) => x.index === 1)) {
      const before = readFileSync(f.path);
      rmSync(f.path);
      const again = await writeSyntheticLm1bShard(dir, f.split, f.index, SMALL);
      expect(again).toEqual(f);
      expect(readFileSync(f.path).equals(before)).toBe(true);
    }
    await expect(writeSyntheticLm1bShard(dir, 'train', 3, SMALL)).rejects.toThrow(
      /train shard index must be an integer in \[0, 2\], got 3/,
    );
  });
});

describe('writeSyntheticLm1b: statistics', () => {
  const counts = () => {
    const c = new Float64Array(corpus.vocab.size);
    for (const s of train) for (let i = 1; i < s.length - 1; i++) c[s[i]]++;
    return c;
  };

  it('loads and batches through the StreamBatcher with real ids', async () => {
    const b = makeBatcher(corpus.splits.train, { batchSize: 8, bptt: 20 });
    expect(b).toBeInstanceOf(StreamBatcher);
    const batches = await collect((b as StreamBatcher).batches());
    let targets = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of batches) {
      for (let k = 0; k < x.targets.length; k++) {
        if (x.mask && !x.mask[k]) continue;
        targets++;
        lo = Math.min(lo, x.inputs[k], x.targets[k]);
        hi = Math.max(hi, x.inputs[k], x.targets[k]);
      }
    }
    // Ids of the vocabulary: <S> (0) is the lowest, some word near the end the highest.
    expect(lo).toBe(0);
    expect(hi).toBeLessThan(2000);
    expect(hi).toBeGreaterThan(1000);
    const v = corpus.vocab;
    // Every stream starts with a sentence: <S> (id 0) first, then a word of the vocabulary.
    expect(Array.from(batches[0].inputs.subarray(0, 8))).toEqual(new Array(8).fill(0));
    expect(v.word(batches[0].inputs[8])).toMatch(/^([a-z]{4,}|<UNK>)$/);
    // A sentence of n words predicts n + 1 targets (its words and the closing <S>).
    const trainFiles = info.files.filter((f) => f.split === 'train');
    expect(targets).toBe(trainFiles.reduce((a, f) => a + f.words + f.sentences, 0));
  });

  it('word frequencies follow the rank order and the vocabulary counts', () => {
    const c = counts();
    const total = c.reduce((a, x) => a + x, 0);
    // Zipf s=1: rank 1 (id 3) about twice rank 2, ten times rank 10, a hundred times rank 100.
    expect(c[3]).toBeGreaterThan(c[102]);
    expect(c[3] / c[4]).toBeGreaterThan(1.7);
    expect(c[3] / c[4]).toBeLessThan(2.3);
    expect(c[3] / total).toBeCloseTo(1 / 8.17, 1);
    const v = corpus.vocab;
    // The expected counts of the file match what was drawn (within 10% for the top words).
    for (let id = 3; id < 8; id++) expect(Math.abs(c[id] - v.counts[id]) / v.counts[id]).toBeLessThan(0.1);
  });

  it('the mean sentence length is near meanLength', async () => {
    const mean = train.reduce((a, s) => a + s.length - 2, 0) / train.length;
    expect(Math.abs(mean - 27)).toBeLessThan(1);
    const short = await writeSyntheticLm1b(join(tmp, 'short'), { ...SMALL, meanLength: 8, trainShards: 1, heldoutShards: 2 });
    expect(Math.abs(short.words / short.sentences - 8)).toBeLessThan(0.4);
  });

  it('out-of-vocabulary words map to <UNK>, at about oovRate', () => {
    const unk = corpus.vocab.unkId;
    let n = 0;
    let words = 0;
    for (const s of train) {
      words += s.length - 2;
      for (let i = 1; i < s.length - 1; i++) if (s[i] === unk) n++;
    }
    const written = info.files.filter((f) => f.split === 'train').reduce((a, f) => a + f.oovWords, 0);
    expect(n).toBe(written);
    expect(n / words).toBeGreaterThan(0.015);
    expect(n / words).toBeLessThan(0.025);
    // The raw text has them as words the vocabulary lacks.
    const raw = readFileSync(info.files[0].path, 'latin1')
      .split(/\s+/)
      .filter((w) => w);
    expect(raw.filter((w) => !corpus.vocab.has(w)).length).toBe(info.files[0].oovWords);
  });
});

describe('writeSyntheticLm1b: options', () => {
  const bad: [string, SyntheticLm1bOptions, RegExp][] = [
    ['vocabSize 3', { vocabSize: 3 }, /vocabSize must be an integer in \[4, .*got 3\b/],
    ['vocabSize 2.5', { vocabSize: 2.5 }, /vocabSize .*got 2\.5/],
    ['trainShards 100', { trainShards: 100 }, /trainShards must be an integer in \[1, 99\], got 100/],
    ['heldoutShards 0', { heldoutShards: 0 }, /heldoutShards must be an integer in \[2, 50\], got 0/],
    // lm1b:DIR reads two held-out shards (test 00000, validation 00001): one would not load.
    ['heldoutShards 1', { heldoutShards: 1 }, /heldoutShards must be an integer in \[2, 50\], got 1/],
    ['shardBytes -1', { shardBytes: -1 }, /shardBytes .*got -1/],
    ['meanLength NaN', { meanLength: Number.NaN }, /meanLength must be a number in \[1, 200\], got NaN/],
    ['zipf 0', { zipf: 0 }, /zipf must be a number in \(0, 4\], got 0/],
    ['oovRate 1', { oovRate: 1 }, /oovRate must be a number in \[0, 1\), got 1/],
    ['seed -2', { seed: -2 }, /seed .*got -2/],
    ['an unknown option', { shardMB: 8 } as SyntheticLm1bOptions, /unknown option shardMB/],
  ];
  bad.forEach(([label, opts, msg], i) => {
    it(`refuses ${label}, naming the value, before writing anything`, async () => {
      const d = join(tmp, `refused-${i}`);
      const err = await writeSyntheticLm1b(d, { ...SMALL, ...opts }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataError);
      expect((err as Error).message).toMatch(msg);
      // Refused before anything is written.
      expect(existsSync(d)).toBe(false);
    });
  });
});

describe('streaming', () => {
  it('streams a corpus of several-MB shards with heap growth far below its size', async () => {
    const d = join(tmp, 'big');
    const big = await writeSyntheticLm1b(d, {
      vocabSize: 2000,
      trainShards: 5,
      shardBytes: 5_000_000,
      heldoutShards: 2,
      heldoutShardBytes: 10_000,
      seed: 3,
    });
    const trainBytes = big.files.filter((f) => f.split === 'train').reduce((a, f) => a + f.bytes, 0);
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    let sentences = 0;
    const c = await loadLm1b(d);
    for await (const s of (c.splits.train as StreamSplit).sentences()) {
      if (s.length > 0 && ++sentences % 2000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    }
    expect(sentences).toBe(big.files.filter((f) => f.split === 'train').reduce((a, f) => a + f.sentences, 0));
    // Loaded whole, the shards' text alone would be trainBytes (25 MB) on the heap, their ids
    // twice that and more; streamed, what is live is a read buffer and the garbage between collections.
    expect(peak).toBeLessThan(trainBytes / 2);
  });
});
