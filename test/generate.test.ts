// Sampling one word (temperature, top-k, top-p) against the distribution it should draw
// from, computed here in float64; and text as a person reads it.
import { describe, expect, it } from 'vitest';
import { sampleWord } from '../src/train/generate.js';
import { detokenize } from '../src/data/detokenize.js';
import { Rng } from '../src/random.js';

/** The probabilities sampleWord should draw with, by the definition of each option. */
function expected(logits: number[], T: number, topK: number | undefined, topP: number, unk: number): number[] {
  const ids = logits
    .map((_, i) => i)
    .filter((i) => i !== unk)
    .sort((a, b) => logits[b]! - logits[a]! || a - b);
  const kept = ids.slice(0, topK ?? ids.length);
  const w = kept.map((i) => Math.exp(logits[i]! / T));
  const total = w.reduce((a, b) => a + b, 0);
  let n = kept.length;
  let mass = 0;
  for (let j = 0; j < kept.length; j++) {
    mass += w[j]! / total;
    if (mass >= topP) {
      n = j + 1;
      break;
    }
  }
  const p = new Array(logits.length).fill(0);
  const z = w.slice(0, n).reduce((a, b) => a + b, 0);
  for (let j = 0; j < n; j++) p[kept[j]!] = w[j]! / z;
  return p;
}

describe('sampleWord', () => {
  const logits = [0.5, 2.0, -1.0, 1.5, 0.0, 3.0, 1.0];
  const cases: [string, number, number | undefined, number, number][] = [
    ['temperature 1', 1, undefined, 1, -1],
    ['temperature 0.5, <unk> (id 5) never drawn', 0.5, undefined, 1, 5],
    ['top-k 3', 1, 3, 1, -1],
    ['top-p 0.8', 1, undefined, 0.8, -1],
    ['top-k 4 then top-p 0.6, temperature 2', 2, 4, 0.6, 0],
  ];
  for (const [name, T, k, p, unk] of cases) {
    it(`draws with the right frequencies: ${name}`, () => {
      const want = expected(logits, T, k, p, unk);
      const rng = new Rng(11);
      const n = 40_000;
      const counts = new Array(logits.length).fill(0);
      for (let i = 0; i < n; i++) counts[sampleWord(logits, { temperature: T, topK: k, topP: p, unk }, rng)]++;
      for (let i = 0; i < logits.length; i++) {
        if (want[i] === 0) expect(counts[i], `id ${i} is outside the kept set`).toBe(0);
        // Within 5 standard deviations of a binomial count.
        else expect(Math.abs(counts[i] / n - want[i]), `id ${i}`).toBeLessThan(5 * Math.sqrt((want[i] * (1 - want[i])) / n) + 1e-9);
      }
    });
  }

  it('temperature 0, top-k 1 and a tiny top-p are the most likely word other than <unk>', () => {
    const rng = new Rng(1);
    expect(sampleWord(logits, { temperature: 0, topP: 1, unk: -1 }, rng)).toBe(5);
    expect(sampleWord(logits, { temperature: 0, topP: 1, unk: 5 }, rng)).toBe(1);
    expect(sampleWord(logits, { temperature: 1, topK: 1, topP: 1, unk: 5 }, rng)).toBe(1);
    expect(sampleWord(logits, { temperature: 1, topP: 1e-6, unk: -1 }, rng)).toBe(5);
  });
});

describe('detokenize', () => {
  it('joins punctuation to its word, turns quotes curly and sentence tokens into line breaks', () => {
    expect(detokenize(['The', 'jury', 'said', ',', '``', 'it', "didn't", "''", '.', '<eos>', 'It', 'was', '(', 'late', ')', '.'])).toBe(
      "The jury said, \u201cit didn't\u201d.\nIt was (late).",
    );
    expect(detokenize(['<S>', 'A', 'b', '<S>', 'C'])).toBe('A b\nC');
  });
});
