// The common shape of a corpus: a vocabulary and up to three splits, each either all of its
// token ids in memory (Brown, plain text) or a stream of sentences read from files as needed
// (One Billion Word).
import type { CorpusIdentity } from './identity.js';
import type { Vocabulary } from './vocab.js';

/** A split whose token ids are all in memory: one stream, in order. */
export interface ArraySplit {
  kind: 'array';
  name: string;
  tokens: Int32Array;
}

export interface SentenceStreamOptions {
  /** Shuffle the shard order with this seed (each pass a new order); default: sorted order. */
  shuffleSeed?: number;
  /** Start over at the end (forever, as training on LM1B does); default: one pass. */
  repeat?: boolean;
}

/** A split read from files line by line: each line a sentence, `<S> w1 .. wn <S>` as ids. */
export interface StreamSplit {
  kind: 'stream';
  name: string;
  /** The files, in the order one pass reads them (unless shuffled). */
  files: readonly string[];
  sentences(opts?: SentenceStreamOptions): AsyncIterable<Int32Array>;
}

export type Split = ArraySplit | StreamSplit;

export type SplitName = 'train' | 'valid' | 'test';

export interface Corpus {
  /** 'brown', 'lm1b' or 'text'. */
  name: string;
  /** The spec it was loaded from ('brown', 'lm1b:DIR', 'text:FILES'). */
  spec: string;
  vocab: Vocabulary;
  /** The sentence-boundary token: '<eos>' (text), '<S>' (lm1b); none for Brown (one running text). */
  boundary?: string;
  splits: { train: Split; valid?: Split; test?: Split };
  /** What identifies its files (text, lm1b; Brown is built in): a checkpoint records it. */
  identity?: CorpusIdentity;
}

export interface SplitStats {
  /**
   * Tokens the model predicts: the ids of an array split; for a stream split, the words plus
   * one `<S>` per sentence (each sentence `<S> w1 .. wn <S>` gives n + 1 targets).
   */
  tokens: number;
  /** How many of them are the unknown-word token. */
  unk: number;
  /** Stream splits: the number of sentences. */
  sentences?: number;
}
