// fl.data: vocabularies, the Brown corpus, the One Billion Word format, plain text, batchers.
export { DataError, CorpusSpecError } from './errors.js';
export { Vocabulary, UNK_TOKENS, countWords } from './vocab.js';
export type { VocabBuildOptions, VocabOptions } from './vocab.js';
export type { Corpus, Split, ArraySplit, StreamSplit, SplitName, SplitStats, SentenceStreamOptions } from './types.js';
export { loadCorpus, parseCorpusSpec, locateCorpus, splitStats, corpusStats, splitChunks, CORPUS_SPECS } from './corpus.js';
export { corpusChanges, specMismatch } from './identity.js';
export type { CorpusChange, CorpusIdentity, FileIdentity } from './identity.js';
export type { LoadCorpusOptions, CorpusSpec } from './corpus.js';
export { loadBrown, stripTags, brownDirectory, brownFileNames, BROWN_TRAIN_TOKENS, BROWN_VALID_TOKENS, BROWN_MIN_COUNT } from './brown.js';
export type { BrownOptions } from './brown.js';
export {
  loadLm1b,
  lm1bSentence,
  sentenceSplit,
  LM1B_VOCAB_FILE,
  LM1B_TRAIN_DIR,
  LM1B_TRAIN_PREFIX,
  LM1B_HELDOUT_DIR,
  LM1B_HELDOUT_FILE,
  LM1B_VALID_FILE,
  LM1B_SENTENCE,
} from './lm1b.js';
export {
  writeSyntheticLm1b,
  writeSyntheticLm1bShard,
  resolveSyntheticOptions,
  syntheticWord,
  lm1bTrainShardName,
  lm1bHeldoutShardName,
  LM1B_VOCAB_SIZE,
  LM1B_TRAIN_SHARDS,
  LM1B_HELDOUT_SHARDS,
  LM1B_RESERVED,
} from './lm1b_synthetic.js';
export type { SyntheticLm1bOptions, SyntheticLm1bInfo, SyntheticShardInfo, SyntheticSplit } from './lm1b_synthetic.js';
export { loadText, EOS, TEXT_UNK } from './text.js';
export { detokenize } from './detokenize.js';
export type { TextOptions } from './text.js';
export { Batcher, StreamBatcher, makeBatcher } from './batcher.js';
export type { Batch, BatcherOptions, SplitBatcherOptions, SentenceSource } from './batcher.js';
