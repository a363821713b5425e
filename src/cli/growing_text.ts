// Text shown as it is generated: each word drawn is written as soon as it is, so a long
// generation (or a slow model) is never a silent wait. detokenize only appends as words are
// added, so what a call writes is what the text gained since the last call.
import { detokenize } from '../data/detokenize.js';

export interface GrowingText {
  /** Writes what the text of `words` adds to what was written. */
  show(words: readonly string[]): void;
  /** The whole text written so far. */
  readonly text: string;
}

export function growingText(write: (s: string) => void): GrowingText {
  let shown = '';
  return {
    show(words) {
      const text = detokenize(words);
      write(text.slice(shown.length));
      shown = text;
    },
    get text() {
      return shown;
    },
  };
}
