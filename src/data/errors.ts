// Errors of fl.data: one message that names the value and what was expected.

/** A corpus, vocabulary or batching problem (missing or empty file, no `<unk>`, bad sizes). */
export class DataError extends Error {
  constructor(message: string) {
    super(message.startsWith('flstm') ? message : `flstm: ${message}`);
    this.name = 'DataError';
  }
}

/** A corpus spec that is not 'brown', 'lm1b:DIR' or 'text:FILES' (a usage error in the CLI). */
export class CorpusSpecError extends DataError {
  constructor(message: string) {
    super(message);
    this.name = 'CorpusSpecError';
  }
}
