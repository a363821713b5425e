// A synthetic corpus in the One Billion Word layout (what `lm1b:DIR` reads), seeded and
// deterministic, for tests and the input-pipeline bench (bench/data.ts):
//   DIR/1b_word_vocab.txt   <S> 0, </S> 0, <UNK> 0, then `word count`, most frequent first
//   DIR/training-monolingual.tokenized.shuffled/news.en-00001-of-00100 ..      training shards
//   DIR/heldout-monolingual.tokenized.shuffled/news.en.heldout-00000-of-00050 ..  held-out
// A sentence is one line of space-separated words. Its length is 1 + a gamma (shape 4) draw
// of mean `meanLength` - 1 (sd about half the mean and a right tail, like LM1B's ~27-word
// sentences). Its words are drawn independently from Zipf's law over the vocabulary's words,
// p(rank r) ~ 1 / (r + 1)^zipf (Walker's alias method: O(1) a word), and a share `oovRate`
// of them are words the vocabulary lacks (the reader maps them to <UNK>). Word rank r is
// spelled in bijective base 26 from 'aaaa' on; out-of-vocabulary words continue the ranks,
// so they never collide with a vocabulary word. The vocabulary's counts are the expected
// training counts (p(r) times the expected training words), so the vocabulary file does not
// depend on the shards and every shard can be regenerated alone: each file draws from its own
// seed (a hash of the seed, the split and the file's index). A shard is written in 1 MiB
// chunks (never held whole) to a hidden temporary file that is renamed when complete, so an
// interrupted run leaves no half shard under a shard's name.
import { Rng } from '../random.js';
import { DataError } from './errors.js';
import { LM1B_HELDOUT_DIR, LM1B_SENTENCE, LM1B_TRAIN_DIR, LM1B_TRAIN_PREFIX, LM1B_VOCAB_FILE } from './lm1b.js';

type Fs = typeof import('node:fs');

/** The real benchmark's sizes: vocabulary entries (<S>, </S>, <UNK> included) and shards. */
export const LM1B_VOCAB_SIZE = 793_471;
export const LM1B_TRAIN_SHARDS = 99;
export const LM1B_HELDOUT_SHARDS = 50;
/** The vocabulary's reserved first entries, in LM1B's order. */
export const LM1B_RESERVED = [LM1B_SENTENCE, '</S>', '<UNK>'] as const;

export interface SyntheticLm1bOptions {
  /** Vocabulary entries, the three reserved ones included (default 793,471, LM1B's). */
  vocabSize?: number;
  /** Training shards, news.en-00001-of-00100 on (default 99, LM1B's; at most 99). */
  trainShards?: number;
  /**
   * Bytes a training shard reaches (it ends with the sentence that reaches it). Default 8 MB:
   * the real shards are ~40 MB (~300K sentences, ~8M words) each; 8 MB keeps a full-shape
   * corpus under 1 GB. Every size is an option.
   */
  shardBytes?: number;
  /**
   * Held-out shards, news.en.heldout-00000-of-00050 on (default 50; at least 2: lm1b:DIR tests
   * on 00000 and validates on 00001; at most 50).
   */
  heldoutShards?: number;
  /** Bytes a held-out shard reaches (default 160 KB: the real ~830 KB scaled as shardBytes is). */
  heldoutShardBytes?: number;
  /** Mean words a sentence (default 27, LM1B's). */
  meanLength?: number;
  /** Zipf exponent (default 1). */
  zipf?: number;
  /** The share of words that are not in the vocabulary (default 0.003, about LM1B's held-out rate). */
  oovRate?: number;
  /** Seed of every draw (default 1). */
  seed?: number;
}

export type SyntheticSplit = 'train' | 'heldout';

export interface SyntheticShardInfo {
  path: string;
  split: SyntheticSplit;
  /** The shard's index in its split (0-based; training shard 0 is news.en-00001-of-00100). */
  index: number;
  bytes: number;
  sentences: number;
  /** Words (no <S>), out-of-vocabulary ones included. */
  words: number;
  /** Out-of-vocabulary words among them. */
  oovWords: number;
}

