// `flstm train`: a corpus, a language model, an optimizer, and around the shared training loop
// (train/loop.ts: batches, seeded steps, carried state, the loss read back every `logEvery`
// steps) progress lines, validation during training (the best checkpoint, a learning-rate
// decay on plateaus, early stopping), metrics, charts, checkpoints, resume. A resumed run
// continues the uninterrupted one exactly: the checkpoint holds the weights, the optimizer
// state, the carried LSTM state, the step and the validation schedule, and every random
// choice of a step (sampled-softmax candidates, dropout masks) is seeded by the step.
import { basename, join } from 'node:path';
import { writeFile, access, readdir, stat } from 'node:fs/promises';
import { info, releaseFreeBuffers } from '../engine.js';
import { loadCorpus, locateCorpus, parseCorpusSpec } from '../data/corpus.js';
import { corpusChanges, specMismatch } from '../data/identity.js';
import type { Corpus } from '../data/types.js';
import type { Vocabulary } from '../data/vocab.js';
import { LanguageModel } from '../nn/lm.js';
import type { LSTMState } from '../nn/lstm.js';
import type { Optimizer } from '../optim/optimizer.js';
import { checkpointBytes, CheckpointError, saveCheckpoint, type JsonValue, type SaveStep } from './checkpoint.js';
import { appendMetrics, readMetrics, rewindMetrics, formatProgress, type MetricsRecord } from './metrics.js';
import { writeChart } from './chart.js';
import { evaluate, type EvalResult } from './evaluate.js';
import { disposeState, makeMovingAverage, makeOptimizer, modelOptions } from './step.js';
import { finiteWeights, nonFiniteWeightsIn, streamedAverages, streamedModel, streamedOptimizer } from './streamed_state.js';
import type { MovingAverage } from '../optim/moving_average.js';
import { everySteps, TrainingLoop, type LoopPosition, type LossReading } from './loop.js';
import {
  CHANGEABLE_ON_RESUME,
  configDifferences,
  corpusOptions,
  type CheckpointConfig,
  type ScheduleState,
  type TrainConfig,
  type WeightsUsed,
} from './config.js';
import { checkpointFiles, modelFromCheckpoint, readLmCheckpoint } from './load.js';
import { fillAverages, fillOptimizer } from './streamed_load.js';
import { afterValidation, checkValidationConfig, initialSchedule } from './schedule.js';
import { noticeIfSlow } from './pace.js';
import type { MemoryPlan } from './memory_plan.js';
import { checkedMemoryPlan } from './plan_fit.js';
import { formatBytes } from './bytes.js';
import { acquireRunLock, LOCK_FILE, RunLockedError, type RunLock } from './run_lock.js';
import { makeFolders, plainCause } from './os_errors.js';
import { checkSplitsFitBatch } from './split_sizes.js';
import { checkSampled, sampledFor } from './sampled.js';
import { formatDuration } from './metrics.js';
import { faultHook, saveFaultsFromEnv, type SaveFaults } from './save_faults.js';
import { SOLO, type World } from '../distributed/world.js';
import { checkRanksAgree, ownStreams } from '../distributed/ranks.js';
import { allReducedBytes, DataParallel, type AllReducePrecision, type ExchangeStats } from '../distributed/data_parallel.js';
import type { Tensor } from '../tensor.js';

export interface RunLimits {
  /** Stop after this many steps in total (counting those before a resume). */
  steps?: number;
  /** Stop after this many seconds of training in this process (evaluation and saving excluded). */
  seconds?: number;
  /** Stop once the run has trained this many seconds in all (across resumes). */
  totalSeconds?: number;
}

export interface TrainOptions extends RunLimits {
  out: string;
  resume?: boolean;
  /** Start afresh in `out` even though it holds a checkpoint (it is replaced). Default: refuse. */
  overwrite?: boolean;
  /** Progress every this many steps (default DEFAULT_LOG_EVERY). */
  logEvery?: number;
  /** Checkpoint every this many steps and at the end (default DEFAULT_SAVE_EVERY). */
  saveEvery?: number;
  /** Tokens of the validation at the end (default: the config's validation tokens, else the whole split; 0: none). */
  evalTokens?: number;
  /** The best checkpoint's folder when the config validates during training (default `out`/best). */
  bestDir?: string;
  /** The first step may take this long before a 'compiling' event says why (default 1500 ms). */
  compileNoticeMs?: number;
  onLog?: (event: TrainEvent) => void;
  /** Set by a signal handler: the loop saves a checkpoint and stops. */
  stopRequested?: () => boolean;
  /**
   * The processes that train this model together (src/distributed/world.ts; default: this one
   * alone). Each trains its `batch` streams of the world's global batch; rank 0 alone writes
   * the run folder and logs.
   */
  world?: World;
  /** The precision a distributed run's dense gradients are all-reduced in (default f32; f16 halves the bytes). */
  allReduce?: AllReducePrecision;
  /**
   * A new run's `cfg.sampled` is a default, not the user's choice: a vocabulary of that many
   * words or fewer trains with the full softmax (the checkpoint stores 0). Default false: refused.
   */
  sampledIsDefault?: boolean;
}

/** 'sampled-softmax': the training loss is the sampled softmax's, lower than the model's full-softmax loss. */
/** Weights from which building the model, or reading its checkpoint, is said before the start line (it takes seconds). */
const LARGE_MODEL_BYTES = 64 * 2 ** 20;

/** A save that takes longer says how far it is this often. */
const SAVE_PROGRESS_EVERY_MS = 2000;

export type Objective = 'full-softmax' | 'sampled-softmax';

