// Batches for truncated BPTT with the state carried across batches: B independent token
// streams, T steps per batch, time-major ids (`inputs[t * B + b]`).
//
// Batcher (a split in memory, the classic PTB setup): the N tokens are cut into B contiguous
// streams of L = floor(N / B) tokens (the last N mod B tokens are not used); stream b is
// tokens[b*L .. (b+1)*L). Batch i holds positions i*T .. i*T + T' - 1 of every stream as
// inputs and the next tokens of the same stream as targets, so the last input of batch i in
// stream b is followed by the first input of batch i+1 in stream b. L - 1 positions have a
// target: batches per epoch = ceil((L - 1) / T), the last one shorter (T' < T) unless
// dropLast drops it.
//
// StreamBatcher (sentences streamed from files, One Billion Word, as the paper's code
// Dataset._iterate does): each of the B streams takes whole sentences `<S> w1 .. wn <S>` as
// it needs tokens; a sentence gives its ids but the last as inputs, its ids but the first
// as targets, and carries over to the next batch when it does not fit. When the sentences
// run out, the unfilled positions get id 0 and mask 0, and the batches end with the first
// batch that has no target at all.
import { DataError } from './errors.js';
import type { SentenceStreamOptions, Split } from './types.js';

export interface Batch {
  /** The batch's index in the epoch (0-based). */
  index: number;
  /** T' (= T except for a last, shorter batch). */
  steps: number;
  batchSize: number;
  /** [steps * batchSize], time-major: inputs[t * batchSize + b] is step t of stream b. */
  inputs: Int32Array;
  /** The next token of each input in the same stream, same layout. */
  targets: Int32Array;
  /** Stream batches only, and only when some positions are padding: 1 where a target is real. */
  mask?: Uint8Array;
}

export interface BatcherOptions {
  /** B: independent streams. */
  batchSize: number;
  /** T: steps per batch (BPTT length). */
  bptt: number;
  /** Drop the last batch when it is shorter than T (array splits; default false). */
  dropLast?: boolean;
}

function checkSizes(opts: BatcherOptions): void {
  for (const k of ['batchSize', 'bptt'] as const) {
    const v = opts[k];
    if (!Number.isSafeInteger(v) || v < 1) throw new DataError(`batcher: ${k} must be a positive integer, got ${v}`);
  }
}

/** Batches of a token stream in memory. Deterministic; batch(i) is random access. */
export class Batcher {
  readonly batchSize: number;
  readonly bptt: number;
  /** L: tokens per stream. */
  readonly streamLength: number;
  /** Batches per epoch. */
  readonly length: number;

  constructor(
    readonly tokens: Int32Array,
    opts: BatcherOptions,
  ) {
    checkSizes(opts);
    this.batchSize = opts.batchSize;
    this.bptt = opts.bptt;
    this.streamLength = Math.floor(tokens.length / opts.batchSize);
    if (this.streamLength < 2) {
      throw new DataError(`batcher: ${tokens.length} tokens are too few for ${opts.batchSize} streams (each needs at least 2 tokens)`);
    }
    const positions = this.streamLength - 1;
    this.length = opts.dropLast ? Math.floor(positions / opts.bptt) : Math.ceil(positions / opts.bptt);
    if (this.length === 0) {
      throw new DataError(
        `batcher: streams of ${this.streamLength} tokens (${tokens.length} tokens / ${opts.batchSize}) give no full batch of ${opts.bptt} steps with dropLast`,
      );
    }
  }

  /** Targets per epoch (the tokens an epoch predicts). */
  get targetsPerEpoch(): number {
    let n = 0;
    for (let i = 0; i < this.length; i++) n += this.stepsOf(i);
    return n * this.batchSize;
  }

  private stepsOf(i: number): number {
    return Math.min(this.bptt, this.streamLength - 1 - i * this.bptt);
  }

  batch(i: number): Batch {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new DataError(`batcher: batch ${i} is out of range [0, ${this.length})`);
    const B = this.batchSize;
    const L = this.streamLength;
    const steps = this.stepsOf(i);
    const inputs = new Int32Array(steps * B);
    const targets = new Int32Array(steps * B);
    const start = i * this.bptt;
    for (let b = 0; b < B; b++) {
      const base = b * L + start;
      for (let t = 0; t < steps; t++) {
        inputs[t * B + b] = this.tokens[base + t];
        targets[t * B + b] = this.tokens[base + t + 1];
      }
    }
    return { index: i, steps, batchSize: B, inputs, targets };
  }

