// fl.data without a GPU: the Brown corpus as Bengio et al. (2003) split it, vocabularies,
// plain text corpora, the batcher, the error cases, and `flstm data`.
import { useBuiltCli } from './cli-helpers.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Batcher,
  BROWN_MIN_COUNT,
  brownDirectory,
  DataError,
  loadCorpus,
  parseCorpusSpec,
  stripTags,
  Vocabulary,
  type ArraySplit,
  type Corpus,
} from '../src/data/index.js';

const root = resolve(__dirname, '..');
const BROWN_TOTAL = 1_161_192;
const BROWN_VOCAB = 17_905;

/**
 * What `run` reads under `dir` through node:fs/promises (the corpus loader's readdir and
 * readFile), counted by wrapping the module's functions: syncBuiltinESMExports carries the
 * wrappers into the ES module's named exports, which the loader imports.
 */
async function countReads<T>(dir: string, run: () => Promise<T>): Promise<{ result: T; paths: string[] }> {
  const paths: string[] = [];
  const saved = { readdir: fsp.readdir, readFile: fsp.readFile };
  const watch = <F extends (p: any, ...rest: any[]) => any>(f: F): F =>
    ((p: unknown, ...rest: unknown[]) => {
      if (String(p).startsWith(dir)) paths.push(String(p));
      return f(p, ...rest);
    }) as F;
  Object.assign(fsp, { readdir: watch(saved.readdir), readFile: watch(saved.readFile) });
  syncBuiltinESMExports();
  try {
    return { result: await run(), paths };
  } finally {
    Object.assign(fsp, saved);
    syncBuiltinESMExports();
  }
}