export type TrainEvent =
  | {
      type: 'start';
      world?: WorldEvent;
      step: number;
      params: number;
      rnnParams: number;
      vocab: number;
      trainTokens: number;
      trainUnk: number;
      adapter: string;
      resumed: boolean;
      precision: 'f32' | 'f16';
      objective: Objective;
      memory: MemoryPlan;
      sampled: number;
      defaultSampledUnfit?: number;
      corpusChanges?: string[];
    }
  | { type: 'compiling'; step: number; /** Set on the notices after the first: the seconds the step has taken so far. */ seconds?: number }
  | { type: 'compiled'; step: number; seconds: number }
  | {
      type: 'progress';
      step: number;
      loss: number;
      objective: Objective;
      ppl?: number;
      wordsPerSec: number;
      elapsed: number;
      lr: number;
      line: string;
      exchange?: ExchangeStats | null;
    }
  | { type: 'checkpoint'; step: number; dir: string; best: boolean }
  /** A long stretch before the start event (building a large model, reading a large checkpoint): what it is. */
  | { type: 'preparing'; step: number; what: string }
  /** A save under way: first with no `total`, then the bytes written (read from the GPU a piece at a time as they are), every few seconds. */
  | { type: 'saving'; step: number; dir: string; bytes: number; total?: number }
  | { type: 'eval-progress'; step: number; split: string; tokens: number; total?: number; elapsed: number; eta?: number; loss: number }
  | {
      type: 'eval';
      step: number;
      split: string;
      loss: number;
      ppl: number;
      tokens: number;
      unk: number;
      seconds: number;
      weights: WeightsUsed;
      best?: boolean;
    }
  | { type: 'lr'; step: number; lr: number; reason: string }
  | { type: 'stopped'; step: number; reason: string };

/** The processes of a distributed run (the start event's `world`): each rank's host and adapter. */
export interface WorldEvent {
  processes: number;
  /** --batch, per process, and the global batch it makes. */
  batch: number;
  globalBatch: number;
  launcher: string;
  ranks: { host: string; adapter: string }[];
  /** Bytes a step all-reduces: the LSTM weights' gradients and the softmax's (its sample rows with the sampled softmax). */
  denseBytes: number;
  /** The precision of the LSTM weights' gradients on the links. */
  allReduce: AllReducePrecision;
}

export interface TrainSummary {
  step: number;
  /** The last reported training loss (the sampled softmax's when `objective` says so). */
  trainLoss: number;
  objective: Objective;
  valid?: EvalResult;
  /** The weights validation ran on: the LSTM's moving averages (--ema) or the trained ones. */
  weights: WeightsUsed;
  /** The best validation so far and where its checkpoint is (when the config validates during training). */
  best?: { step: number; loss: number; ppl: number; dir: string };
  wordsPerSec: number;
  stopReason: string;
  /** Seconds of training in this process (evaluation and saving excluded), and of validation. */
  trainSeconds: number;
  evalSeconds: number;
  /** Seconds of training of the whole run (across resumes). */
  totalTrainSeconds: number;
  /** A resumed checkpoint already at the limit: nothing was trained, validated, recorded or saved. */
  upToDate?: true;
}

/** While the first step compiles, a notice this often (a log never waits long in silence). */
const COMPILE_NOTICE_EVERY_MS = 4000;

/** The default steps between progress lines and between checkpoints. */
export const DEFAULT_LOG_EVERY = 20;
export const DEFAULT_SAVE_EVERY = 500;

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

/**
 * Runs `fn`; a file-system error (os_errors.ts) becomes one message in plain words, `say(cause)`.
 * Errors that already say what happened (`passes`) and others go through as they are.
 */
async function inPlainWords<T>(
  fn: () => Promise<T>,
  say: (cause: string) => string,
  passes: (e: unknown) => boolean = () => false,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const cause = plainCause(e);
    if (!cause || passes(e)) throw e;
    throw new Error(say(cause), { cause: e });
  }
}

/** Runs `fn`, which writes `file`, in plain words. */
function writing<T>(file: string, fn: () => Promise<T>): Promise<T> {
  return inPlainWords(
    fn,
    (cause) => `flstm: could not write ${file}: ${cause}`,
    (e) => e instanceof CheckpointError,
  );
}

/** A run folder that is a file is said so (not as "no checkpoint" or mkdir's EEXIST). */
export async function checkNotFile(out: string): Promise<void> {
  const st = await stat(out).catch(() => null);
  if (st && !st.isDirectory())
    throw new Error(`flstm: the run folder ${out} (--out) is a file, not a folder: give a new folder or one that holds a run`);
}

/** Creates the run folder (and its parents); a failure in plain words. */
async function makeRunFolder(out: string): Promise<void> {
  await inPlainWords(
    () => makeFolders(out),
    (cause) => `flstm: could not create the run folder ${out} (--out): ${cause}`,
  );
}

/** Locks the run folder (run_lock.ts): another trainer in it is refused; a folder this user cannot write, said so. */
function lockRunFolder(out: string): Promise<RunLock> {
  return inPlainWords(
    () => acquireRunLock(out),
    (cause) => `flstm: could not write in the run folder ${out} (--out): ${cause} creating ${LOCK_FILE}`,
    (e) => e instanceof RunLockedError,
  );
}

/** Where a run is: its counters and the validation schedule (what a checkpoint restores). */
interface Position extends LoopPosition {
  /** Training seconds and other (evaluation, saving) seconds before this process. */
  seconds: number;
  otherSeconds: number;
  schedule: ScheduleState;
}

interface RunParts {
  /** The configuration the run trains with (a new run's default --sampled fitted to the vocabulary). */
  cfg: TrainConfig;
  /** The default --sampled that the vocabulary was too small for (the run takes the full softmax). */
  defaultSampledUnfit?: number;
  corpus: Corpus;
  model: LanguageModel;
  opt: Optimizer;
  state?: LSTMState[];
  position: Position;
  resumed: boolean;
  /** A resume's corpus files that changed since the checkpoint (it continues on them as they are). */
  corpusChanges?: string[];
  memory: MemoryPlan;
  average?: MovingAverage;
}

type ResumedCheckpoint = Awaited<ReturnType<typeof readLmCheckpoint>>;

/**
 * The checkpoint a run resumes from, with the options given checked against its own: its
 * model and optimizer files opened (their tensors are read into the model and the optimizer
 * a piece at a time), the rest read.
 */