export interface SyntheticLm1bInfo {
  dir: string;
  vocabFile: string;
  vocabSize: number;
  vocabBytes: number;
  /** Files in order: training shards, then held-out shards. */
  files: SyntheticShardInfo[];
  /** Totals over the shards (the vocabulary file's bytes are in vocabBytes, not here). */
  bytes: number;
  sentences: number;
  words: number;
  /** Seconds the whole generation took. */
  seconds: number;
}

type Resolved = Required<SyntheticLm1bOptions>;

const DEFAULTS: Resolved = {
  vocabSize: LM1B_VOCAB_SIZE,
  trainShards: LM1B_TRAIN_SHARDS,
  shardBytes: 8_000_000,
  heldoutShards: LM1B_HELDOUT_SHARDS,
  heldoutShardBytes: 160_000,
  meanLength: 27,
  zipf: 1,
  oovRate: 0.003,
  seed: 1,
};
/** Longest sentence in words (the gamma's tail is cut here; LM1B's lines are cut too). */
const MAX_LENGTH = 400;
/** Distinct out-of-vocabulary words at most. */
const OOV_WORDS = 100_000;
/** Words at most: keeps every spelling within 6 letters and the tables within memory. */
const MAX_VOCAB = 10_000_000;
const CHUNK = 1 << 20;
const RESERVED = LM1B_RESERVED.length;
/** 26 + 26^2 + 26^3: bijective base-26 numbers below this have at most 3 letters. */
const FIRST_FOUR_LETTERS = 18_278;

/** The spelling of word rank r: bijective base 26 of r + 18278, so rank 0 is 'aaaa'. */
export function syntheticWord(rank: number): string {
  let n = rank + FIRST_FOUR_LETTERS + 1;
  let s = '';
  while (n > 0) {
    n--;
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  }
  return s;
}

/** Training shard i's file name (i from 0): news.en-00001-of-00100 on, as LM1B numbers them. */
export function lm1bTrainShardName(i: number): string {
  return `${LM1B_TRAIN_PREFIX}${String(i + 1).padStart(5, '0')}-of-00100`;
}

/** Held-out shard i's file name (i from 0): news.en.heldout-00000-of-00050 on. */
export function lm1bHeldoutShardName(i: number): string {
  return `news.en.heldout-${String(i).padStart(5, '0')}-of-00050`;
}

/** The path of a shard under `dir`. */
function syntheticShardPath(join: (...p: string[]) => string, dir: string, split: SyntheticSplit, index: number): string {
  return split === 'train'
    ? join(dir, LM1B_TRAIN_DIR, lm1bTrainShardName(index))
    : join(dir, LM1B_HELDOUT_DIR, lm1bHeldoutShardName(index));
}

/** A value as a message shows it (NaN and Infinity as such, strings quoted). */
function shown(v: unknown): string {
  return typeof v === 'number' ? String(v) : JSON.stringify(v);
}

function checkInt(k: string, v: unknown, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new DataError(`synthetic lm1b: ${k} must be an integer in [${min}, ${max}], got ${shown(v)}`);
  }
}

function checkReal(k: string, v: unknown, ok: (x: number) => boolean, expected: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v))
    throw new DataError(`synthetic lm1b: ${k} must be ${expected}, got ${shown(v)}`);
}

/** The options with their defaults; one error names the first bad value and what was expected. */
export function resolveSyntheticOptions(opts: SyntheticLm1bOptions = {}): Resolved {
  const unknown = Object.keys(opts).filter((k) => !Object.prototype.hasOwnProperty.call(DEFAULTS, k));
  if (unknown.length)
    throw new DataError(`synthetic lm1b: unknown option ${unknown[0]} (expected one of ${Object.keys(DEFAULTS).join(', ')})`);
  // An option given as undefined takes its default.
  const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  const o: Resolved = { ...DEFAULTS, ...given };
  checkInt('vocabSize', o.vocabSize, RESERVED + 1, MAX_VOCAB);
  checkInt('trainShards', o.trainShards, 1, LM1B_TRAIN_SHARDS);
  // lm1b:DIR reads two: the test split's (00000) and the validation split's (00001).
  checkInt('heldoutShards', o.heldoutShards, 2, LM1B_HELDOUT_SHARDS);
  checkInt('shardBytes', o.shardBytes, 1, 2 ** 40);
  checkInt('heldoutShardBytes', o.heldoutShardBytes, 1, 2 ** 40);
  checkInt('seed', o.seed, 0, 2 ** 32 - 1);
  checkReal('meanLength', o.meanLength, (x) => x >= 1 && x <= 200, 'a number in [1, 200]');
  checkReal('zipf', o.zipf, (x) => x > 0 && x <= 4, 'a number in (0, 4]');
  checkReal('oovRate', o.oovRate, (x) => x >= 0 && x < 1, 'a number in [0, 1)');
  return o;
}

