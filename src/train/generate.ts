// Text generation: feed the prompt, then sample one word at a time from the model's
// distribution, reshaped by temperature, top-k and top-p (nucleus) truncation, with a seeded
// generator (temperature 0: the most likely word). The unknown-word token is never sampled
// while another word is possible.
import type { LanguageModel } from '../nn/lm.js';
import type { LSTMState } from '../nn/lstm.js';
import type { Vocabulary } from '../data/vocab.js';
import { Rng } from '../random.js';

export interface GenerateOptions {
  tokens: number;
  /** Softmax temperature (default 1; 0: the most likely word each time). */
  temperature?: number;
  /** Sample among the k most likely words only (default: all). */
  topK?: number;
  /** Sample among the most likely words whose probabilities sum to at least p (default 1: all). */
  topP?: number;
  seed?: number;
  /** Called once the prompt is read (no words yet), then after each word is drawn: the text so far, to show as it grows. */
  onWord?: (g: Generated) => void;
}

export interface Generated {
  /** The prompt's words, as given. */
  prompt: string[];
  /** The generated words. */
  words: string[];
  /** Prompt words the vocabulary lacks: the model read them as its unknown-word token. */
  unknown: string[];
}

function checkOptions(o: GenerateOptions): void {
  if (!(Number.isInteger(o.tokens) && o.tokens >= 0))
    throw new Error(`flstm: generate: tokens must be a non-negative integer, got ${o.tokens}`);
  const t = o.temperature ?? 1;
  if (!(t >= 0 && Number.isFinite(t))) throw new Error(`flstm: generate: temperature must be a number >= 0, got ${o.temperature}`);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 1))
    throw new Error(`flstm: generate: topK must be a positive integer, got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1))
    throw new Error(`flstm: generate: topP must be a number in (0, 1], got ${o.topP}`);
}

/** The prompt as ids (unknown words as the unknown-word token) and the words it lacks. */
function encodePrompt(vocab: Vocabulary, prompt: string): { words: string[]; ids: number[]; unknown: string[] } {
  const words = prompt.split(/\s+/).filter(Boolean);
  const unknown = words.filter((w) => !vocab.has(w));
  if (unknown.length && vocab.unkId < 0) {
    throw new Error(
      `flstm: generate: the vocabulary lacks the prompt word${unknown.length > 1 ? 's' : ''} ${unknown.map((w) => JSON.stringify(w)).join(', ')} and has no unknown-word token`,
    );
  }
  const ids = words.map((w) => vocab.get(w) ?? vocab.unkId);
  if (ids.length === 0) ids.push(vocab.unkId >= 0 ? vocab.unkId : 0);
  return { words, ids, unknown };
}

export async function generate(model: LanguageModel, vocab: Vocabulary, prompt: string, o: GenerateOptions): Promise<Generated> {
  checkOptions(o);
  const sampler = { temperature: o.temperature ?? 1, topK: o.topK, topP: o.topP ?? 1, unk: vocab.unkId };
  const rng = new Rng(o.seed ?? 1);
  const p = encodePrompt(vocab, prompt);
  const wasTraining = model.training;
  model.eval();
  let state: LSTMState[] | undefined;
  const words: string[] = [];
  const dispose = (s?: LSTMState[]) =>
    s?.forEach((x) => {
      x.h.dispose();
      x.c.dispose();
    });
  try {
    // The prompt in one sequence; its last logits give the first word.
    let r = model.logits(Int32Array.from(p.ids), p.ids.length, 1, state);
    state = r.state;
    let row = (await r.logits.data()).subarray((p.ids.length - 1) * model.vocabSize) as Float32Array;
    r.logits.dispose();
    o.onWord?.({ prompt: p.words, words, unknown: p.unknown });
    for (let i = 0; i < o.tokens; i++) {
      const next = sampleWord(row, sampler, rng);
      words.push(vocab.words[next]);
      o.onWord?.({ prompt: p.words, words, unknown: p.unknown });
      const prev = state;
      r = model.logits(Int32Array.of(next), 1, 1, state);
      dispose(prev);
      state = r.state;
      row = (await r.logits.data()) as Float32Array;
      r.logits.dispose();
    }
  } finally {
    dispose(state);
    model.train(wasTraining);
  }
  return { prompt: p.words, words, unknown: p.unknown };
}

export interface Sampler {
  temperature: number;
  topK?: number;
  /** 1: no nucleus truncation. */
  topP: number;
  /** The unknown-word token's id (never drawn while another word is possible), or -1. */
  unk: number;
}

/**
 * Draws an id from softmax(logits / T) restricted to the top-k ids and then to the smallest
 * set of most likely ids whose probability reaches top-p. T = 0 is the argmax.
 */
export function sampleWord(logits: ArrayLike<number>, s: Sampler, rng: Rng): number {
  const ids: number[] = [];
  for (let i = 0; i < logits.length; i++) if (i !== s.unk) ids.push(i);
  if (ids.length === 0) return Math.max(s.unk, 0);
  ids.sort((a, b) => logits[b] - logits[a] || a - b);
  if (s.temperature === 0) return ids[0];
  const kept = ids.slice(0, Math.min(ids.length, s.topK ?? ids.length));
  const max = logits[kept[0]];
  const weights = kept.map((i) => Math.exp((logits[i] - max) / s.temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  // Nucleus: the shortest prefix (most likely first) whose share of the mass reaches topP.
  let n = kept.length;
  if (s.topP < 1) {
    let mass = 0;
    for (let j = 0; j < kept.length; j++) {
      mass += weights[j] / total;
      if (mass >= s.topP) {
        n = j + 1;
        break;
      }
    }
  }
  const nucleus = weights.slice(0, n).reduce((a, b) => a + b, 0);
  let u = rng.uniform() * nucleus;
  for (let j = 0; j < n; j++) {
    u -= weights[j];
    if (u <= 0) return kept[j];
  }
  return kept[n - 1];
}