async function readResumed(cfg: TrainConfig, ckDir: string, processes: number): Promise<ResumedCheckpoint> {
  const resumed = await readLmCheckpoint(ckDir);
  try {
    // --batch is per process: any number of processes may continue a run whose global batch they keep.
    checkGlobalBatch(resumed.config, cfg.batch, processes, ckDir);
    checkResumeOptions(resumed.config, cfg, ckDir);
  } catch (e) {
    await resumed.ck.close();
    throw e;
  }
  return resumed;
}

/** The fields a resume may not change (--batch is checked as the global batch); --data only by the corpus's record, when the checkpoint has one. */
function checkResumeOptions(saved: CheckpointConfig, cfg: TrainConfig, ckDir: string): void {
  const ignored = new Set([...CHANGEABLE_ON_RESUME, 'batch', ...(saved.corpus ? ['data'] : [])]);
  const diffs = configDifferences(saved.train, cfg, ignored);
  if (diffs.length) {
    const shape = diffs.some((d) =>
      ['--cell', '--layers', '--emb', '--hidden', '--proj', '--factor', '--groups'].includes(d.split(' ')[0]),
    );
    throw new Error(
      `flstm: --resume: the options differ from the checkpoint's (${ckDir}/config.json)${shape ? ' (the model differs)' : ''}: ${diffs.join('; ')}; resume with the same options`,
    );
  }
}

/**
 * The corpus a resumed run continues on, in the checkpoint's vocabulary (the ids the model was
 * trained with), and what changed in its files since the checkpoint. The run's --data is
 * looked for where the checkpoint recorded it first (locateCorpus). Its files may have been
 * edited where they are (text added: the run continues on them and says so); files at another
 * path must be the ones it read (sizes and hashes), else they are another corpus.
 */
async function resumedCorpus(
  saved: CheckpointConfig,
  cfg: TrainConfig,
  vocab: Vocabulary,
  ckDir: string,
): Promise<{ corpus: Corpus; changes: string[] }> {
  const was = saved.corpus;
  const spec = cfg.data === saved.train.data ? await locateCorpus(cfg.data, was) : cfg.data;
  const refuse = (why: string) =>
    new Error(
      `flstm: --resume: the corpus is not the one the run in ${ckDir} trained on: ${why}; give the files it read, wherever they are now, or start a new run`,
    );
  const mismatch = was && specMismatch(was, parseCorpusSpec(spec), spec);
  if (mismatch) throw refuse(mismatch);
  const corpus = await loadCorpus(spec, { vocab });
  const changes = was ? corpusChanges(was, corpus.identity) : [];
  const elsewhere = changes.filter((c) => !c.inPlace);
  if (elsewhere.length) throw refuse(elsewhere.map((c) => c.text).join('; '));
  return { corpus, changes: changes.map((c) => c.text) };
}

/** The same global batch (--batch times the processes) as the checkpoint's, or one message naming both. */
function checkGlobalBatch(saved: CheckpointConfig, batch: number, processes: number, ckDir: string): void {
  const savedProcesses = saved.world ?? 1;
  const global = saved.train.batch * savedProcesses;
  if (batch * processes === global) return;
  const of = (b: number, n: number) => (n === 1 ? `--batch ${b}` : `--batch ${b} on ${n} processes (a global batch of ${b * n})`);
  const fix = global % processes === 0 ? `give --batch ${global / processes}` : `use a number of processes that divides ${global}`;
  throw new Error(
    `flstm: --resume: the checkpoint in ${ckDir} trained with ${of(saved.train.batch, savedProcesses)}, this run has ${of(batch, processes)}: the global batch must stay ${global}; ${fix}`,
  );
}

/** A resumed run: the checkpoint's model, optimizer, state and counters; the corpus in its vocabulary. */
async function resumeParts(
  cfg: TrainConfig,
  ckDir: string,
  metricsFile: string,
  { ck, config: saved, vocab }: ResumedCheckpoint,
  world: World,
): Promise<RunParts> {
  const { corpus, changes: corpusChanges } = await resumedCorpus(saved, cfg, vocab, ckDir);
  checkSplitsFitBatch(corpus, cfg.batch * world.size);
  const memory = checkedMemoryPlan(cfg, saved.vocabSize);
  const { model, state: allStreams, averages } = await modelFromCheckpoint(ck, saved, cfg, ckDir);
  const state = ownStreams(allStreams, world, cfg.batch);
  const opt = makeOptimizer(cfg, model);
  const average = makeMovingAverage(cfg, model);
  try {
    if (!ck.optimizer)
      throw new Error(`flstm: --resume: the checkpoint in ${ckDir} has no optimizer state, so the run cannot continue exactly`);
    await fillOptimizer(model, opt, ck.optimizer, join(ckDir, ck.files.optimizer!));
    await fillAverages(average, averages, checkpointFiles(ck, ckDir).model, `the checkpoint in ${ckDir}`);
  } catch (e) {
    average?.dispose();
    opt.dispose();
    model.dispose();
    disposeState(state);
    throw e;
  }
  const schedule = saved.schedule ?? initialSchedule(saved.train.lr);
  schedule.kept ??= schedule.best;
  // A learning rate given on resume replaces the (possibly decayed) one in use.
  if (cfg.lr !== saved.train.lr) schedule.lr = cfg.lr;
  opt.lr = schedule.lr;
  if (world.rank === 0) await writing(metricsFile, () => rewindMetrics(metricsFile, saved.step));
  const position = {
    step: saved.step,
    epoch: saved.epoch,
    batchIndex: saved.batchIndex,
    seconds: saved.seconds ?? 0,
    otherSeconds: saved.otherSeconds ?? 0,
    schedule,
  };
  return { cfg, corpus, model, opt, state, position, resumed: true, corpusChanges, memory, average };
}