/** Zipf probabilities of `n` ranks (normalized). */
function zipfProbabilities(n: number, s: number): Float64Array {
  const p = new Float64Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) sum += p[r] = 1 / Math.pow(r + 1, s);
  for (let r = 0; r < n; r++) p[r] /= sum;
  return p;
}

/** Walker's alias table of `p` (Vose's construction): draw i uniform, keep it with prob[i], else alias[i]. */
function aliasTable(p: Float64Array): { prob: Float64Array; alias: Int32Array } {
  const n = p.length;
  const prob = new Float64Array(n);
  const alias = new Int32Array(n);
  const small = new Int32Array(n);
  const large = new Int32Array(n);
  let ns = 0;
  let nl = 0;
  for (let i = 0; i < n; i++) {
    prob[i] = p[i] * n;
    if (prob[i] < 1) small[ns++] = i;
    else large[nl++] = i;
  }
  while (ns > 0 && nl > 0) {
    const s = small[--ns];
    const l = large[nl - 1];
    alias[s] = l;
    prob[l] -= 1 - prob[s];
    if (prob[l] < 1) {
      nl--;
      small[ns++] = l;
    }
  }
  // What is left is 1 up to rounding.
  while (nl > 0) prob[large[--nl]] = 1;
  while (ns > 0) prob[small[--ns]] = 1;
  return { prob, alias };
}

/** The spellings of ranks 0 .. n-1, each with a trailing space, as ASCII bytes, and their offsets. */
function spellings(n: number): { bytes: Uint8Array; offsets: Int32Array } {
  const offsets = new Int32Array(n + 1);
  for (let r = 0; r < n; r++) offsets[r + 1] = offsets[r] + syntheticWord(r).length + 1;
  const bytes = new Uint8Array(offsets[n]).fill(32);
  for (let r = 0; r < n; r++) {
    const w = syntheticWord(r);
    for (let k = 0; k < w.length; k++) bytes[offsets[r] + k] = w.charCodeAt(k);
  }
  return { bytes, offsets };
}

/** What every file of one corpus draws from: built once, shared by its shards. */
interface Model {
  o: Resolved;
  /** Vocabulary words (reserved entries not counted): ranks 0 .. words-1. */
  words: number;
  p: Float64Array;
  prob: Float64Array;
  alias: Int32Array;
  /** Distinct out-of-vocabulary words: ranks words .. words+oovWords-1. */
  oovWords: number;
  spell: Uint8Array;
  offsets: Int32Array;
}

function buildModel(o: Resolved): Model {
  const words = o.vocabSize - RESERVED;
  const p = zipfProbabilities(words, o.zipf);
  const { prob, alias } = aliasTable(p);
  const oovWords = Math.max(16, Math.min(OOV_WORDS, words));
  const { bytes, offsets } = spellings(words + oovWords);
  return { o, words, p, prob, alias, oovWords, spell: bytes, offsets };
}

