// Evaluation: full-softmax perplexity of a split, the state carried across batches, dropout
// off. A token limit scores exactly that many targets (the last batch is cut to its first
// positions). Batches are read back in groups of about a second of work, so the GPU is not
// drained after every batch and progress comes every second or so; each group reports progress
// (tokens done, the total when it is known, an estimate of the time left).
import { Tensor } from '../tensor.js';
import { releaseFreeBuffers } from '../engine.js';
import { Batcher, firstPositions, makeBatcher, type Batch } from '../data/batcher.js';
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
  /** Score exactly the first this many target tokens (a quick estimate); default: the whole split. */
  maxTokens?: number;
  onProgress?: (p: EvalProgress) => void;
  /** Checked between batches: true ends the evaluation early (the result says `interrupted`). */
  shouldStop?: () => boolean;
  /** The unknown-word token's id, counted in `unk` (default: none counted). */
  unkId?: number;
  /**
   * Evaluation shared by the processes of a distributed run: `batchSize` is the global batch,
   * each process scores its streams of every batch (`slice`), and `sum` adds the processes'
   * figures ([loss sum, tokens, unk, interrupted]) so that every one returns the whole result.
   */
  shared?: { processes: number; slice(b: Batch): Batch; sum(figures: Float64Array): void };
}

/** The tokens an evaluation of `batcher` scores, when they are known in advance. */
function plannedTokens(batcher: ReturnType<typeof makeBatcher>, maxTokens?: number): number | undefined {
  const all = batcher instanceof Batcher ? batcher.batchSize * (batcher.streamLength - 1) : undefined;
  if (maxTokens === undefined) return all;
  return all === undefined ? maxTokens : Math.min(all, maxTokens);
}

/** Seconds of work between read-backs, and the most batches read back at once. */
const GROUP_SECONDS = 1;
const MAX_GROUP = 16;

/** Batches in the next group, from the seconds per batch of the last one (its first: one batch, which compiles the kernels). */
function nextGroupSize(secondsPerBatch: number): number {
  return Math.max(1, Math.min(MAX_GROUP, Math.round(GROUP_SECONDS / Math.max(secondsPerBatch, 1e-6))));
}

function countUnk(targets: Int32Array, unkId: number | undefined, mask?: Uint8Array): number {
  if (unkId === undefined || unkId < 0) return 0;
  let n = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i] === unkId && (!mask || mask[i])) n++;
  return n;
}

/** The batches' losses, read back in groups of about GROUP_SECONDS of work; each group reports progress. */
class LossReader {
  sum = 0;
  tokens = 0;
  private pending: { loss: Tensor; n: number }[] = [];
  private groupSize = 1;
  private groupStart = performance.now();

  constructor(
    private readonly t0: number,
    private readonly total: number | undefined,
    private readonly onProgress?: (p: EvalProgress) => void,
    /** Processes scoring the same number of tokens as this one (progress counts theirs too). */
    private readonly processes = 1,
  ) {}

  /** A batch's mean loss over its `n` counted positions; reads the group back when it is full. */
  async add(loss: Tensor, n: number): Promise<void> {
    if (n > 0) this.pending.push({ loss, n });
    else loss.dispose();
    if (this.pending.length >= this.groupSize) await this.drain();
  }

  async drain(): Promise<void> {
    const batches = this.pending.length;
    for (const p of this.pending) {
      this.sum += (await p.loss.data())[0] * p.n;
      this.tokens += p.n;
      p.loss.dispose();
    }
    this.pending = [];
    const now = performance.now();
    if (batches > 0) this.groupSize = nextGroupSize((now - this.groupStart) / 1e3 / batches);
    this.groupStart = now;
    const elapsed = (now - this.t0) / 1e3;
    const done = Math.min(this.tokens * this.processes, this.total ?? Infinity);
    const eta = this.total !== undefined && done > 0 ? (elapsed / done) * Math.max(0, this.total - done) : undefined;
    this.onProgress?.({ tokens: done, total: this.total, elapsed, eta, loss: this.sum / Math.max(1, this.tokens) });
  }