async function freshParts(
  given: TrainConfig,
  metricsFile: string,
  world: World,
  sampledIsDefault = false,
  say: (e: TrainEvent) => void = () => {},
): Promise<RunParts> {
  const corpus = await loadCorpus(given.data, corpusOptions(given));
  // Every split is checked now: a validation split too short for the (global) batch would fail at the end.
  checkSplitsFitBatch(corpus, given.batch * world.size);
  const cfg = { ...given, sampled: sampledFor(given.sampled, corpus.vocab.size, sampledIsDefault) };
  checkSampled(cfg.sampled, cfg.data, corpus.vocab.size);
  const memory = checkedMemoryPlan(cfg, corpus.vocab.size);
  if (memory.weights >= LARGE_MODEL_BYTES)
    say({ type: 'preparing', step: 0, what: `building the model: drawing ${formatBytes(memory.weights)} of weights` });
  const model = new LanguageModel(modelOptions(cfg, corpus.vocab.size));
  const opt = makeOptimizer(cfg, model);
  const average = makeMovingAverage(cfg, model);
  if (world.rank === 0) await writing(metricsFile, () => writeFile(metricsFile, ''));
  const unfit = cfg.sampled !== given.sampled ? given.sampled : undefined;
  return {
    cfg,
    defaultSampledUnfit: unfit,
    corpus,
    model,
    opt,
    average,
    position: { step: 0, epoch: 0, batchIndex: 0, seconds: 0, otherSeconds: 0, schedule: initialSchedule(cfg.lr) },
    resumed: false,
    memory,
  };
}

/**
 * Trains as `cfg` says until a limit of `o` (steps, seconds, a stop request, early stopping),
 * saving checkpoints in `o.out`/checkpoint; with `o.resume`, continues the run there. The
 * model and optimizer are disposed when it returns (load the checkpoint to use the model).
 * The run folder is locked while it trains (run_lock.ts: another train() in it is refused,
 * naming this one), and a file that cannot be written ends the run with a message in plain
 * words (os_errors.ts) that names the file and what is kept. Needs fl.init().
 */
export async function train(cfg: TrainConfig, o: TrainOptions): Promise<TrainSummary> {
  if (cfg.validation) checkValidationConfig(cfg.validation);
  const faults = saveFaultsFromEnv();
  const ckDir = join(o.out, 'checkpoint');
  await checkNotFile(o.out);
  const noCheckpoint = () => new Error(`flstm: --resume: no checkpoint in ${ckDir}`);
  // --resume of a folder that is not there creates none.
  if (o.resume && !(await exists(o.out))) throw noCheckpoint();
  // Rank 0 alone writes the run folder (the others read a checkpoint they resume from).
  const writer = (o.world?.rank ?? 0) === 0;
  if (writer) await makeRunFolder(o.out);
  // Taken before the metrics or the checkpoint are touched, so a run already here is not
  // disturbed; and before looking for the checkpoint, which a run here may not have saved yet.
  const lock = writer ? await lockRunFolder(o.out) : null;
  try {
    if (o.resume && !(await exists(join(ckDir, 'config.json')))) throw noCheckpoint();
    return await trainLocked(cfg, o, ckDir, faults);
  } finally {
    await lock?.release();
  }
}

/** Why a resumed run's checkpoint is already at `o`'s limit (step or total time), or null. */
function limitAlreadyReached(o: TrainOptions, step: number, seconds: number): string | null {
  if (o.steps !== undefined && step >= o.steps)
    return `at step ${step}, already ${step > o.steps ? 'past' : 'at'} --steps ${o.steps}: nothing to train, and nothing was changed (a larger --steps continues it)`;
  if (o.totalSeconds !== undefined && seconds >= o.totalSeconds)
    return `at ${formatDuration(seconds)} of training, already the ${formatDuration(o.totalSeconds)} asked for: nothing to train, and nothing was changed`;
  return null;
}

/**
 * A resumed run whose checkpoint is already at the limit: said so (a 'stopped' event), and the
 * checkpoint's summary, with nothing trained, validated, recorded or saved. Null: train on.
 */
function upToDate(o: TrainOptions, ckDir: string, saved: CheckpointConfig): TrainSummary | null {
  const seconds = saved.seconds ?? 0;
  const why = limitAlreadyReached(o, saved.step, seconds);
  if (!why) return null;
  o.onLog?.({ type: 'stopped', step: saved.step, reason: `the checkpoint in ${ckDir} is ${why}` });
  return {
    step: saved.step,
    trainLoss: NaN,
    objective: saved.train.sampled > 0 ? 'sampled-softmax' : 'full-softmax',
    wordsPerSec: 0,
    stopReason: o.steps !== undefined && saved.step >= o.steps ? 'steps' : 'time',
    trainSeconds: 0,
    evalSeconds: 0,
    totalTrainSeconds: seconds,
    upToDate: true,
    weights: saved.train.ema ? 'average' : 'trained',
  };
}

/** train() once the run folder is locked. */
async function trainLocked(cfg: TrainConfig, o: TrainOptions, ckDir: string, faults: SaveFaults | null): Promise<TrainSummary> {
  if (!o.resume && !o.overwrite && (await exists(join(ckDir, 'config.json')))) {
    // Starting afresh would truncate the metrics and replace the checkpoint of another run.
    throw new Error(
      `flstm: ${o.out} already holds a run (${ckDir}): --resume continues it; to start afresh give another --out, or delete that folder`,
    );
  }
  const metricsFile = join(o.out, 'metrics.jsonl');
  const world = o.world ?? SOLO;
  let parts: RunParts;
  // Rank 0 speaks for the run.
  const say = (world.rank === 0 && o.onLog) || (() => {});
  if (o.resume) {
    const bytes = await checkpointBytes(ckDir);
    if (bytes >= LARGE_MODEL_BYTES) say({ type: 'preparing', step: 0, what: `reading the checkpoint in ${ckDir} (${formatBytes(bytes)})` });
    const resumed = await readResumed(cfg, ckDir, world.size);
    try {
      const done = upToDate(o, ckDir, resumed.config);
      if (done) return done;
      parts = await resumeParts(cfg, ckDir, metricsFile, resumed, world);
    } finally {
      await resumed.ck.close();
    }
  } else parts = await freshParts(cfg, metricsFile, world, o.sampledIsDefault, say);
  checkRanksAgree(world, parts.cfg, parts.corpus);
  const run = new TrainingRun(parts.cfg, o, parts, ckDir, metricsFile, faults);
  try {
    return await run.loop();
  } finally {
    run.dispose();
    // The run's buffers would stay in the pool for reuse; what comes next (the CLI's sample,
    // another run) loads its own model, which at a large vocabulary is gigabytes more.
    await releaseFreeBuffers().catch(() => {});
  }
}

