// Text generation: feed the prompt, then sample one word at a time from
// softmax(logits / temperature) with a seeded generator (temperature 0: the most likely word).
import type { LanguageModel } from '../nn/lm.js';
import type { LSTMState } from '../nn/lstm.js';
import type { Vocabulary } from '../data/vocab.js';
import { Rng } from '../random.js';

export interface GenerateOptions {
  tokens: number;
  temperature?: number;
  seed?: number;
}

export async function generate(model: LanguageModel, vocab: Vocabulary, prompt: string, o: GenerateOptions): Promise<{ prompt: string[]; words: string[] }> {
  if (!(Number.isInteger(o.tokens) && o.tokens >= 0)) throw new Error(`flstm: generate: tokens must be a non-negative integer, got ${o.tokens}`);
  const temperature = o.temperature ?? 1;
  if (!(temperature >= 0 && Number.isFinite(temperature))) throw new Error(`flstm: generate: temperature must be >= 0, got ${o.temperature}`);
  const rng = new Rng(o.seed ?? 1);
  const promptWords = prompt.split(/\s+/).filter(Boolean);
  const ids = promptWords.map((w) => vocab.get(w) ?? vocab.unkId);
  if (ids.some((id) => id < 0)) throw new Error('flstm: generate: the prompt has a word the vocabulary lacks and it has no <unk>');
  if (ids.length === 0) ids.push(vocab.unkId >= 0 ? vocab.unkId : 0);
  const wasTraining = model.training;
  model.eval();
  let state: LSTMState[] | undefined;
  const words: string[] = [];
  const dispose = (s?: LSTMState[]) => s?.forEach((x) => { x.h.dispose(); x.c.dispose(); });
  try {
    // The prompt in one sequence; its last logits give the first word.
    let r = model.logits(Int32Array.from(ids), ids.length, 1, state);
    state = r.state;
    let all = await r.logits.data();
    let row = all.subarray((ids.length - 1) * model.vocabSize);
    r.logits.dispose();
    for (let i = 0; i < o.tokens; i++) {
      const next = pick(row, temperature, rng, vocab.unkId);
      words.push(vocab.words[next]);
      const prev = state;
      r = model.logits(Int32Array.of(next), 1, 1, state);
      dispose(prev);
      state = r.state;
      all = await r.logits.data();
      row = all;
      r.logits.dispose();
    }
  } finally {
    dispose(state);
    model.train(wasTraining);
  }
  return { prompt: promptWords, words };
}

/** Samples an id from softmax(logits / T), never <unk> when another word is possible. */
function pick(logits: Float32Array | Int32Array, T: number, rng: Rng, unk: number): number {
  let best = -1;
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    if (i !== unk && logits[i] > max) {
      max = logits[i];
      best = i;
    }
  }
  if (T === 0 || best < 0) return Math.max(best, 0);
  let sum = 0;
  const p = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) {
    if (i === unk) continue;
    p[i] = Math.exp((logits[i] - max) / T);
    sum += p[i];
  }
  let u = rng.uniform() * sum;
  for (let i = 0; i < p.length; i++) {
    u -= p[i];
    if (u <= 0 && p[i] > 0) return i;
  }
  return best;
}
