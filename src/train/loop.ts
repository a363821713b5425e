// The training loop that `flstm train` (train/trainer.ts) and the page (web/session.ts) share:
// the batches from a position on, around the split forever (a new pass starts from the zero
// state), each step seeded by its number, encoded in one tidy block with the loss summed on the
// GPU and the LSTM state carried into the next step, the host paced to stay near the GPU, and
// the loss read back at a cadence. What surrounds a step (progress lines, validation,
// checkpoints, the page's records) is the caller's, through hooks. Platform-free.
import { Tensor, tidy } from '../tensor.js';
import { add, scale } from '../ops/elementwise.js';
import { Batcher, makeBatcher, StreamBatcher, type Batch } from '../data/batcher.js';
import type { Split } from '../data/types.js';
import type { LanguageModel } from '../nn/lm.js';
import type { LSTMState } from '../nn/lstm.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { MovingAverage } from '../optim/moving_average.js';
import type { TrainConfig } from './config.js';
import { disposeState, stepOptions, stepSeed, trainStep } from './step.js';
import { StepPacer } from './pace.js';
import type { DataParallel } from '../distributed/data_parallel.js';
import { dataParallelStep } from '../distributed/step.js';

/** Where a run is in its data: the counters a checkpoint saves. */
export interface LoopPosition {
  step: number;
  epoch: number;
  /** The next batch of the epoch. */
  batchIndex: number;
}

/** When the loop reads the loss back, which waits for the GPU. */
export interface ReadbackCadence {
  /** Whether to read after `step`, with `pending` steps not yet read. */
  due(step: number, pending: number): boolean;
  /** The wall time per step measured at a readback. */
  measured?(msPerStep: number): void;
}

/** A readback at every multiple of `n` steps (the trainer's --log-every). */
export function everySteps(n: number): ReadbackCadence {
  return { due: (step) => step % n === 0 };
}

/** A readback about every `ms` milliseconds of wall time: every step when steps are slow, up to `maxSteps` when fast. */
export function aboutEvery(ms: number, maxSteps = 50): ReadbackCadence {
  let steps = 1;
  return {
    due: (_step, pending) => pending >= steps,
    measured: (msPerStep) => {
      steps = Math.max(1, Math.min(maxSteps, Math.round(ms / Math.max(msPerStep, 1e-3))));
    },
  };
}

/** The loss read back: the mean over the steps since the last reading, their words, and its wall time. */
export interface LossReading {
  mean: number;
  steps: number;
  words: number;
  /** Wall milliseconds since the last reading (or since run() began). */
  ms: number;
}

export interface LoopHooks {
  /** Why to stop before the next step; null: go on. */
  stopReason(): string | null;
  /** The step after which the loss is read back whatever the cadence (the run's last). */
  lastStep?: number;
  cadence: ReadbackCadence;
  /** Serializes a step's encoding with other GPU work (the page: generation, saving). */
  exclusive?<T>(fn: () => Promise<T>): Promise<T>;
  /** After the first step is encoded, given when its encoding began. */
  firstStep?(encodeStart: number): Promise<void>;
  /** A readback; a string stops the loop with that reason. */
  onLoss(r: LossReading): Promise<string | null>;
  /** After every step and its readback (validation, checkpoints); a string stops the loop. */
  afterStep?(): Promise<string | null>;
}

export class TrainingLoop {
  /** The LSTM state carried into the next step, per layer (undefined: zeros). */
  state: LSTMState[] | undefined;
  /** Words trained on by this loop. */
  totalWords = 0;
  private lossSum: Tensor | null = null;
  private pending = 0;
  private pendingWords = 0;
  private lastReading = performance.now();
  private readonly pacer = new StepPacer();
  private readonly batches: BatchSource;

  constructor(
    private readonly model: LanguageModel,
    private readonly opt: Optimizer,
    private readonly cfg: TrainConfig,
    split: Split,
    readonly pos: LoopPosition,
    state?: LSTMState[],
    private readonly average?: MovingAverage,
    /** Data-parallel training: this rank trains its streams of the ranks' global batch. */
    private readonly dp?: DataParallel,
  ) {
    this.state = state;
    this.batches = new BatchSource(split, cfg, pos, dp);
  }

  /** Steps until a hook says stop; returns its reason. */
  async run(h: LoopHooks): Promise<string> {
    const exclusive = h.exclusive ?? ((fn) => fn());
    this.model.train();
    this.lastReading = performance.now();
    for (let first = true; ; first = false) {
      const stop = h.stopReason();
      if (stop) return stop;
      const encodeStart = performance.now();
      await exclusive(async () => {
        const batch = await this.batches.next(() => this.resetState());
        if (this.dp) await this.stepDistributed(batch);
        else this.encode(batch);
        await this.pacer.stepEncoded();
      });
      if (first) await h.firstStep?.(encodeStart);
      const last = h.lastStep !== undefined && this.pos.step >= h.lastStep;
      if (last || h.cadence.due(this.pos.step, this.pending)) {
        const why = await exclusive(async () => {
          const r = (await this.takeLoss())!;
          h.cadence.measured?.(r.ms / r.steps);
          return h.onLoss(r);
        });
        if (why) return why;
      }
      const why = await h.afterStep?.();
      if (why) return why;
    }
  }