function tokensOf(c: Corpus, name: 'train' | 'valid' | 'test'): Int32Array {
  const s = c.splits[name];
  if (!s || s.kind !== 'array') throw new Error(`no array split ${name}`);
  return (s as ArraySplit).tokens;
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'flstm-data-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

describe('the Brown corpus (Bengio et al. 2003 split)', () => {
  let brown: Corpus;
  /** The corpus files the first load read (it parses them; later loads of the file reuse the parse). */
  let firstReads: string[];
  beforeAll(async () => {
    const first = await countReads(await brownDirectory(), () => loadCorpus('brown'));
    brown = first.result;
    firstReads = first.paths;
  });

  it('has 1,161,192 tokens: 800,000 train, 200,000 valid, 161,192 test', () => {
    expect(tokensOf(brown, 'train').length).toBe(800_000);
    expect(tokensOf(brown, 'valid').length).toBe(200_000);
    expect(tokensOf(brown, 'test').length).toBe(161_192);
    expect(tokensOf(brown, 'train').length + tokensOf(brown, 'valid').length + tokensOf(brown, 'test').length).toBe(BROWN_TOTAL);
    expect(brown.name).toBe('brown');
    expect(brown.boundary).toBeUndefined();
  });

  it('has 17,905 types with <unk>: the words seen more than 3 times in the whole stream', () => {
    const v = brown.vocab;
    expect(v.size).toBe(BROWN_VOCAB);
    expect(v.unk).toBe('<unk>');
    expect(v.unkId).toBe(0);
    expect(v.counts.reduce((a, b) => a + b, 0)).toBe(BROWN_TOTAL);
    for (let i = 1; i < v.size; i++) expect(v.counts[i]).toBeGreaterThanOrEqual(BROWN_MIN_COUNT);
    // Words are in frequency order after <unk>.
    for (let i = 2; i < v.size; i++) expect(v.counts[i]).toBeLessThanOrEqual(v.counts[i - 1]);
    const unk = ['train', 'valid', 'test'].reduce((n, s) => n + v.countUnk(tokensOf(brown, s as 'train')), 0);
    expect(v.counts[0]).toBe(unk);
    expect(v.word(1)).toBe('the');
  });

  it('starts with the text of ca01, tags stripped, case and punctuation kept', async () => {
    const ca01 = readFileSync(join(await brownDirectory(), 'ca01'), 'utf8');
    expect(ca01).toMatch(/^\s*The\/at Fulton\/np-tl County\/nn-tl/);
    const words = stripTags(ca01);
    const first = brown.vocab.decode(tokensOf(brown, 'train').subarray(0, 25));
    expect(first.join(' ')).toBe(
      "The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced `` no evidence '' that any irregularities took place .",
    );
    const ids = tokensOf(brown, 'train').subarray(0, words.length);
    words.forEach((w, i) => expect(brown.vocab.word(ids[i])).toBe(brown.vocab.has(w) ? w : '<unk>'));
  });

  it('a second load reuses the parsed files', async () => {
    // The cache itself, not the time it saves: the second load reads no file of the corpus.
    const dir = await brownDirectory();
    const reads = await countReads(dir, () => loadCorpus('brown'));
    const again = reads.result;
    expect(reads.paths).toEqual([]);
    // The count can fail: it saw the first load list the directory and read its 500 files.
    expect(firstReads).toHaveLength(501);
    expect(again.vocab.size).toBe(BROWN_VOCAB);
    expect(tokensOf(again, 'test')).toEqual(tokensOf(brown, 'test'));
  });

  it('takes a vocabulary size instead of the minimum count', async () => {
    const small = await loadCorpus('brown', { maxVocab: 1000 });
    expect(small.vocab.size).toBe(1000);
    expect(small.vocab.words.slice(0, 1000)).toEqual(brown.vocab.words.slice(0, 1000));
  });
});

describe('stripTags', () => {
  it('cuts each token at its last slash', () => {
    expect(stripTags("\n\n\tThe/at Atlanta's/np$ ``/`` 1/2/cd and/or/cc //in ,/, ./.\n")).toEqual([
      'The',
      "Atlanta's",
      '``',
      '1/2',
      'and/or',
      '/',
      ',',
      '.',
    ]);
  });
});

describe('Vocabulary', () => {
  it('fromCounts: <unk> first, then by count, ties in first-seen order; min count and size limit', () => {
    const counts = new Map([
      ['b', 2],
      ['a', 5],
      ['c', 2],
      ['d', 1],
    ]);
    const v = Vocabulary.fromCounts(counts);
    expect(v.words).toEqual(['<unk>', 'a', 'b', 'c', 'd']);
    expect(v.counts).toEqual([0, 5, 2, 2, 1]);
    const m = Vocabulary.fromCounts(counts, { minCount: 2 });
    expect(m.words).toEqual(['<unk>', 'a', 'b', 'c']);
    expect(m.counts[0]).toBe(1);
    const s = Vocabulary.fromCounts(counts, { maxSize: 3, specials: ['<eos>'] });
    expect(s.words).toEqual(['<unk>', '<eos>', 'a']);
    expect(s.counts).toEqual([5, 0, 5]);
    expect(s.id('zzz')).toBe(0);
    expect(Array.from(s.encode(['a', 'b', '<eos>']))).toEqual([2, 0, 1]);
    expect(() => Vocabulary.fromCounts(counts, { maxSize: 2, specials: ['<eos>'] })).toThrow(/maxSize must be an integer of at least 3/);
  });

  it('saves and loads `word count` lines (id = line number)', async () => {
    const v = Vocabulary.fromCounts(
      new Map([
        ['x', 3],
        ['y', 7],
      ]),
      { specials: ['<eos>'] },
    );
    const p = join(tmp, 'vocab.txt');
    await v.save(p);
    expect(readFileSync(p, 'utf8')).toBe('<unk> 0\n<eos> 0\ny 7\nx 3\n');
    const back = await Vocabulary.load(p);
    expect(back.words).toEqual(v.words);
    expect(back.counts).toEqual(v.counts);
    expect(back.unkId).toBe(0);
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('reads an LM1B-style vocabulary: <UNK> is the unknown-word token', () => {
    const v = Vocabulary.parse('<S> 0\n</S> 0\n<UNK> 0\nthe 100\n', { source: 'lm1b' });
    expect(v.unk).toBe('<UNK>');
    expect(v.unkId).toBe(2);
    expect(v.id('the')).toBe(3);
    expect(v.id('nope')).toBe(2);
  });

  it('without <unk>: a clear error where one is needed, and bad lines are named', async () => {
    const v = Vocabulary.parse('a 1\nb 2\n', { source: 'my.vocab' });
    expect(v.unkId).toBe(-1);
    expect(v.id('a')).toBe(0);
    expect(() => v.id('c')).toThrow(/my\.vocab: has no unknown-word token \(<unk> or <UNK>\), needed for the word "c"/);
    expect(() => Vocabulary.parse('a 1\n\nb 2\n', { source: 'f' })).toThrow(/f: line 2 "" is not 'word count'/);
    expect(() => Vocabulary.parse('a 1\na 2\n', { source: 'f' })).toThrow(/the word "a" appears twice \(ids 0 and 1\)/);
    expect(() => Vocabulary.parse('a x\n', { source: 'f' })).toThrow(/line 1/);
    await expect(Vocabulary.load(join(tmp, 'missing.vocab'))).rejects.toThrow(/no vocabulary file .*missing\.vocab/);
  });
});

describe('plain text corpora', () => {
  it('one file: whitespace tokens, <eos> after each line, blank lines skipped', async () => {
    const train = write('a.train', 'the cat sat\n\n  the  dog sat \nthe end');
    const c = await loadCorpus(`text:${train}`);
    expect(c.name).toBe('text');
    expect(c.boundary).toBe('<eos>');
    expect(c.splits.valid).toBeUndefined();
    expect(c.vocab.words).toEqual(['<unk>', '<eos>', 'the', 'sat', 'cat', 'dog', 'end']);
    expect(c.vocab.decode(tokensOf(c, 'train')).join(' ')).toBe('the cat sat <eos> the dog sat <eos> the end <eos>');
  });

  it('valid and test files: words not in the training file are <unk>', async () => {
    const train = write('b.train', 'a b a\nc a\n');
    const valid = write('b.valid', 'a z\n');
    const test = write('b.test', 'q b\r\nc\r\n');
    const c = await loadCorpus(`text:${train},${valid},${test}`);
    expect(c.vocab.decode(tokensOf(c, 'valid'))).toEqual(['a', '<unk>', '<eos>']);
    expect(c.vocab.decode(tokensOf(c, 'test'))).toEqual(['<unk>', 'b', '<eos>', 'c', '<eos>']);
    const m = await loadCorpus(`text:${train},${valid}`, { minCount: 2 });
    expect(m.vocab.words).toEqual(['<unk>', '<eos>', 'a']);
    expect(m.vocab.decode(tokensOf(m, 'train'))).toEqual(['a', '<unk>', 'a', '<eos>', '<unk>', 'a', '<eos>']);
    expect(m.splits.test).toBeUndefined();
    const s = await loadCorpus(`text:${train}`, { maxVocab: 4 });
    expect(s.vocab.words).toEqual(['<unk>', '<eos>', 'a', 'b']);
  });

  it('a vocabulary file: used as given; without <unk> a clear error', async () => {
    const train = write('c.train', 'x y\n');
    const good = write('good.vocab', '<unk> 0\n<eos> 0\nx 1\n');
    const c = await loadCorpus(`text:${train}`, { vocabFile: good });
    expect(Array.from(tokensOf(c, 'train'))).toEqual([2, 0, 1]);
    const noUnk = write('nounk.vocab', '<eos> 0\nx 1\ny 1\n');
    await expect(loadCorpus(`text:${train}`, { vocabFile: noUnk })).rejects.toThrow(
      /nounk\.vocab: has no unknown-word token \(<unk> or <UNK>\)/,
    );
    const noEos = write('noeos.vocab', '<unk> 0\nx 1\n');
    await expect(loadCorpus(`text:${train}`, { vocabFile: noEos })).rejects.toThrow(/has no end-of-sentence token <eos>/);
  });
});

describe('corpus errors', () => {
  it('an unknown spec names the accepted ones', async () => {
    await expect(loadCorpus('penn')).rejects.toThrow("unknown corpus 'penn' (expected brown, lm1b:DIR or text:TRAIN[,VALID[,TEST]])");
    expect(() => parseCorpusSpec('lm1b:')).toThrow(/needs a directory/);
    expect(() => parseCorpusSpec('text:a,,b')).toThrow(/1 to 3 comma-separated files/);
    expect(() => parseCorpusSpec('text:a,b,c,d')).toThrow(/1 to 3 comma-separated files/);
    expect(parseCorpusSpec('text:a,b')).toEqual({ kind: 'text', files: ['a', 'b'] });
  });

  it('a missing directory or file, an empty file', async () => {
    await expect(loadCorpus(`lm1b:${join(tmp, 'nowhere')}`)).rejects.toThrow(/no One Billion Word directory .*nowhere/);
    await expect(loadCorpus(`text:${join(tmp, 'none.txt')}`)).rejects.toThrow(/no train file .*none\.txt/);
    const train = write('ok.train', 'a b\n');
    await expect(loadCorpus(`text:${train},${join(tmp, 'none.valid')}`)).rejects.toThrow(/no valid file .*none\.valid/);
    const empty = write('empty.txt', '\n  \n');
    await expect(loadCorpus(`text:${empty}`)).rejects.toThrow(/the train file .*empty\.txt is empty \(no words\)/);
    await expect(loadCorpus(`text:${train},${empty}`)).rejects.toThrow(/the valid file .*empty\.txt is empty/);
    await expect(loadCorpus('brown', { brownDir: tmp })).rejects.toThrow(/holds no Brown corpus files/);
    await expect(loadCorpus('brown', { brownDir: join(tmp, 'nowhere') })).rejects.toThrow(DataError);
  });
});

describe('Batcher', () => {
  const N = 103;
  const tokens = Int32Array.from({ length: N }, (_, i) => i);

  it('cuts N tokens into B contiguous streams of floor(N/B), time-major batches', () => {
    const b = new Batcher(tokens, { batchSize: 4, bptt: 5 });
    expect(b.streamLength).toBe(25); // 3 tokens left over
    expect(b.length).toBe(5); // 24 positions with a target: 5 + 5 + 5 + 5 + 4
    const first = b.batch(0);
    expect(first.steps).toBe(5);
    // inputs[t * B + s] = stream s at step t = s * 25 + t
    for (let t = 0; t < 5; t++) for (let s = 0; s < 4; s++) expect(first.inputs[t * 4 + s]).toBe(s * 25 + t);
    const last = b.batch(4);
    expect(last.steps).toBe(4);
    expect(last.inputs.length).toBe(16);
    expect(Array.from(last.targets.subarray(12))).toEqual([24, 49, 74, 99]);
    expect(b.targetsPerEpoch).toBe(24 * 4);
    const dropped = new Batcher(tokens, { batchSize: 4, bptt: 5, dropLast: true });
    expect(dropped.length).toBe(4);
    expect([...dropped].every((x) => x.steps === 5)).toBe(true);
  });

  it('targets are the inputs shifted by one in the same stream, and the state carries across batches', () => {
    const rnd = Int32Array.from({ length: 997 }, (_, i) => (i * 7919) % 1009);
    const B = 3;
    const b = new Batcher(rnd, { batchSize: B, bptt: 7 });
    const L = b.streamLength;
    const batches = [...b];
    for (const x of batches) {
      for (let t = 0; t + 1 < x.steps; t++) for (let s = 0; s < B; s++) expect(x.targets[t * B + s]).toBe(x.inputs[(t + 1) * B + s]);
    }
    for (let i = 0; i + 1 < batches.length; i++) {
      const [x, y] = [batches[i], batches[i + 1]];
      for (let s = 0; s < B; s++) expect(y.inputs[s]).toBe(x.targets[(x.steps - 1) * B + s]);
    }
    // Each stream, read through the epoch, is its contiguous piece of the tokens.
    for (let s = 0; s < B; s++) {
      const seen = batches.flatMap((x) => Array.from({ length: x.steps }, (_, t) => x.inputs[t * B + s]));
      seen.push(batches[batches.length - 1].targets[(batches[batches.length - 1].steps - 1) * B + s]);
      expect(seen).toEqual(Array.from(rnd.subarray(s * L, (s + 1) * L)));
    }
  });

  it('is deterministic and resumes at batch k as if k batches were skipped', () => {
    const b = new Batcher(tokens, { batchSize: 2, bptt: 6 });
    const all = [...b.batches()];
    expect([...b.batches(3)]).toEqual(all.slice(3));
    expect([...new Batcher(tokens, { batchSize: 2, bptt: 6 })]).toEqual(all);
    expect([...b.batches(b.length)]).toEqual([]);
    expect(() => b.batch(b.length)).toThrow(/batch \d+ is out of range/);
  });

  it('rejects sizes that cannot work', () => {
    expect(() => new Batcher(tokens, { batchSize: 0, bptt: 5 })).toThrow(/batchSize must be a positive integer, got 0/);
    expect(() => new Batcher(tokens, { batchSize: 4, bptt: 2.5 })).toThrow(/bptt must be a positive integer/);
    expect(() => new Batcher(tokens, { batchSize: 60, bptt: 5 })).toThrow(/103 tokens are too few for 60 streams/);
    expect(() => new Batcher(tokens, { batchSize: 4, bptt: 30, dropLast: true })).toThrow(/no full batch of 30 steps/);
  });
});

describe('flstm data', () => {
  useBuiltCli();

  function cli(...args: string[]) {
    const r = spawnSync(process.execPath, ['dist/cli.js', 'data', ...args], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    if (r.error) throw r.error;
    return r;
  }

  it('--json prints one line of counts per split (Brown by default)', () => {
    const r = cli('--json');
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]);
    expect(out.data).toBe('brown');
    expect(out.vocab).toBe(BROWN_VOCAB);
    expect(Object.keys(out.splits)).toEqual(['train', 'valid', 'test']);
    expect([out.splits.train.tokens, out.splits.valid.tokens, out.splits.test.tokens]).toEqual([800_000, 200_000, 161_192]);
    for (const s of Object.values(out.splits) as { unk: number }[]) expect(s.unk).toBeGreaterThan(0);
  });

  it('counts a text corpus; bad specs and files are one-line errors', () => {
    const train = write('cli.train', 'a b c\na b\n');
    const valid = write('cli.valid', 'a x\n');
    const r = cli('--data', `text:${train},${valid}`, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      data: `text:${train},${valid}`,
      vocab: 5,
      splits: { train: { tokens: 7, unk: 0 }, valid: { tokens: 3, unk: 1 } },
    });
    const h = cli('--data', `text:${train}`);
    expect(h.status, h.stderr).toBe(0);
    expect(h.stdout).toMatch(/^train\s+7 tokens, 0 <unk>/m);

    const bad = cli('--data', 'penn');
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.trim()).toBe("flstm data: unknown corpus 'penn' (expected brown, lm1b:DIR or text:TRAIN[,VALID[,TEST]])");
    const missing = cli('--data', `text:${join(tmp, 'gone.txt')}`);
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^flstm: no train file .*gone\.txt$/);
    const flag = cli('--vocab-size', 'x');
    expect(flag.status).toBe(2);
    expect(flag.stderr.trim()).toBe("flstm data: --vocab-size must be an integer of at least 2 (<unk> and one word), got 'x'");
  });
});

describe('files that are not UTF-8 text', () => {
  it('a binary file or one in another encoding is refused, naming the file and the line', async () => {
    const bin = join(tmp, 'binary.txt');
    writeFileSync(bin, Buffer.concat([Buffer.from('the cat sat\nthe dog\n'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01, 0x0a])]));
    await expect(loadCorpus(`text:${bin}`)).rejects.toThrow(`${bin} is not a text file: line 3 holds a NUL byte`);
    const latin1 = join(tmp, 'latin1.txt');
    writeFileSync(latin1, Buffer.from('a caf\xe9 here\n', 'latin1'));
    await expect(loadCorpus(`text:${latin1}`)).rejects.toThrow(DataError);
    await expect(loadCorpus(`text:${latin1}`)).rejects.toThrow(
      `${latin1} is not UTF-8: line 1 has bytes that do not decode (near character 6)`,
    );
    const good = write('utf8.txt', 'a café here\nnaïve text\n');
    expect((await loadCorpus(`text:${good}`)).vocab.has('café')).toBe(true);
  });
});