  dispose(): void {
    for (const p of this.pending) p.loss.dispose();
    this.pending = [];
  }
}

const disposeState = (state?: LSTMState[]) =>
  state?.forEach((s) => {
    s.h.dispose();
    s.c.dispose();
  });

export async function evaluate(model: LanguageModel, split: Split, o: EvalOptions = {}): Promise<EvalResult> {
  const t0 = performance.now();
  const wasTraining = model.training;
  model.eval();
  const batcher = makeBatcher(split, { batchSize: o.batchSize ?? 32, bptt: o.bptt ?? 20 });
  const losses = new LossReader(t0, plannedTokens(batcher, o.maxTokens), o.onProgress, o.shared?.processes);
  let state: LSTMState[] | undefined;
  let counted = 0;
  let unk = 0;
  let interrupted = false;
  try {
    for await (const whole of batcher.batches()) {
      if (o.shouldStop?.()) {
        interrupted = true;
        break;
      }
      // A limit that ends inside this batch scores its first positions only: exactly maxTokens in all.
      const limited = o.maxTokens === undefined ? whole : firstPositions(whole, o.maxTokens - counted);
      const batch = o.shared ? o.shared.slice(limited) : limited;
      // A large vocabulary's batch is scored a few steps at a time (the state carried between
      // them: the same losses), so that progress comes every few seconds, not once a minute.
      let scored = 0;
      for (const part of timeChunks(batch, Math.max(1, Math.floor(model.logitRowsPerBlock() / batch.batchSize)))) {
        const prev = state;
        // A masked batch (padding where the sentences ran out, or past the limit) counts its kept positions only.
        const r = model.evalLoss(part.inputs, part.targets, part.steps, part.batchSize, state, part.mask);
        disposeState(prev);
        state = r.state;
        scored += r.count;
        unk += countUnk(part.targets, o.unkId, part.mask);
        await losses.add(r.loss, r.count);
      }
      counted += o.shared ? keptPositions(limited) : scored;
      if (o.maxTokens !== undefined && counted >= o.maxTokens) break;
    }
    await losses.drain();
  } finally {
    losses.dispose();
    disposeState(state);
    model.train(wasTraining);
  }
  // Blocks of logits are sized for evaluation only: training and the next validation would
  // otherwise keep them (gigabytes at a large vocabulary) in the pool.
  await releaseFreeBuffers();
  const figures = Float64Array.of(losses.sum, losses.tokens, unk, interrupted ? 1 : 0);
  o.shared?.sum(figures);
  const [sum, tokens, unks, stopped] = figures;
  const loss = sum / Math.max(1, tokens);
  return {
    loss,
    ppl: Math.exp(loss),
    tokens,
    unk: unks,
    seconds: (performance.now() - t0) / 1e3,
    ...(stopped ? { interrupted: true } : {}),
  };
}

/** `b` cut into batches of at most `steps` steps each, in order (the batch itself when it has no more). */
function timeChunks(b: Batch, steps: number): Batch[] {
  if (b.steps <= steps) return [b];
  const out: Batch[] = [];
  for (let t = 0; t < b.steps; t += steps) {
    const n = Math.min(steps, b.steps - t);
    const rows = <A extends Int32Array | Uint8Array>(a: A) => a.subarray(t * b.batchSize, (t + n) * b.batchSize) as A;
    out.push({
      index: b.index,
      steps: n,
      batchSize: b.batchSize,
      inputs: rows(b.inputs),
      targets: rows(b.targets),
      ...(b.mask ? { mask: rows(b.mask) } : {}),
    });
  }
  return out;
}

/** The positions a batch scores: all, or those its mask keeps. */
function keptPositions(b: Batch): number {
  return b.mask ? b.mask.reduce((n, m) => n + m, 0) : b.steps * b.batchSize;
}
