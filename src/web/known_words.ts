// Whether a text is one a loaded model can go on training on: the words outside its
// vocabulary become <unk>, and on text that is mostly <unk> (a model of one text given
// another) the model learns little but <unk> and its loss and perplexity measure nothing.
// The limit is the one `flstm eval` warns at (train/unknown_words.ts), counted above the
// share of <unk> the model's own training text had, so a model whose vocabulary left rare
// words out still trains on its own text.
import { formatCount } from '../train/metrics.js';
import { outsideVocabulary, percent, trainingUnkShare, UNK_SHARE_LIMIT } from '../train/unknown_words.js';
import type { TextCorpus } from './text.js';

/** A text refused for its words outside the model's vocabulary. */
export class UnknownWordsError extends Error {
  constructor(
    message: string,
    /** The corpus the model was trained on (its config's `data`). */
    readonly trainedOn: string,
  ) {
    super(message);
    this.name = 'UnknownWordsError';
  }
}

/** The share of the corpus' tokens (training and held-out) that are <unk>. */
function corpusUnkShare(corpus: TextCorpus): number {
  return (corpus.vocab.countUnk(corpus.train) + corpus.vocab.countUnk(corpus.valid)) / corpus.tokens;
}

/**
 * Throws UnknownWordsError when more of the corpus' tokens are <unk> than UNK_SHARE_LIMIT
 * above the share in the text the model was trained on (`trainedOn`, its config's `data`).
 */
export function requireKnownWords(corpus: TextCorpus, trainedOn: string): void {
  const share = corpusUnkShare(corpus);
  const own = trainingUnkShare(corpus.vocab);
  const limit = own + UNK_SHARE_LIMIT;
  if (share <= limit) return;
  const tokens = `the ${formatCount(corpus.tokens)} tokens of ${corpus.source}`;
  throw new UnknownWordsError(
    `flstm: ${outsideVocabulary(share, corpus.vocab.size, tokens)}, against ${percent(own)} of the text it was trained on (${trainedOn}): ` +
      `on it the model would learn little but <unk>, and its loss would measure nothing. Give the text the model was trained on ` +
      `(text with up to ${percent(limit)} of its tokens outside the vocabulary is taken)`,
    trainedOn,
  );
}