/** A file's own seed: a hash of the corpus seed, the split and the index (splitmix32's finalizer). */
function fileSeed(seed: number, split: SyntheticSplit, index: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + (split === 'train' ? 1 : 0x10001), 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** A sentence length: 1 + round(gamma(shape 4, mean meanLength - 1)), at most MAX_LENGTH. */
function drawLength(rng: Rng, theta: number): number {
  const u = (1 - rng.uniform()) * (1 - rng.uniform()) * (1 - rng.uniform()) * (1 - rng.uniform());
  return Math.min(MAX_LENGTH, 1 + Math.round(-theta * Math.log(u)));
}

/** A word rank: out of vocabulary with probability oovRate, else a Zipf draw (alias method). */
function drawWord(rng: Rng, m: Model): number {
  if (m.o.oovRate > 0 && rng.uniform() < m.o.oovRate) return m.words + rng.int(m.oovWords);
  const i = rng.int(m.words);
  return rng.uniform() < m.prob[i] ? i : m.alias[i];
}

/** Counts of one shard as it is written. */
interface Tally {
  bytes: number;
  sentences: number;
  words: number;
  oovWords: number;
}

/** Writes sentences to `fd` in chunks until `target` bytes are reached. */
function writeSentences(fs: Fs, fd: number, m: Model, rng: Rng, target: number): Tally {
  const theta = (m.o.meanLength - 1) / 4;
  const { spell, offsets } = m;
  // Room for one chunk and the longest sentence that can start before it is flushed.
  const buf = new Uint8Array(CHUNK + MAX_LENGTH * 16);
  const t: Tally = { bytes: 0, sentences: 0, words: 0, oovWords: 0 };
  let pos = 0;
  while (t.bytes + pos < target) {
    const len = drawLength(rng, theta);
    for (let k = 0; k < len; k++) {
      const r = drawWord(rng, m);
      if (r >= m.words) t.oovWords++;
      for (let o = offsets[r], e = offsets[r + 1]; o < e; o++) buf[pos++] = spell[o];
    }
    buf[pos - 1] = 10; // the last word's space becomes the newline
    t.sentences++;
    t.words += len;
    if (pos >= CHUNK) {
      fs.writeSync(fd, buf, 0, pos);
      t.bytes += pos;
      pos = 0;
    }
  }
  if (pos > 0) fs.writeSync(fd, buf, 0, pos);
  t.bytes += pos;
  return t;
}

/**
 * Writes `path` through a temporary file renamed at the end, so that the name never holds half
 * a file. The temporary name starts with a dot: the reader lists shards by their prefix
 * (news.en-*), so a temporary file left by a crash is never read as a shard.
 */
function writeAtomic<T>(fs: Fs, path: string, write: (fd: number) => T): T {
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  const tmp = `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.tmp-${process.pid}`;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'w');
    const r = write(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, path);
    return r;
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw new DataError(`synthetic lm1b: cannot write ${path}: ${(err as Error).message}`);
  }
}

function writeShard(fs: Fs, path: string, m: Model, split: SyntheticSplit, index: number): SyntheticShardInfo {
  const rng = new Rng(fileSeed(m.o.seed, split, index));
  const target = split === 'train' ? m.o.shardBytes : m.o.heldoutShardBytes;
  const t = writeAtomic(fs, path, (fd) => writeSentences(fs, fd, m, rng, target));
  return { path, split, index, ...t };
}

/** The expected training words: the training bytes over the expected bytes of a word (its letters and a separator). */
function expectedTrainWords(m: Model): number {
  let inVocab = 0;
  for (let r = 0; r < m.words; r++) inVocab += m.p[r] * (m.offsets[r + 1] - m.offsets[r]);
  const oov = (m.offsets[m.words + m.oovWords] - m.offsets[m.words]) / m.oovWords;
  const bytesPerWord = (1 - m.o.oovRate) * inVocab + m.o.oovRate * oov;
  return (m.o.trainShards * m.o.shardBytes) / bytesPerWord;
}

/** Writes the vocabulary: reserved entries (count 0, as LM1B's), then words by expected count. */
function writeVocab(fs: Fs, path: string, m: Model): number {
  const scale = (1 - m.o.oovRate) * expectedTrainWords(m);
  return writeAtomic(fs, path, (fd) => {
    let bytes = 0;
    let s = LM1B_RESERVED.map((w) => `${w} 0\n`).join('');
    for (let r = 0; r < m.words; r++) {
      // Rounding keeps the counts non-increasing (p is), and every word is seen at least once.
      s += `${syntheticWord(r)} ${Math.max(1, Math.round(m.p[r] * scale))}\n`;
      if (s.length >= CHUNK) {
        bytes += fs.writeSync(fd, s);
        s = '';
      }
    }
    return bytes + fs.writeSync(fd, s);
  });
}