  /** The batches of one epoch from batch `start` on (resume: start at the next batch to train). */
  *batches(start = 0): Generator<Batch> {
    if (!Number.isInteger(start) || start < 0 || start > this.length)
      throw new DataError(`batcher: start ${start} is out of range [0, ${this.length}]`);
    for (let i = start; i < this.length; i++) yield this.batch(i);
  }

  [Symbol.iterator](): Generator<Batch> {
    return this.batches();
  }
}

/** The sentences a StreamBatcher reads: called once per pass (batches()), so it must restart. */
export type SentenceSource = () => AsyncIterable<Int32Array>;

/** Batches of a sentence stream (LM1B), filled as the paper's code fills them. */
export class StreamBatcher {
  readonly batchSize: number;
  readonly bptt: number;

  constructor(
    private readonly source: SentenceSource,
    opts: Omit<BatcherOptions, 'dropLast'>,
  ) {
    checkSizes(opts);
    this.batchSize = opts.batchSize;
    this.bptt = opts.bptt;
  }

  /**
   * The batches from the start of the source; with `start` = k the first k are computed and
   * skipped (the stream has no random access), so resuming at k gives what an uninterrupted
   * run saw from batch k on.
   */
  async *batches(start = 0): AsyncGenerator<Batch> {
    if (!Number.isInteger(start) || start < 0) throw new DataError(`batcher: start ${start} must be a non-negative integer`);
    const B = this.batchSize;
    const T = this.bptt;
    const it = this.source()[Symbol.asyncIterator]();
    const cur: (Int32Array | undefined)[] = new Array(B).fill(undefined);
    const pos = new Int32Array(B);
    let done = false;
    try {
      for (let index = 0; ; index++) {
        const inputs = new Int32Array(T * B);
        const targets = new Int32Array(T * B);
        const mask = new Uint8Array(T * B);
        let maxFilled = 0;
        let filledAll = 0;
        for (let b = 0; b < B; b++) {
          let filled = 0;
          while (filled < T) {
            let s = cur[b];
            if (s === undefined || s.length - pos[b] <= 1) {
              if (done) break;
              const r = await it.next();
              if (r.done) {
                done = true;
                cur[b] = undefined;
                break;
              }
              s = cur[b] = r.value;
              pos[b] = 0;
              continue;
            }
            const n = Math.min(s.length - pos[b] - 1, T - filled);
            const p = pos[b];
            for (let k = 0; k < n; k++) {
              const o = (filled + k) * B + b;
              inputs[o] = s[p + k];
              targets[o] = s[p + k + 1];
              mask[o] = 1;
            }
            pos[b] = p + n;
            filled += n;
          }
          maxFilled = Math.max(maxFilled, filled);
          filledAll += filled;
        }
        if (maxFilled === 0) return;
        if (index < start) continue;
        const size = maxFilled * B;
        const batch: Batch = { index, steps: maxFilled, batchSize: B, inputs: inputs.slice(0, size), targets: targets.slice(0, size) };
        if (filledAll < size) batch.mask = mask.slice(0, size);
        yield batch;
      }
    } finally {
      await it.return?.();
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<Batch> {
    return this.batches();
  }
}

/**
 * The batch cut to its first `n` counted positions in time-major order (every stream's step t
 * before any stream's step t + 1; a padded position does not count), so that an evaluation of
 * N tokens scores exactly N: the steps after the last kept position are dropped and the rest of
 * its step is masked. A batch with `n` or fewer counted positions is returned as it is.
 */
export function firstPositions(batch: Batch, n: number): Batch {
  const size = batch.steps * batch.batchSize;
  const mask = new Uint8Array(size);
  let kept = 0;
  let end = 0;
  for (let i = 0; i < size; i++) {
    if (batch.mask && !batch.mask[i]) continue;
    if (kept === n) {
      const steps = Math.ceil(end / batch.batchSize);
      const cut = steps * batch.batchSize;
      return { ...batch, steps, inputs: batch.inputs.slice(0, cut), targets: batch.targets.slice(0, cut), mask: mask.slice(0, cut) };
    }
    mask[i] = 1;
    kept++;
    end = i + 1;
  }
  return batch;
}

export interface SplitBatcherOptions extends BatcherOptions, SentenceStreamOptions {}

/** The batcher of a split: a Batcher for an array split, a StreamBatcher for a stream split. */
export function makeBatcher(split: Split, opts: SplitBatcherOptions): Batcher | StreamBatcher {
  if (split.kind === 'array') return new Batcher(split.tokens, opts);
  const { shuffleSeed, repeat } = opts;
  return new StreamBatcher(() => split.sentences({ shuffleSeed, repeat }), opts);
}
