// The grammar of a corpus spec: 'brown' | 'lm1b:DIR' | 'text:TRAIN[,VALID[,TEST]]'. Apart from
// the loaders, so that what identifies a corpus's files (identity.ts) can name a spec's paths.
import { CorpusSpecError } from './errors.js';

export const CORPUS_SPECS = 'brown, lm1b:DIR or text:TRAIN[,VALID[,TEST]]';

export type CorpusSpec = { kind: 'brown' } | { kind: 'lm1b'; dir: string } | { kind: 'text'; files: string[] };

/** Parses a corpus spec; one error names what is accepted. */
export function parseCorpusSpec(spec: string): CorpusSpec {
  const s = spec.trim();
  if (s === 'brown') return { kind: 'brown' };
  const m = /^(lm1b|text):(.*)$/.exec(s);
  if (!m) throw new CorpusSpecError(`unknown corpus '${spec}' (expected ${CORPUS_SPECS})`);
  if (m[1] === 'lm1b') {
    if (m[2].trim() === '') throw new CorpusSpecError(`corpus '${spec}': lm1b: needs a directory (lm1b:DIR)`);
    return { kind: 'lm1b', dir: m[2] };
  }
  const files = m[2].split(',');
  if (files.length > 3 || files.some((f) => f.trim() === '')) {
    throw new CorpusSpecError(`corpus '${spec}': text: takes 1 to 3 comma-separated files (text:TRAIN[,VALID[,TEST]])`);
  }
  return { kind: 'text', files };
}