/**
 * Removes shards of a larger earlier corpus under the same names' pattern (the reader takes
 * every news.en-* file, so a shard beyond this corpus's count would be read as part of it), and
 * the temporary files of interrupted runs (hidden, never read, but up to a shard's size each).
 */
function removeStale(fs: Fs, join: (...p: string[]) => string, dir: string, o: Resolved): void {
  const keep = new Set<string>();
  for (let i = 0; i < o.trainShards; i++) keep.add(lm1bTrainShardName(i));
  for (let i = 0; i < o.heldoutShards; i++) keep.add(lm1bHeldoutShardName(i));
  const shard = /^news\.en(\.heldout)?-\d{5}-of-\d{5}$/;
  const temporary = /^\.news\.en(\.heldout)?-\d{5}-of-\d{5}\.tmp-\d+$/;
  for (const sub of [LM1B_TRAIN_DIR, LM1B_HELDOUT_DIR]) {
    for (const name of fs.readdirSync(join(dir, sub))) {
      if ((shard.test(name) && !keep.has(name)) || temporary.test(name)) fs.rmSync(join(dir, sub, name), { force: true });
    }
  }
}

/** Node's fs and path (imported lazily: fl.data loads in a browser too), the directories, the model. */
async function prepare(dir: string, o: Resolved): Promise<{ fs: Fs; join: (...p: string[]) => string; m: Model }> {
  const fs = await import('node:fs');
  const { join } = await import('node:path');
  fs.mkdirSync(join(dir, LM1B_TRAIN_DIR), { recursive: true });
  fs.mkdirSync(join(dir, LM1B_HELDOUT_DIR), { recursive: true });
  return { fs, join, m: buildModel(o) };
}

/**
 * Writes a synthetic corpus in LM1B's layout under `dir` (created; files of the same names are
 * replaced, shards beyond this corpus's counts removed, other files left alone). The defaults
 * give the real shape: a 793,471-entry vocabulary, 99 training shards of ~8 MB, 50 held-out.
 */
export async function writeSyntheticLm1b(dir: string, opts: SyntheticLm1bOptions = {}): Promise<SyntheticLm1bInfo> {
  const t0 = performance.now();
  const { fs, join, m } = await prepare(dir, resolveSyntheticOptions(opts));
  removeStale(fs, join, dir, m.o);
  const vocabFile = join(dir, LM1B_VOCAB_FILE);
  const vocabBytes = writeVocab(fs, vocabFile, m);
  const files: SyntheticShardInfo[] = [];
  for (const [split, n] of [
    ['train', m.o.trainShards],
    ['heldout', m.o.heldoutShards],
  ] as const) {
    for (let i = 0; i < n; i++) files.push(writeShard(fs, syntheticShardPath(join, dir, split, i), m, split, i));
  }
  const sum = (k: 'bytes' | 'sentences' | 'words') => files.reduce((a, f) => a + f[k], 0);
  return {
    dir,
    vocabFile,
    vocabSize: m.o.vocabSize,
    vocabBytes,
    files,
    bytes: sum('bytes'),
    sentences: sum('sentences'),
    words: sum('words'),
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * Writes one shard of the corpus `writeSyntheticLm1b(dir, opts)` writes, alone (the same bytes:
 * pass the same options): to regenerate a lost or damaged shard without the rest.
 */
export async function writeSyntheticLm1bShard(
  dir: string,
  split: SyntheticSplit,
  index: number,
  opts: SyntheticLm1bOptions = {},
): Promise<SyntheticShardInfo> {
  if (split !== 'train' && split !== 'heldout')
    throw new DataError(`synthetic lm1b: split must be 'train' or 'heldout', got ${JSON.stringify(split)}`);
  const o = resolveSyntheticOptions(opts);
  checkInt(`the ${split} shard index`, index, 0, (split === 'train' ? o.trainShards : o.heldoutShards) - 1);
  const { fs, join, m } = await prepare(dir, o);
  return writeShard(fs, syntheticShardPath(join, dir, split, index), m, split, index);
}