  /** Waits until every encoded step has run. */
  drain(): Promise<void> {
    return this.pacer.drain();
  }

  /** The steps whose loss is not yet read back. */
  get pendingSteps(): number {
    return this.pending;
  }

  /** The mean loss of the steps not yet read back, leaving them unread (null: none); over every rank's streams. */
  async pendingMean(): Promise<number | null> {
    if (!this.lossSum || this.pending === 0) return null;
    const mean = (await this.lossSum.data())[0] / this.pending;
    return this.dp ? this.dp.mean(mean) : mean;
  }

  /** Reads the loss back (waits for the GPU) and starts a new sum; null: no step since the last reading. */
  async takeLoss(): Promise<LossReading | null> {
    const mean = await this.pendingMean();
    if (mean === null) return null;
    const now = performance.now();
    const r = { mean, steps: this.pending, words: this.pendingWords, ms: now - this.lastReading };
    this.lastReading = now;
    this.dropLoss();
    return r;
  }

  /** Forgets the loss of the steps not yet read back. */
  dropLoss(): void {
    this.lossSum?.dispose();
    this.lossSum = null;
    this.pending = 0;
    this.pendingWords = 0;
  }

  /** A new pass over the streams starts from the zero state. */
  resetState(): void {
    disposeState(this.state);
    this.state = undefined;
  }

  /** Disposes the loss sum and the carried state (the model and optimizer are the caller's). */
  dispose(): void {
    this.dropLoss();
    this.resetState();
  }

  /** Encodes one training step: no host round trip. */
  private encode(b: Batch): void {
    if (b.mask) throw new Error('flstm: train: a padded batch (the training stream ran out of sentences)');
    const seed = stepSeed(this.cfg.seed, this.pos.step);
    this.carry(
      b,
      tidy(() => trainStep(this.model, this.opt, b, this.state, stepOptions(this.cfg, seed))),
    );
  }

  /** One data-parallel step: the gradients are combined over the ranks (a host round trip). */
  private async stepDistributed(b: Batch): Promise<void> {
    if (b.mask) throw new Error('flstm: train: a padded batch (the training stream ran out of sentences)');
    const seed = stepSeed(this.cfg.seed, this.pos.step);
    this.carry(b, await dataParallelStep(this.model, this.opt, b, this.state, stepOptions(this.cfg, seed), this.dp!));
  }

  /** After a step: the moving average, the loss sum, the carried state and the counters. */
  private carry(b: Batch, r: { loss: Tensor; state: LSTMState[] }): void {
    const prevState = this.state;
    tidy(() => {
      this.average?.update(this.pos.step + 1); // the step this update ends (pos.step counts those before it)
      const sum: Tensor = this.lossSum ? add(this.lossSum, r.loss) : scale(r.loss, 1);
      this.lossSum?.dispose();
      this.lossSum = sum.keep();
      this.state = r.state.map((s) => ({ h: s.h.keep(), c: s.c.keep() }));
    });
    r.loss.dispose();
    disposeState(prevState);
    this.pending++;
    this.pos.step++;
    this.pos.batchIndex = b.index + 1;
    this.pendingWords += b.inputs.length;
    this.totalWords += b.inputs.length;
  }
}

/**
 * The training batches from the position on, around the split forever: the array batcher is
 * random access (a resume jumps to batchIndex), a stream batcher re-reads and skips. At the
 * end of a pass the epoch advances and `onEpoch` resets the carried state.
 */
class BatchSource {
  private readonly batcher: Batcher | StreamBatcher;
  private it: Iterator<Batch> | AsyncIterator<Batch>;

  constructor(
    split: Split,
    cfg: TrainConfig,
    private readonly pos: LoopPosition,
    private readonly dp?: DataParallel,
  ) {
    // Data-parallel: the global batch's streams, each rank taking its own.
    this.batcher = makeBatcher(split, { batchSize: cfg.batch * (dp?.size ?? 1), bptt: cfg.bptt, repeat: true });
    this.it = this.from(pos.batchIndex);
  }

  private from(start: number): Iterator<Batch> | AsyncIterator<Batch> {
    // Past the end of an array split (the page's text replaced by a shorter one): a new pass.
    if (this.batcher instanceof Batcher) return this.batcher.batches(Math.min(start, this.batcher.length));
    return this.batcher.batches(start)[Symbol.asyncIterator]();
  }

  async next(onEpoch: () => void): Promise<Batch> {
    let n = await this.it.next();
    if (n.done) {
      this.pos.epoch++;
      this.pos.batchIndex = 0;
      onEpoch();
      this.it = this.from(0);
      n = await this.it.next();
      if (n.done) throw new Error('flstm: the training split gives no batch');
    }
    return this.dp ? this.dp.slice(n.value) : n.value;
  }
}
