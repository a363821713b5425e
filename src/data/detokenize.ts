// Words as a person reads them: the inverse of the whitespace tokenization of the corpora
// (Brown's quotes and punctuation, text corpora's `<eos>`). Pure: the CLI and the page share it.
/** Sentence ends: text corpora's `<eos>` and One Billion Word's `<S>`. */
const LINE_BREAKS = new Set(['<eos>', '<S>', '</S>']);

/**
 * Words as text: `<eos>` (or `<S>`) becomes a line break, Brown's `` and '' become curly quotes, and
 * punctuation sticks to the word before it.
 */
export function detokenize(words: readonly string[]): string {
  let out = '';
  let open = false; // inside a `` '' quote: the next word sticks to the opening mark
  for (const w0 of words) {
    if (LINE_BREAKS.has(w0)) {
      if (out !== '') out = out.trimEnd() + '\n';
      continue;
    }
    let w = w0;
    if (w === '``') w = '\u201c';
    else if (w === "''") w = '\u201d';
    const stick = /^[.,;:!?%)\]}\u201d]$|^'s$|^n't$|^'(ll|re|ve|d|m)$/i.test(w);
    if (out !== '' && !out.endsWith('\n') && !stick && !open) out += ' ';
    out += w;
    open = w === '\u201c' || w === '(' || w === '$';
  }
  return out;
}
