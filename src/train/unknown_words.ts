// Words outside a model's vocabulary, which its tokens turn into <unk>: how large a share of a
// text they are, and the one limit above which flstm speaks of them. `flstm eval` notes that
// such a perplexity is not comparable with a model of another vocabulary; the demo page
// refuses to train or validate a model on text with that much more <unk> than the model's own
// training text had (then there is little to learn but <unk>, and the loss says nothing).
import type { Vocabulary } from '../data/vocab.js';
import { formatCount } from './metrics.js';

/** The share of <unk> tokens above which flstm says that a text is not the vocabulary's. */
export const UNK_SHARE_LIMIT = 0.05;

/** A share as a percentage with one decimal: "31.1%". */
export const percent = (share: number): string => `${(100 * share).toFixed(1)}%`;

/** "31.1% of the tokens are words outside the model's 8-word vocabulary". */
export function outsideVocabulary(share: number, vocabSize: number, tokens = 'the tokens'): string {
  return `${percent(share)} of ${tokens} are words outside the model's ${formatCount(vocabSize)}-word vocabulary`;
}

/** The share of `ids` (a text in `vocab`) that are its unknown-word token. */
export function unkShare(ids: ArrayLike<number>, vocab: Vocabulary): number {
  return ids.length > 0 ? vocab.countUnk(ids) / ids.length : 0;
}

/**
 * The share of <unk> in the text the vocabulary was built from: its count of <unk> (the words
 * it left out, as the CLI and the page build vocabularies) over all its counts; 0 when it has
 * no counts (a vocabulary file without them).
 */
export function trainingUnkShare(vocab: Vocabulary): number {
  const total = vocab.counts.reduce((a, b) => a + b, 0);
  return total > 0 && vocab.unkId >= 0 ? vocab.counts[vocab.unkId] / total : 0;
}
