// Evaluation: full-softmax perplexity of a split, the state carried across batches, dropout
// off. Batches are read back in groups so the GPU is not drained after every batch.
import * as fl from '../index.js';
import { makeBatcher } from '../data/batcher.js';
import type { Split } from '../data/types.js';
import type { LanguageModel } from '../nn/lm.js';
import type { LSTMState } from '../nn/lstm.js';

export interface EvalResult {
  loss: number;
  ppl: number;
  tokens: number;
  seconds: number;
}

export interface EvalOptions {
  batchSize?: number;
  bptt?: number;
  /** Stop after this many tokens (a quick estimate); default: the whole split. */
  maxTokens?: number;
  onProgress?: (tokens: number, loss: number) => void;
}

export async function evaluate(model: LanguageModel, split: Split, o: EvalOptions = {}): Promise<EvalResult> {
  const t0 = performance.now();
  const wasTraining = model.training;
  model.eval();
  const B = o.batchSize ?? 32;
  const T = o.bptt ?? 20;
  const batcher = makeBatcher(split, { batchSize: B, bptt: T });
  let state: LSTMState[] | undefined;
  let total = 0;
  let tokens = 0;
  let pending: { loss: fl.Tensor; n: number }[] = [];
  const drain = async () => {
    for (const p of pending) {
      const v = (await p.loss.data())[0];
      total += v * p.n;
      tokens += p.n;
      p.loss.dispose();
    }
    pending = [];
    o.onProgress?.(tokens, total / Math.max(1, tokens));
  };
  try {
    for await (const batch of batcher.batches()) {
      const prev = state;
      // A padded stream batch (the sentences ran out) counts its real positions only.
      const r = model.evalLoss(batch.inputs, batch.targets, batch.steps, batch.batchSize, state, batch.mask);
      if (prev) for (const s of prev) { s.h.dispose(); s.c.dispose(); }
      state = r.state;
      if (r.count > 0) pending.push({ loss: r.loss, n: r.count });
      else r.loss.dispose();
      if (pending.length >= 16) await drain();
      if (o.maxTokens !== undefined && tokens + pending.reduce((a, p) => a + p.n, 0) >= o.maxTokens) break;
    }
    await drain();
  } finally {
    if (state) for (const s of state) { s.h.dispose(); s.c.dispose(); }
    model.train(wasTraining);
  }
  const loss = total / Math.max(1, tokens);
  return { loss, ppl: Math.exp(loss), tokens, seconds: (performance.now() - t0) / 1e3 };
}