class TrainingRun {
  private readonly log: (e: TrainEvent) => void;
  private readonly corpus: Corpus;
  private readonly model: LanguageModel;
  private readonly opt: Optimizer;
  /** The moving average of the LSTM weights that validation uses (--ema), or none. */
  private readonly average?: MovingAverage;
  private readonly steps: TrainingLoop;
  private readonly pos: Position;
  private readonly objective: Objective;
  private readonly t0 = performance.now();
  /** Milliseconds of this process spent evaluating and saving (not training), and when the current such time began. */
  private otherMs = 0;
  private offSince: number | null = null;
  private trainMsAtReport = 0;
  private lastLoss = NaN;
  /** Why the run cannot go on, when a loss, gradient or weight became non-finite. */
  private nonFiniteWhy: string | null = null;
  private readonly startStep: number;
  private readonly resumed: boolean;
  private readonly corpusChanges: string[];
  private readonly memory: MemoryPlan;
  private readonly defaultSampledUnfit?: number;
  /** Milliseconds of this process spent validating. */
  private evalMs = 0;
  /** The step of the checkpoint in ckDir (null: none yet). */
  private savedStep: number | null;
  /** The step of the last validation (null: none in this process). */
  private validatedStep: number | null = null;
  private lastValid: EvalResult | undefined;
  private stopReason = 'steps';
  /** Saves begun by this process (the test hooks of save_faults.ts count them). */
  private saves = 0;
  /** The processes training together, the gradient exchange among them (none alone), and whether this one writes the run folder. */
  private readonly world: World;
  private readonly dp?: DataParallel;
  private readonly writer: boolean;

  constructor(
    private readonly cfg: TrainConfig,
    private readonly o: TrainOptions,
    parts: RunParts,
    private readonly ckDir: string,
    private readonly metricsFile: string,
    private readonly faults: SaveFaults | null = null,
  ) {
    this.world = o.world ?? SOLO;
    this.dp = this.world.size > 1 ? new DataParallel(this.world, o.allReduce) : undefined;
    this.writer = this.world.rank === 0;
    // Rank 0 speaks for the run; the others print nothing but errors.
    this.log = (this.writer && o.onLog) || (() => {});
    ({ corpus: this.corpus, model: this.model, opt: this.opt, position: this.pos, average: this.average } = parts);
    this.steps = new TrainingLoop(this.model, this.opt, cfg, this.corpus.splits.train, this.pos, parts.state, this.average, this.dp);
    this.objective = cfg.sampled > 0 ? 'sampled-softmax' : 'full-softmax';
    this.startStep = this.pos.step;
    this.resumed = parts.resumed;
    this.corpusChanges = parts.corpusChanges ?? [];
    this.memory = parts.memory;
    this.defaultSampledUnfit = parts.defaultSampledUnfit;
    this.savedStep = parts.resumed ? this.pos.step : null;
  }

  private announce(): void {
    const train = this.corpus.splits.train;
    this.log({
      type: 'start',
      step: this.pos.step,
      params: this.model.numParams(),
      rnnParams: this.model.rnn.numParams(),
      vocab: this.corpus.vocab.size,
      trainTokens: train.kind === 'array' ? train.tokens.length : NaN,
      trainUnk: train.kind === 'array' ? this.corpus.vocab.countUnk(train.tokens) : NaN,
      adapter: info().description,
      resumed: this.resumed,
      precision: this.model.precision,
      objective: this.objective,
      memory: this.memory,
      sampled: this.cfg.sampled,
      ...(this.defaultSampledUnfit !== undefined ? { defaultSampledUnfit: this.defaultSampledUnfit } : {}),
      ...(this.dp ? { world: this.worldEvent() } : {}),
      ...(this.corpusChanges.length ? { corpusChanges: this.corpusChanges } : {}),
    });
  }

  /** The processes of a distributed run and the adapter each holds (every rank takes part). */
  private worldEvent(): WorldEvent {
    const mine = new TextEncoder().encode(`${this.world.host}\n${info().description}`);
    const ranks = this.dp!.comm.gatherBytes(mine).map((b) => {
      const [host, adapter] = new TextDecoder().decode(b).split('\n');
      return { host, adapter };
    });
    // The softmax's rows: the samples' (the same ids on every rank), or the whole table with the full softmax.
    const denseBytes = allReducedBytes(this.cfg, this.corpus.vocab.size, this.dp!.precision);
    return {
      processes: this.world.size,
      batch: this.cfg.batch,
      globalBatch: this.cfg.batch * this.world.size,
      launcher: this.world.launcher ?? '',
      ranks,
      denseBytes,
      allReduce: this.dp!.precision,
    };
  }

  dispose(): void {
    this.steps.dispose();
    this.average?.dispose();
    this.model.dispose();
    this.opt.dispose();
  }

  /** Seconds of training in this process (the time off the clock so far, and now, left out). */
  private trainSeconds(): number {
    return (performance.now() - this.t0) / 1e3 - this.offSeconds();
  }

  /** Seconds of this process off the clock (evaluating, saving), the current stretch included. */
  private offSeconds(): number {
    return (this.otherMs + (this.offSince !== null ? performance.now() - this.offSince : 0)) / 1e3;
  }

  private totalTrainSeconds(): number {
    return this.pos.seconds + this.trainSeconds();
  }

