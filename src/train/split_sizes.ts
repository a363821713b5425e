// A split held in memory is cut into one stream per batch row, and each stream needs an input
// and its target: 2 tokens. A split shorter than that fails only when it is batched, which for
// the validation split is the end of a run, after every step has trained. train() and `flstm
// eval` check here first, naming the file and --batch.
import { parseCorpusSpec } from '../data/corpus.js';
import { DataError } from '../data/errors.js';
import type { Corpus, SplitName } from '../data/types.js';
import { formatCount } from './metrics.js';

const SPLITS: readonly SplitName[] = ['train', 'valid', 'test'];
const SPLIT_WORDS: Readonly<Record<SplitName, string>> = { train: 'training', valid: 'validation', test: 'test' };

/** "one.txt (the validation split)" for a text corpus, else "the validation split of brown". */
export function splitSource(corpus: Corpus, name: SplitName): string {
  let file: string | undefined;
  try {
    const spec = parseCorpusSpec(corpus.spec);
    if (spec.kind === 'text') file = spec.files[SPLITS.indexOf(name)];
  } catch {
    /* a corpus of the page ('web:...'): named by its spec */
  }
  return file !== undefined ? `${file} (the ${SPLIT_WORDS[name]} split)` : `the ${SPLIT_WORDS[name]} split of ${corpus.spec}`;
}

/**
 * Refuses a split of `corpus` held in memory that is too short for `batch` streams.
 * `batchText` says where the batch size came from (default "--batch B").
 */
export function checkSplitFitsBatch(corpus: Corpus, name: SplitName, batch: number, batchText = `--batch ${batch}`): void {
  const split = corpus.splits[name];
  // A stream split (lm1b) pads its last batches: any length batches.
  if (!split || split.kind !== 'array' || split.tokens.length >= 2 * batch) return;
  const n = split.tokens.length;
  const most = Math.floor(n / 2);
  const fix = `give a longer ${splitSource(corpus, name).includes(' (the ') ? 'file' : 'split'}${most > 1 ? ` or --batch ${most} or less` : most === 1 ? ' or --batch 1' : ''}`;
  throw new DataError(
    `${splitSource(corpus, name)} has ${formatCount(n)} token${n === 1 ? '' : 's'}, too few for ${batchText}: each of the ${batch} streams needs at least 2 tokens (${formatCount(2 * batch)} in all); ${fix}`,
  );
}

/** Refuses any split of `corpus` too short for `batch` streams (checkSplitFitsBatch). */
export function checkSplitsFitBatch(corpus: Corpus, batch: number): void {
  for (const name of SPLITS) checkSplitFitsBatch(corpus, name, batch);
}
