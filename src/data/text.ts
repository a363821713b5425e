// Plain text files, `text:TRAIN[,VALID[,TEST]]`: whitespace tokenized, case kept, each line a
// sentence followed by the end-of-sentence token `<eos>` (blank lines are skipped; a last
// line without a newline still ends in `<eos>`). The vocabulary is built from the training
// file (`<unk>` id 0, `<eos>` id 1, then words by count; options: maxSize, minCount) or read
// from a vocabulary file; words of any file that are not in it map to `<unk>`. Files are
// read line by line, each once, hashed as it is read (the corpus's identity, identity.ts); the
// token ids are kept in memory (one Int32Array per split).
import { DataError } from './errors.js';
import { fileHasher, type FileIdentity } from './identity.js';
import type { ArraySplit, Corpus, SplitName } from './types.js';
import { IntBuffer, WordTable, readLines, requirePath } from './util.js';
import { Vocabulary, type VocabBuildOptions } from './vocab.js';

export const EOS = '<eos>';
export const TEXT_UNK = '<unk>';

export interface TextOptions extends Pick<VocabBuildOptions, 'maxSize' | 'minCount'> {
  /** Use this vocabulary file (`word count` per line) instead of building one; it needs `<unk>` and `<eos>`. */
  vocabFile?: string;
  /**
   * Encode with this vocabulary (a trained model's): words it lacks become its unknown-word
   * token; lines end in `<eos>` only when it has one (a model trained on Brown has not).
   */
  vocab?: Vocabulary;
}

const SPLIT_NAMES: SplitName[] = ['train', 'valid', 'test'];

/** Calls `fn` on each word of the file (and `<eos>` after each line); returns the file's identity. */
async function forEachWord(path: string, fn: (word: string) => void, eos = true): Promise<FileIdentity> {
  const hasher = await fileHasher(path);
  for await (const line of readLines(path, (bytes) => hasher.update(bytes))) {
    const t = line.trim();
    if (t === '') continue;
    for (const w of t.split(/\s+/)) fn(w);
    if (eos) fn(EOS);
  }
  return hasher.identity();
}

async function encodeFile(path: string, vocab: Vocabulary): Promise<{ tokens: Int32Array; identity: FileIdentity }> {
  const buf = new IntBuffer();
  const identity = await forEachWord(path, (w) => buf.push(vocab.id(w)), vocab.has(EOS));
  return { tokens: buf.toArray(), identity };
}

function emptyError(path: string, name: string): DataError {
  return new DataError(`the ${name} file ${path} is empty (no words)`);
}

export async function loadText(files: readonly string[], opts: TextOptions = {}): Promise<Corpus> {
  if (files.length < 1 || files.length > 3)
    throw new DataError(`text corpus: give 1 to 3 files (train[,valid[,test]]), got ${files.length}`);
  for (const [i, f] of files.entries()) await requirePath(f, 'file', `${SPLIT_NAMES[i]} file`);

  let vocab: Vocabulary;
  let train: Int32Array;
  let trainFile: FileIdentity;
  if (opts.vocab) {
    if (opts.vocabFile !== undefined || opts.maxSize !== undefined || opts.minCount !== undefined) {
      throw new DataError('text corpus: a given vocabulary and a vocabulary file, size or minimum count do not go together');
    }
    vocab = opts.vocab;
    vocab.requireUnk(`the words of ${files.join(', ')} that are not in it`);
    ({ tokens: train, identity: trainFile } = await encodeFile(files[0], vocab));
  } else if (opts.vocabFile !== undefined) {
    if (opts.maxSize !== undefined || opts.minCount !== undefined) {
      throw new DataError('text corpus: a vocabulary file and a vocabulary size or minimum count do not go together');
    }
    vocab = await Vocabulary.load(opts.vocabFile);
    vocab.requireUnk(`the words of ${files.join(', ')} that are not in it`);
    if (!vocab.has(EOS))
      throw new DataError(`${opts.vocabFile}: has no end-of-sentence token ${EOS} (text corpora end every line with it)`);
    ({ tokens: train, identity: trainFile } = await encodeFile(files[0], vocab));
  } else {
    const table = new WordTable();
    trainFile = await forEachWord(files[0], (w) => table.add(w));
    if (table.stream.length === 0) throw emptyError(files[0], 'train');
    ({ vocab, tokens: train } = table.build({
      unk: TEXT_UNK,
      specials: [EOS],
      maxSize: opts.maxSize,
      minCount: opts.minCount,
      source: files[0],
    }));
  }
  if (train.length === 0) throw emptyError(files[0], 'train');

  const splits: Corpus['splits'] = { train: { kind: 'array', name: 'train', tokens: train } };
  const identities = [trainFile];
  for (let i = 1; i < files.length; i++) {
    const name = SPLIT_NAMES[i] as 'valid' | 'test';
    const { tokens, identity } = await encodeFile(files[i], vocab);
    if (tokens.length === 0) throw emptyError(files[i], name);
    splits[name] = { kind: 'array', name, tokens } satisfies ArraySplit;
    identities.push(identity);
  }
  return { name: 'text', spec: `text:${files.join(',')}`, vocab, boundary: EOS, splits, identity: { kind: 'text', files: identities } };
}