  /** Runs `fn` on the clock of evaluation and saving, which --time does not count. */
  private async offTheClock<T>(fn: () => Promise<T>): Promise<T> {
    if (this.offSince !== null) return fn(); // already off (a best checkpoint saved by a validation)
    this.offSince = performance.now();
    try {
      return await fn();
    } finally {
      this.otherMs += performance.now() - this.offSince;
      this.offSince = null;
    }
  }

  /** This process's training seconds until a time limit, the sooner of --time and totalSeconds. */
  private timeLimit(): number | undefined {
    const limits = [this.o.seconds, this.o.totalSeconds !== undefined ? this.o.totalSeconds - this.pos.seconds : undefined].filter(
      (v): v is number => v !== undefined,
    );
    return limits.length ? Math.min(...limits) : undefined;
  }

  /** Why to stop before the next step, the same on every rank (a signal or the clock reaches them at different steps). */
  private limitReached(): string | null {
    const why = this.ownLimitReached();
    return this.dp ? this.dp.agreeOnStop(why, ['interrupted', 'time', 'steps']) : why;
  }

  private ownLimitReached(): 'steps' | 'time' | 'interrupted' | null {
    const o = this.o;
    if (o.steps !== undefined && this.pos.step >= o.steps) return 'steps';
    if (o.seconds !== undefined && this.trainSeconds() >= o.seconds) return 'time';
    if (o.totalSeconds !== undefined && this.totalTrainSeconds() >= o.totalSeconds) return 'time';
    if (o.stopRequested?.()) return 'interrupted';
    return null;
  }

  async loop(): Promise<TrainSummary> {
    this.announce();
    const saveEvery = this.o.saveEvery ?? DEFAULT_SAVE_EVERY;
    const every = this.cfg.validation?.every;
    this.stopReason = await this.steps.run({
      stopReason: () => this.limitReached(),
      lastStep: this.o.steps,
      cadence: everySteps(this.o.logEvery ?? DEFAULT_LOG_EVERY),
      firstStep: (encodeStart) => this.waitFirstStep(encodeStart),
      onLoss: (r) => this.report(r),
      afterStep: async () => {
        if (every !== undefined && this.pos.step % every === 0) {
          const outcome = await this.validate(this.cfg.validation!.tokens);
          if (outcome === 'early-stop') return 'early stop';
          if (outcome === 'non-finite') return 'non-finite loss';
        }
        return this.pos.step % saveEvery === 0 ? this.save() : null;
      },
    });
    return this.nonFiniteWhy ? this.stopNonFinite(this.nonFiniteWhy) : this.finish();
  }

  /** The first step of a model shape compiles its kernels (on a software driver, seconds): say so. */
  private async waitFirstStep(stepStart: number): Promise<void> {
    let noticed = false;
    const noticeMs = (this.o.compileNoticeMs ?? 1500) - (performance.now() - stepStart);
    await noticeIfSlow(
      this.steps.drain(),
      noticeMs,
      () => {
        this.log({ type: 'compiling', step: this.pos.step, ...(noticed ? { seconds: (performance.now() - stepStart) / 1e3 } : {}) });
        noticed = true;
      },
      COMPILE_NOTICE_EVERY_MS,
    );
    if (noticed) this.log({ type: 'compiled', step: this.pos.step, seconds: (performance.now() - stepStart) / 1e3 });
  }

  /**
   * Why the run cannot go on (a non-finite loss since the last report, a skipped non-finite
   * gradient), or null. Reads the GPU: called at reports and saves only. The weights are
   * checked by a save, each piece as it is read for the file (finiteWeights).
   */
  private async nonFinite(read?: LossReading): Promise<string | null> {
    const step = this.pos.step;
    const steps = read?.steps ?? this.steps.pendingSteps;
    const mean = read?.mean ?? (await this.steps.pendingMean());
    if (mean !== null && !Number.isFinite(mean))
      return `the training loss became ${mean} ${steps === 1 ? `at step ${step}` : `in steps ${step - steps + 1}..${step}`}`;
    const skipped = await this.opt.nonFiniteSteps();
    if (skipped > 0) return `a gradient became NaN or infinite by step ${step} (${skipped} step${skipped > 1 ? 's' : ''} skipped)`;
    return null;
  }

  /** Why the run stops on a non-finite value (kept for stopNonFinite), or null. */
  private stopsOn(why: string | null): string | null {
    if (why) this.nonFiniteWhy = why;
    return why && 'non-finite loss';
  }

  /** Logs the mean loss since the last report; stops the run when something became non-finite. */
  private async report(read: LossReading): Promise<string | null> {
    const mean = read.mean;
    const trainMs = this.trainSeconds() * 1e3;
    // Every rank trains as many words as this one.
    const wps = (read.words * this.world.size) / Math.max((trainMs - this.trainMsAtReport) / 1e3, 1e-9);
    if (this.stopsOn(await this.nonFinite(read))) return 'non-finite loss';
    this.trainMsAtReport = trainMs;
    this.lastLoss = mean;
    const step = this.pos.step;
    const elapsed = trainMs / 1e3;
    const lr = this.opt.lr;
    const full = this.objective === 'full-softmax';
    const rec: MetricsRecord = {
      step,
      time: this.totalTrainSeconds(),
      split: 'train',
      loss: mean,
      objective: this.objective,
      ...(full ? { ppl: Math.exp(mean) } : { samples: this.cfg.sampled }),
      wordsPerSec: wps,
      lr,
    };
    if (this.writer) await writing(this.metricsFile, () => appendMetrics(this.metricsFile, rec));
    const line = formatProgress({
      step,
      totalSteps: this.o.steps,
      startStep: this.startStep,
      timeLimit: this.timeLimit(),
      elapsed,
      loss: mean,
      wordsPerSec: wps,
      sampled: !full,
      lr: this.cfg.validation?.lrDecay !== undefined ? lr : undefined,
    });
    const exchange = this.dp ? { exchange: this.dp.takeStats() } : {};
    this.log({
      type: 'progress',
      step,
      loss: mean,
      objective: this.objective,
      ...(full ? { ppl: Math.exp(mean) } : {}),
      wordsPerSec: wps,
      elapsed,
      lr,
      line,
      ...exchange,
    });
    return null;
  }

