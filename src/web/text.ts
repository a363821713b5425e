// Text for the browser demo, tokenized as the CLI's `text:` corpora are (src/data/text.ts):
// whitespace tokens, case kept, each non-blank line a sentence followed by `<eos>`; the
// vocabulary `<unk>` (id 0), `<eos>` (id 1), then words by count. The last part of the
// tokens (10% by default) is held out for validation. No Node imports: this runs in a tab.
import { Vocabulary } from '../data/vocab.js';
import { WordTable } from '../data/util.js';

export const EOS = '<eos>';
export const UNK = '<unk>';

export interface TextCorpus {
  /** Where the text came from ('brown-excerpt', a file name, 'pasted text'). */
  source: string;
  vocab: Vocabulary;
  train: Int32Array;
  valid: Int32Array;
  /** Tokens in all (train + valid), <eos> included. */
  tokens: number;
  /** Words in all: whitespace-separated, as wordCount() counts them (the <eos> ending each line not counted). */
  words: number;
}

export interface TextCorpusOptions {
  /** At most this many vocabulary entries (<unk> and <eos> included). */
  maxVocab?: number;
  minCount?: number;
  /** The part of the tokens held out for validation (default 0.1; 0: none). */
  validFraction?: number;
}

/** Calls fn for each word of the text, `<eos>` after every non-blank line (when `eos`); returns the count of words. */
function forEachWord(text: string, fn: (w: string) => void, eos = true): number {
  let words = 0;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    const lineWords = t.split(/\s+/);
    for (const w of lineWords) fn(w);
    words += lineWords.length;
    if (eos) fn(EOS);
  }
  return words;
}

/** The words of a text as its corpus counts them (whitespace-separated; the page shows this figure everywhere). */
export function wordCount(text: string): number {
  return forEachWord(text, () => {}, false);
}

function split(tokens: Int32Array, validFraction: number, source: string): { train: Int32Array; valid: Int32Array } {
  const nValid = validFraction > 0 ? Math.floor(tokens.length * validFraction) : 0;
  const train = tokens.subarray(0, tokens.length - nValid);
  if (train.length < 4) throw new Error(`flstm: ${source} has ${tokens.length} words; the demo needs a few hundred at least`);
  return { train, valid: tokens.subarray(tokens.length - nValid) };
}

/** Builds the vocabulary from the text and tokenizes it. */
export function textCorpus(text: string, source: string, o: TextCorpusOptions = {}): TextCorpus {
  const table = new WordTable();
  const words = forEachWord(text, (w) => table.add(w));
  if (table.stream.length === 0) throw new Error(`flstm: ${source} has no words`);
  const { vocab, tokens } = table.build({ unk: UNK, specials: [EOS], maxSize: o.maxVocab, minCount: o.minCount, source });
  return { source, vocab, tokens: tokens.length, words, ...split(tokens, o.validFraction ?? 0.1, source) };
}

/**
 * Tokenizes the text with a given vocabulary (a loaded checkpoint's): words it lacks become
 * its unknown-word token; lines end in `<eos>` only when the vocabulary has it (Brown's has not).
 */
export function encodeText(text: string, vocab: Vocabulary, source: string, validFraction = 0.1): TextCorpus {
  vocab.requireUnk(`the words of ${source} that it lacks`);
  const ids: number[] = [];
  const words = forEachWord(text, (w) => ids.push(vocab.id(w)), vocab.has(EOS));
  if (ids.length === 0) throw new Error(`flstm: ${source} has no words`);
  const tokens = Int32Array.from(ids);
  return { source, vocab, tokens: tokens.length, words, ...split(tokens, validFraction, source) };
}

export { detokenize } from '../data/detokenize.js';
