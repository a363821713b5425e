// The One Billion Word benchmark's format (the F-LSTM / G-LSTM paper's data), `lm1b:DIR`:
//   DIR/1b_word_vocab.txt                     one `word count` per line, id = line number;
//                                             its first lines are <S>, </S>, <UNK>
//   DIR/training-monolingual.tokenized.shuffled/news.en-*            training shards
//   DIR/heldout-monolingual.tokenized.shuffled/news.en.heldout-00000-of-00050
//                                             the test split (the literature's test set,
//                                             what f-lm evaluates by default)
//   DIR/heldout-monolingual.tokenized.shuffled/news.en.heldout-00001-of-00050
//                                             the validation split (another held-out shard,
//                                             so the best checkpoint is not chosen on the test set)
// Each line is a tokenized sentence; as in the paper's code (Dataset._parse_sentence) it
// becomes `<S> w1 .. wn <S>`, unknown words `<UNK>`. Shards are streamed line by line, never
// loaded whole; blank lines are skipped. Unlike the paper's code, the lines of a shard are
// not shuffled (that needs the whole shard in memory; the shards are shuffled already); the
// shard order can be (a seeded shuffle).
import { Rng } from '../random.js';
import { DataError } from './errors.js';
import type { Corpus, SentenceStreamOptions, StreamSplit } from './types.js';
import { readLines, requirePath } from './util.js';
import { Vocabulary } from './vocab.js';

export const LM1B_VOCAB_FILE = '1b_word_vocab.txt';
export const LM1B_TRAIN_DIR = 'training-monolingual.tokenized.shuffled';
export const LM1B_TRAIN_PREFIX = 'news.en-';
export const LM1B_HELDOUT_DIR = 'heldout-monolingual.tokenized.shuffled';
/** The held-out shard of the test split. */
export const LM1B_HELDOUT_FILE = 'news.en.heldout-00000-of-00050';
/** The held-out shard of the validation split. */
export const LM1B_VALID_FILE = 'news.en.heldout-00001-of-00050';
export const LM1B_SENTENCE = '<S>';

/** A sentence's ids: `<S> w1 .. wn <S>`. */
export function lm1bSentence(line: string, vocab: Vocabulary, sId: number): Int32Array | undefined {
  const t = line.trim();
  if (t === '') return undefined;
  const words = t.split(/\s+/);
  const ids = new Int32Array(words.length + 2);
  ids[0] = sId;
  for (let i = 0; i < words.length; i++) ids[i + 1] = vocab.id(words[i]);
  ids[words.length + 1] = sId;
  return ids;
}

function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** A split that streams the sentences of `files` (in order, or in a seeded shuffled order). */
export function sentenceSplit(name: string, files: readonly string[], vocab: Vocabulary, sId: number): StreamSplit {
  return {
    kind: 'stream',
    name,
    files,
    async *sentences(opts: SentenceStreamOptions = {}) {
      const rng = opts.shuffleSeed === undefined ? undefined : new Rng(opts.shuffleSeed);
      for (;;) {
        let any = false;
        for (const f of rng ? shuffled(files, rng) : files) {
          for await (const line of readLines(f)) {
            const s = lm1bSentence(line, vocab, sId);
            if (s) {
              any = true;
              yield s;
            }
          }
        }
        if (!any)
          throw new DataError(
            `the ${name} split holds no sentences (${files.length === 1 ? files[0] : `${files.length} files: ${files[0]} ..`} empty)`,
          );
        if (!opts.repeat) return;
      }
    },
  };
}

/** A held-out shard of `dir` that exists and is not empty: the test or the validation split's. */
async function heldoutShard(dir: string, file: string, split: 'test' | 'validation'): Promise<string> {
  const { stat } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const path = join(dir, LM1B_HELDOUT_DIR, file);
  const which = `(lm1b:DIR tests on ${LM1B_HELDOUT_FILE} and validates on ${LM1B_VALID_FILE})`;
  await requirePath(path, 'file', `held-out shard of the ${split} split`).catch((e: Error) => {
    throw new DataError(`${e.message} ${which}`);
  });
  if ((await stat(path)).size === 0) throw new DataError(`the held-out shard of the ${split} split ${path} is empty`);
  return path;
}

/** The training shards of `dir`, in name order, and their bytes in all; none, or all empty, is an error. */
async function trainShards(dir: string): Promise<{ files: string[]; bytes: number }> {
  const { readdir, stat } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const trainDir = join(dir, LM1B_TRAIN_DIR);
  await requirePath(trainDir, 'directory', 'training shard directory');
  const files = (await readdir(trainDir))
    .filter((n) => n.startsWith(LM1B_TRAIN_PREFIX))
    .sort()
    .map((n) => join(trainDir, n));
  if (files.length === 0) throw new DataError(`${trainDir} holds no training shards (${LM1B_TRAIN_PREFIX}*)`);
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  if (sizes.every((s) => s === 0)) throw new DataError(`the training shards in ${trainDir} are empty`);
  return { files, bytes: sizes.reduce((a, b) => a + b, 0) };
}

/** Loads the vocabulary and finds the shards; the shards themselves are read when streamed. */
export async function loadLm1b(dir: string, opts: { vocab?: Vocabulary } = {}): Promise<Corpus> {
  const { join, resolve } = await import('node:path');
  await requirePath(dir, 'directory', 'One Billion Word directory');
  const vocabPath = join(dir, LM1B_VOCAB_FILE);
  if (!opts.vocab) await requirePath(vocabPath, 'file', 'One Billion Word vocabulary');
  // A trained model's vocabulary replaces the directory's (its ids are what the model knows).
  const vocab = opts.vocab ?? (await Vocabulary.load(vocabPath));
  vocab.requireUnk('the words of the shards that are not in it');
  const sId = vocab.get(LM1B_SENTENCE);
  if (sId === undefined)
    throw new DataError(`${vocab.source}: has no sentence token ${LM1B_SENTENCE} (its first line in the One Billion Word vocabulary)`);

  const train = await trainShards(dir);
  const test = await heldoutShard(dir, LM1B_HELDOUT_FILE, 'test');
  const valid = await heldoutShard(dir, LM1B_VALID_FILE, 'validation');
  return {
    name: 'lm1b',
    spec: `lm1b:${dir}`,
    vocab,
    boundary: LM1B_SENTENCE,
    splits: {
      train: sentenceSplit('train', train.files, vocab, sId),
      valid: sentenceSplit('valid', [valid], vocab, sId),
      test: sentenceSplit('test', [test], vocab, sId),
    },
    identity: { kind: 'lm1b', dir: resolve(dir), trainShards: train.files.length, trainBytes: train.bytes },
  };
}