  private checkpointConfig(): CheckpointConfig {
    return {
      format: 'flstm-lm/1',
      train: this.cfg,
      vocabSize: this.corpus.vocab.size,
      step: this.pos.step,
      epoch: this.pos.epoch,
      batchIndex: this.pos.batchIndex,
      stateLayers: this.steps.state?.length ?? 0,
      seconds: this.totalTrainSeconds(),
      otherSeconds: this.pos.otherSeconds + this.offSeconds(),
      schedule: this.pos.schedule,
      ...(this.world.size > 1 ? { world: this.world.size } : {}),
      ...(this.corpus.identity ? { corpus: this.corpus.identity } : {}),
    };
  }

  /**
   * Saves a checkpoint of the current step into `dir`; stops the run when something is
   * non-finite: the loss or a gradient before anything is written, a weight as the model file
   * is written (the save is then abandoned, the previous checkpoint kept).
   */
  private save(dir = this.ckDir): Promise<string | null> {
    return this.offTheClock(async () => {
      this.log({ type: 'saving', step: this.pos.step, dir, bytes: 0 });
      if (this.stopsAll(await this.nonFinite())) return 'non-finite loss';
      const state: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const [l, s] of (this.steps.state ?? []).entries()) {
        state[`state.${l}.h`] = await this.allStreams(s.h);
        state[`state.${l}.c`] = await this.allStreams(s.c);
      }
      // Every rank holds the same weights: rank 0 reads and writes them; all take part in the collectives.
      if (this.stopsAll(this.writer ? await this.writeCheckpoint(dir, state) : null)) return 'non-finite loss';
      const best = dir !== this.ckDir;
      if (!best) this.savedStep = this.pos.step;
      this.log({ type: 'checkpoint', step: this.pos.step, dir, best });
      await this.writeChart();
      return null;
    });
  }

  /** Whether every rank stops on `why` (this rank's; rank 0 speaks for the run): true keeps it for stopNonFinite. */
  private stopsAll(why: string | null): boolean {
    const stop = this.dp ? this.dp.any(why !== null) : why !== null;
    return stop && this.stopsOn(why ?? 'the weights became NaN or infinite (rank 0 says which)') !== null;
  }

  /**
   * Writes the checkpoint with its tensors streamed from the GPU a piece at a time
   * (streamed_state.ts), the weights checked piece by piece; why they are non-finite when a
   * piece of them is (the save is abandoned: the previous checkpoint stays), else null.
   */
  private async writeCheckpoint(dir: string, state: Record<string, { shape: number[]; data: Float32Array }>): Promise<string | null> {
    const model = {
      ...streamedModel(this.model, finiteWeights(this.pos.step)),
      ...(this.average ? streamedAverages(this.average) : {}),
      ...state,
    };
    try {
      await this.saveFiles(dir, {
        model,
        optimizer: await streamedOptimizer(this.model, this.opt),
        config: this.checkpointConfig() as unknown as JsonValue,
        vocab: this.corpus.vocab.toText(),
      });
      return null;
    } catch (e) {
      const why = nonFiniteWeightsIn(e);
      if (why === null) throw e;
      return why;
    }
  }

  /** A carried state tensor [B, n] of this rank's streams, as the checkpoint holds it: every stream's [world x B, n]. */
  private async allStreams(t: Tensor): Promise<{ shape: number[]; data: Float32Array }> {
    const data = this.dp ? await this.dp.gatherStreams(t) : ((await t.data()) as Float32Array);
    return { shape: [data.length / t.shape[1], t.shape[1]], data };
  }

  /** saveCheckpoint with the test hooks, if any; a failed write becomes one message in plain words. */
  private async saveFiles(dir: string, ckpt: Parameters<typeof saveCheckpoint>[1]): Promise<void> {
    const hook = this.faults ? faultHook(this.faults, ++this.saves) : null;
    let file: string | undefined;
    const beforeStep = async (s: SaveStep) => {
      file = s.file;
      await hook?.(s);
    };
    let said = performance.now();
    const onBytes = (bytes: number, total: number) => {
      if (performance.now() - said < SAVE_PROGRESS_EVERY_MS && bytes < total) return;
      said = performance.now();
      this.log({ type: 'saving', step: this.pos.step, dir, bytes, total });
    };
    await inPlainWords(
      () => saveCheckpoint(dir, ckpt, { beforeStep, onBytes }),
      (cause) => {
        const what = file ? `writing ${basename(file)}` : 'creating the folder';
        const kept =
          dir !== this.ckDir
            ? 'the best checkpoint there before, if any, is kept'
            : this.savedStep !== null
              ? `the previous checkpoint (step ${this.savedStep}) is kept, and train --resume continues from it`
              : 'no checkpoint had been saved yet';
        return `flstm: could not save the checkpoint in ${dir}: ${cause} ${what}; ${kept}`;
      },
    );
  }

  private async writeChart(): Promise<void> {
    if (!this.writer) return;
    const chart = join(this.o.out, 'chart.svg');
    await writing(chart, async () =>
      writeChart(chart, await readMetrics(this.metricsFile), { title: `${this.cfg.model.cell} on ${this.cfg.data}` }),
    );
  }

  private bestDir(): string {
    return this.o.bestDir ?? join(this.o.out, 'best');
  }

  /**
   * Validates on `tokens` tokens (all: undefined) and records the result; the lowest loss
   * measured is kept as the best checkpoint. A validation of the cadence also applies the
   * schedule: a plateau may decay the learning rate or stop the run. The final validation of a
   * run (`final`) changes no decision (its loss is not the schedule's best), so that a run
   * stopped and resumed decides as the uninterrupted one. Returns 'early-stop', 'interrupted',
   * 'non-finite' (a best checkpoint found a non-finite value) or 'done'.
   */
  private validate(tokens: number | undefined, final = false): Promise<'early-stop' | 'interrupted' | 'non-finite' | 'done'> {
    return this.offTheClock(async () => {
      const split = this.corpus.splits.valid;
      if (!split) return 'done';
      const step = this.pos.step;
      const t = performance.now();
      // On the global batch's streams, each rank its own (the figure is one process's with --batch N·B).
      const evaluated = () =>
        evaluate(this.model, split, {
          batchSize: this.cfg.batch * this.world.size,
          bptt: this.cfg.bptt,
          maxTokens: tokens,
          unkId: this.corpus.vocab.unkId,
          shouldStop: this.o.stopRequested,
          onProgress: (p) => this.log({ type: 'eval-progress', step, split: 'valid', ...p }),
          ...(this.dp ? { shared: this.dp.sharedEvaluation() } : {}),
        });
      const r = this.average ? await this.average.withAverages(evaluated) : await evaluated();
      this.evalMs += performance.now() - t;
      if (r.interrupted) return 'interrupted';
      this.validatedStep = step;
      this.lastValid = r;
      const rec: MetricsRecord = {
        step,
        time: this.totalTrainSeconds(),
        split: 'valid',
        loss: r.loss,
        ppl: r.ppl,
        tokens: r.tokens,
        lr: this.opt.lr,
        ...(final ? { final } : {}),
      };
      if (this.writer) await writing(this.metricsFile, () => appendMetrics(this.metricsFile, rec));
      const v = this.cfg.validation;
      const outcome = v && !final ? afterValidation(this.pos.schedule, r.loss, step, v) : null;
      if (outcome) this.pos.schedule = outcome.state;
      const kept = this.pos.schedule.kept;
      const isBest = !!v && Number.isFinite(r.loss) && (!kept || r.loss < kept.loss);
      if (isBest) this.pos.schedule = { ...this.pos.schedule, kept: { loss: r.loss, step } };
      this.log({
        type: 'eval',
        step,
        split: 'valid',
        loss: r.loss,
        ppl: r.ppl,
        tokens: r.tokens,
        unk: r.unk,
        seconds: r.seconds,
        weights: this.weightsUsed(),
        ...(v ? { best: isBest } : {}),
      });
      if (isBest) {
        if (await this.save(this.bestDir())) return 'non-finite';
      } else await this.writeChart();
      if (!outcome) return 'done';
      if (outcome.lrDecayed) {
        this.opt.lr = outcome.state.lr;
        this.log({
          type: 'lr',
          step,
          lr: outcome.state.lr,
          reason: `validation perplexity ${r.ppl.toFixed(2)} did not improve on the best (${Math.exp(outcome.state.best!.loss).toFixed(2)} at step ${outcome.state.best!.step})`,
        });
      }
      if (outcome.stop) {
        this.log({
          type: 'stopped',
          step,
          reason: `early stop at step ${step}: no improvement in ${v!.patience} validation${v!.patience! > 1 ? 's' : ''} (best perplexity ${Math.exp(this.pos.schedule.kept!.loss).toFixed(2)} at step ${this.pos.schedule.kept!.step}, kept in ${this.bestDir()})`,
        });
        return 'early-stop';
      }
      return 'done';
    });
  }

  private stopNonFinite(why: string): TrainSummary {
    this.stopReason = 'non-finite loss';
    const kept =
      this.savedStep !== null
        ? `The last good checkpoint (step ${this.savedStep}) is kept in ${this.ckDir}.`
        : 'No checkpoint was saved before it.';
    this.log({ type: 'stopped', step: this.pos.step, reason: `${why}; stopped. ${kept}` });
    this.steps.dropLoss();
    return this.summary();
  }

  /**
   * The end of the loop: the last loss, the last checkpoint, then the final validation. The
   * checkpoint comes first, so that nothing after training (a validation that fails or is
   * killed) can lose the trained weights; a validation that ran is saved into it again (the
   * best it kept, the time it took), so a resume decides as the uninterrupted run would.
   */
  private async finish(): Promise<TrainSummary> {
    const pending = await this.steps.pendingMean(); // waits for the GPU
    if (pending !== null && Number.isFinite(pending)) this.lastLoss = pending;
    if (this.savedStep !== this.pos.step && (await this.save())) return this.stopNonFinite(this.nonFiniteWhy!);
    if ((await this.finalValidation()) && (await this.save())) return this.stopNonFinite(this.nonFiniteWhy!);
    this.steps.dropLoss();
    if (this.stopReason === 'interrupted')
      this.log({ type: 'stopped', step: this.pos.step, reason: `interrupted at step ${this.pos.step}: checkpoint saved in ${this.ckDir}` });
    return this.summary();
  }

  /** The validation at the end of a run, unless it was interrupted, turned off or done at this step; true when one was recorded. */
  private async finalValidation(): Promise<boolean> {
    const tokens = this.o.evalTokens ?? this.cfg.validation?.tokens;
    if (this.stopReason === 'interrupted' || tokens === 0 || this.validatedStep === this.pos.step) return false;
    if ((await this.validate(tokens, true)) !== 'interrupted') return true;
    this.stopReason = 'interrupted';
    return false;
  }

  /** What validation runs on: the averages when the run keeps them. */
  private weightsUsed(): WeightsUsed {
    return this.average ? 'average' : 'trained';
  }

  private summary(): TrainSummary {
    const trainSeconds = this.trainSeconds();
    const b = this.pos.schedule.kept;
    return {
      step: this.pos.step,
      trainLoss: this.lastLoss,
      objective: this.objective,
      valid: this.lastValid,
      weights: this.weightsUsed(),
      ...(this.cfg.validation && b ? { best: { step: b.step, loss: b.loss, ppl: Math.exp(b.loss), dir: this.bestDir() } } : {}),
      wordsPerSec: (this.steps.totalWords * this.world.size) / Math.max(trainSeconds, 1e-9),
      stopReason: this.stopReason,
      trainSeconds,
      evalSeconds: this.evalMs / 1e3,
      totalTrainSeconds: this.totalTrainSeconds(),
    };
  }
}
