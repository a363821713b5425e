// Evaluation: full-softmax perplexity of a split, the state carried across batches, dropout
// off. Batches are read back in groups so the GPU is not drained after every batch; each group
// reports progress (tokens done, the total when it is known, an estimate of the time left).
import { Tensor } from '../tensor.js';
import { releaseFreeBuffers } from '../engine.js';
import { Batcher, makeBatcher } from '../data/batcher.js';
import type { Split } from '../data/types.js';
import type { LanguageModel } from '../nn/lm.js';
import type { LSTMState } from '../nn/lstm.js';

export interface EvalResult {
  loss: number;
  ppl: number;
  tokens: number;
  /** Targets that are the unknown-word token (each counts as one word of the vocabulary). */
  unk: number;
  seconds: number;
  /** Stopped by `shouldStop` before the end: the figures cover part of the split. */
  interrupted?: boolean;
}

export interface EvalProgress {
  tokens: number;
  /** Tokens the evaluation will cover, when known (an array split, or maxTokens). */
  total?: number;
  /** Seconds so far, and the estimated seconds left when the total is known. */
  elapsed: number;
  eta?: number;
  /** Mean loss so far. */
  loss: number;
}

export interface EvalOptions {
  batchSize?: number;
  bptt?: number;
  /** Stop after this many tokens (a quick estimate); default: the whole split. */
  maxTokens?: number;
  onProgress?: (p: EvalProgress) => void;
  /** Checked between batches: true ends the evaluation early (the result says `interrupted`). */
  shouldStop?: () => boolean;
  /** The unknown-word token's id, counted in `unk` (default: none counted). */
  unkId?: number;
}

/**
 * The tokens an evaluation of `batcher` covers, when they are known in advance. It reads whole
 * batches, so a maxTokens that ends inside one covers that batch too.
 */
function plannedTokens(batcher: ReturnType<typeof makeBatcher>, maxTokens?: number): number | undefined {
  const all = batcher instanceof Batcher ? batcher.batchSize * (batcher.streamLength - 1) : undefined;
  if (maxTokens === undefined) return all;
  const perBatch = batcher.batchSize * batcher.bptt;
  const whole = Math.ceil(maxTokens / perBatch) * perBatch;
  return all === undefined ? whole : Math.min(all, whole);
}

function countUnk(targets: Int32Array, unkId: number | undefined, mask?: Uint8Array): number {
  if (unkId === undefined || unkId < 0) return 0;
  let n = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i] === unkId && (!mask || mask[i])) n++;
  return n;
}

export async function evaluate(model: LanguageModel, split: Split, o: EvalOptions = {}): Promise<EvalResult> {
  const t0 = performance.now();
  const wasTraining = model.training;
  model.eval();
  const batcher = makeBatcher(split, { batchSize: o.batchSize ?? 32, bptt: o.bptt ?? 20 });
  const total = plannedTokens(batcher, o.maxTokens);
  let state: LSTMState[] | undefined;
  let sum = 0;
  let tokens = 0;
  let unk = 0;
  let interrupted = false;
  let pending: { loss: Tensor; n: number }[] = [];
  const drain = async () => {
    for (const p of pending) {
      sum += (await p.loss.data())[0] * p.n;
      tokens += p.n;
      p.loss.dispose();
    }
    pending = [];
    const elapsed = (performance.now() - t0) / 1e3;
    const eta = total !== undefined && tokens > 0 ? (elapsed / tokens) * Math.max(0, total - tokens) : undefined;
    o.onProgress?.({ tokens, total, elapsed, eta, loss: sum / Math.max(1, tokens) });
  };
  try {
    for await (const batch of batcher.batches()) {
      if (o.shouldStop?.()) { interrupted = true; break; }
      const prev = state;
      // A padded stream batch (the sentences ran out) counts its real positions only.
      const r = model.evalLoss(batch.inputs, batch.targets, batch.steps, batch.batchSize, state, batch.mask);
      if (prev) for (const s of prev) { s.h.dispose(); s.c.dispose(); }
      state = r.state;
      unk += countUnk(batch.targets, o.unkId, batch.mask);
      if (r.count > 0) pending.push({ loss: r.loss, n: r.count });
      else r.loss.dispose();
      if (pending.length >= 16) await drain();
      if (o.maxTokens !== undefined && tokens + pending.reduce((a, p) => a + p.n, 0) >= o.maxTokens) break;
    }
    await drain();
  } finally {
    for (const p of pending) p.loss.dispose();
    if (state) for (const s of state) { s.h.dispose(); s.c.dispose(); }
    model.train(wasTraining);
  }
  // Blocks of logits are sized for evaluation only: training and the next validation would
  // otherwise keep them (gigabytes at a large vocabulary) in the pool.
  await releaseFreeBuffers();
  const loss = sum / Math.max(1, tokens);
  return { loss, ppl: Math.exp(loss), tokens, unk, seconds: (performance.now() - t0) / 1e3, ...(interrupted ? { interrupted } : {}) };
}
