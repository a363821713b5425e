// The training loop: a corpus, a language model, an optimizer; progress, metrics, charts,
// checkpoints, resume. One step is encoded without any host round trip: the loss is summed
// on the GPU and read back every `logEvery` steps, the gradient norm and clipping live in
// the optimizer's GPU buffers. A resumed run continues the uninterrupted one exactly: the
// checkpoint holds the weights, the optimizer state, the carried LSTM state and the step,
// and every random choice of a step (sampled-softmax candidates, dropout masks) is seeded
// by the step number.
import { join } from 'node:path';
import { mkdir, writeFile, access } from 'node:fs/promises';
import * as fl from '../index.js';
import { loadCorpus } from '../data/corpus.js';
import { Batcher, makeBatcher, StreamBatcher } from '../data/batcher.js';
import type { Batch } from '../data/batcher.js';
import type { Corpus } from '../data/types.js';
import { Vocabulary } from '../data/vocab.js';
import { LanguageModel } from '../nn/lm.js';
import type { LSTMState } from '../nn/lstm.js';
import type { Optimizer } from '../optim/optimizer.js';
import { saveCheckpoint, loadCheckpoint, checkCompatible, type JsonValue } from './checkpoint.js';
import { appendMetrics, readMetrics, rewindMetrics, formatProgress, type MetricsRecord } from './metrics.js';
import { writeChart } from './chart.js';
import { evaluate, type EvalResult } from './evaluate.js';
import { disposeState, loadedModelOptions, makeOptimizer, modelOptions, stepSeed, trainStep } from './step.js';

export { makeOptimizer, modelOptions, stepSeed, trainStep } from './step.js';
export type { StepBatch } from './step.js';

export interface ModelConfig {
  cell: 'lstm' | 'flstm' | 'glstm';
  layers: number;
  emb: number;
  hidden: number;
  proj: number;
  factor?: number;
  groups?: number | number[];
  dropout: number;
  /** 'f16': the matmuls read f16 copies of the weight matrices and their inputs (absent: f32). */
  precision?: 'f32' | 'f16';
}

export interface TrainConfig {
  data: string;
  model: ModelConfig;
  batch: number;
  bptt: number;
  optimizer: 'adagrad' | 'adam' | 'sgd';
  lr: number;
  /** Global-norm clip of the LSTM weights (0: none). */
  clip: number;
  /** Sampled-softmax samples (0: full softmax). */
  sampled: number;
  seed: number;
  maxVocab?: number;
  minCount?: number;
  /** text corpora: a vocabulary file (`word count` per line, with `<unk>` and `<eos>`). */
  vocabFile?: string;
}

export interface RunLimits {
  /** Stop after this many steps in total (counting those before a resume). */
  steps?: number;
  /** Stop after this many seconds of this process. */
  seconds?: number;
}

export interface TrainOptions extends RunLimits {
  out: string;
  resume?: boolean;
  /** Start afresh in `out` even though it holds a checkpoint (it is replaced). Default: refuse. */
  overwrite?: boolean;
  logEvery?: number;
  /** Checkpoint every this many steps (and at the end). */
  saveEvery?: number;
  /** Validation tokens evaluated at the end (default: the whole split; 0: none). */
  evalTokens?: number;
  onLog?: (event: TrainEvent) => void;
  /** Set by a signal handler: the loop saves a checkpoint and stops. */
  stopRequested?: () => boolean;
}

export type TrainEvent =
  | { type: 'start'; step: number; params: number; rnnParams: number; vocab: number; trainTokens: number; adapter: string; resumed: boolean; precision: 'f32' | 'f16' }
  | { type: 'progress'; step: number; loss: number; ppl: number; wordsPerSec: number; elapsed: number; line: string }
  | { type: 'checkpoint'; step: number; dir: string }
  | { type: 'eval'; step: number; split: string; loss: number; ppl: number; tokens: number }
  | { type: 'stopped'; step: number; reason: string };

export interface TrainSummary {
  step: number;
  trainLoss: number;
  valid?: EvalResult;
  wordsPerSec: number;
  stopReason: string;
}

/** What config.json of a checkpoint holds. */
export interface CheckpointConfig {
  format: 'flstm-lm/1';
  train: TrainConfig;
  vocabSize: number;
  step: number;
  epoch: number;
  batchIndex: number;
  /** Shapes of the carried state tensors, stored in the model file under state.* names. */
  stateLayers: number;
  /** Seconds of training up to this checkpoint (across resumes). */
  seconds?: number;
}

/** The loadCorpus options of a training configuration. */
export function corpusOptions(c: TrainConfig): { maxVocab?: number; minCount?: number; vocabFile?: string } {
  return { maxVocab: c.maxVocab, minCount: c.minCount, vocabFile: c.vocabFile };
}

/** A checkpoint to resume from must hold the optimizer's state (a resumed run continues it). */
function requireOptimizerState(ck: RawCheckpoint, dir: string): NonNullable<RawCheckpoint['optimizer']> {
  if (!ck.optimizer) throw new Error(`flstm: --resume: the checkpoint in ${dir} has no optimizer state, so the run cannot continue exactly`);
  return ck.optimizer;
}

/** Sampled softmax needs fewer samples than words: one message that says what to do. */
function checkSampled(cfg: TrainConfig, vocabSize: number): void {
  if (cfg.sampled > 0 && cfg.sampled >= vocabSize) {
    throw new Error(`flstm: --sampled ${cfg.sampled} needs a vocabulary of more than ${cfg.sampled} words; ${cfg.data} has ${vocabSize}: use fewer samples or --sampled 0 (the full softmax)`);
  }
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(() => true, () => false);
}

export interface LoadedModel {
  model: LanguageModel;
  config: CheckpointConfig;
  vocab: Vocabulary;
  state?: LSTMState[];
  optimizerState?: Awaited<ReturnType<typeof loadCheckpoint>>['optimizer'];
}

type RawCheckpoint = Awaited<ReturnType<typeof loadCheckpoint<CheckpointConfig>>>;

async function readLmCheckpoint(dir: string): Promise<{ ck: RawCheckpoint; config: CheckpointConfig; vocab: Vocabulary }> {
  const ck = await loadCheckpoint<CheckpointConfig>(dir);
  const config = ck.config;
  if (!config || config.format !== 'flstm-lm/1') throw new Error(`flstm: ${dir} is not an flstm language-model checkpoint (config.json format ${JSON.stringify(config?.format)})`);
  if (ck.vocab === undefined) throw new Error(`flstm: checkpoint ${dir} has no vocabulary file`);
  const vocab = Vocabulary.parse(ck.vocab, { source: `${dir} vocabulary` });
  if (vocab.size !== config.vocabSize) throw new Error(`flstm: checkpoint ${dir}: vocabulary has ${vocab.size} words, config says ${config.vocabSize}`);
  return { ck, config, vocab };
}

/**
 * A model of `train`'s shape holding the checkpoint's weights, and its carried state. The
 * weights are checked first: a checkpoint of another shape is one message naming the tensor
 * and both shapes.
 */
function modelFromCheckpoint(ck: RawCheckpoint, config: CheckpointConfig, train: TrainConfig, dir: string, loadOnly = false): { model: LanguageModel; state?: LSTMState[] } {
  const weights: typeof ck.model = {};
  const stateEntries: typeof ck.model = {};
  for (const [k, v] of Object.entries(ck.model)) (k.startsWith('state.') ? stateEntries : weights)[k] = v;
  const model = new LanguageModel((loadOnly ? loadedModelOptions : modelOptions)(train, config.vocabSize));
  try {
    const expected: Record<string, { shape: number[] }> = {};
    for (const [name, t] of model.parameters()) expected[name] = { shape: [...t.shape] };
    checkCompatible(weights, expected, `the checkpoint in ${dir}`);
    // The trainer never saves a non-finite weight or state: one here means the file was damaged.
    for (const [name, e] of Object.entries(ck.model)) {
      const bad = e.data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new Error(`flstm: the checkpoint in ${dir} is corrupt: '${name}' holds ${e.data[bad]} at index ${bad}`);
    }
    model.loadStateDict(weights);
  } catch (e) {
    model.dispose();
    throw e;
  }
  let state: LSTMState[] | undefined;
  if (config.stateLayers > 0) {
    state = [];
    for (let l = 0; l < config.stateLayers; l++) {
      const h = stateEntries[`state.${l}.h`];
      const c = stateEntries[`state.${l}.c`];
      if (!h || !c) {
        disposeState(state);
        model.dispose();
        throw new Error(`flstm: checkpoint ${dir}: the carried state of layer ${l} is missing`);
      }
      state.push({ h: fl.tensor(h.data, h.shape).keep(), c: fl.tensor(c.data, c.shape).keep() });
    }
  }
  return { model, state };
}

/** Loads a checkpoint's model (weights, vocabulary, carried state). Needs fl.init(). */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const { ck, config, vocab } = await readLmCheckpoint(dir);
  const { model, state } = modelFromCheckpoint(ck, config, config.train, dir, true);
  return { model, config, vocab, state, optimizerState: ck.optimizer };
}

const OPTION_NAMES: Record<string, string> = {
  data: '--data', batch: '--batch', bptt: '--bptt', optimizer: '--optimizer', lr: '--lr', clip: '--clip', sampled: '--sampled',
  seed: '--seed', maxVocab: '--vocab-size', minCount: '--min-count', vocabFile: '--vocab', 'model.cell': '--cell',
  'model.layers': '--layers', 'model.emb': '--emb', 'model.hidden': '--hidden', 'model.proj': '--proj',
  'model.factor': '--factor', 'model.groups': '--groups', 'model.dropout': '--dropout', 'model.precision': '--precision',
};

/** The options that differ between two configurations, as "--lr 0.2 (checkpoint) vs 0.5 (now)". */
export function configDifferences(saved: TrainConfig, now: TrainConfig): string[] {
  const flat = (c: TrainConfig): Map<string, string> => {
    const m = new Map<string, string>();
    for (const [k, v] of Object.entries(c)) {
      if (k === 'model' && v && typeof v === 'object') for (const [mk, mv] of Object.entries(v)) m.set(`model.${mk}`, JSON.stringify(mv));
      else m.set(k, JSON.stringify(v));
    }
    return m;
  };
  const a = flat(saved);
  const b = flat(now);
  const out: string[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    if (a.get(k) === b.get(k)) continue;
    out.push(`${OPTION_NAMES[k] ?? k} ${a.get(k) ?? '(not set)'} in the checkpoint, ${b.get(k) ?? '(not set)'} now`);
  }
  return out;
}

/**
 * Trains as `cfg` says until a limit of `o` (steps, seconds, a stop request), saving checkpoints
 * in `o.out`/checkpoint; with `o.resume`, continues the run there. The model and optimizer are
 * disposed when it returns (load the checkpoint to use the model). Needs fl.init().
 */
export async function train(cfg: TrainConfig, o: TrainOptions): Promise<TrainSummary> {
  const own: Owned = {};
  try {
    return await runTraining(cfg, o, own);
  } finally {
    own.model?.dispose();
    own.opt?.dispose();
  }
}

interface Owned {
  model?: LanguageModel;
  opt?: Optimizer;
}

async function runTraining(cfg: TrainConfig, o: TrainOptions, own: Owned): Promise<TrainSummary> {
  const log = o.onLog ?? (() => {});
  await mkdir(o.out, { recursive: true });
  const metricsFile = join(o.out, 'metrics.jsonl');
  const ckDir = join(o.out, 'checkpoint');

  let corpus: Corpus;
  let model: LanguageModel;
  let opt: Optimizer;
  let step = 0;
  let epoch = 0;
  let batchIndex = 0;
  let state: LSTMState[] | undefined;
  let resumedSeconds = 0;
  const resumed = !!o.resume && (await exists(join(ckDir, 'config.json')));
  if (o.resume && !resumed) throw new Error(`flstm: --resume: no checkpoint in ${ckDir}`);
  if (!o.resume && !o.overwrite && (await exists(join(ckDir, 'config.json')))) {
    // Starting afresh would truncate the metrics and replace the checkpoint of another run.
    throw new Error(`flstm: ${o.out} already holds a run (${ckDir}): --resume continues it; to start afresh give another --out, or delete that folder`);
  }
  if (resumed) {
    const { ck, config: saved, vocab: savedVocab } = await readLmCheckpoint(ckDir);
    corpus = await loadCorpus(cfg.data, corpusOptions(cfg));
    const diffs = configDifferences(saved.train, cfg);
    const shapeKeys = ['--cell', '--layers', '--emb', '--hidden', '--proj', '--factor', '--groups'];
    if (corpus.vocab.size !== savedVocab.size) {
      throw new Error(`flstm: --resume: the corpus ${cfg.data} gives a vocabulary of ${corpus.vocab.size} words, the checkpoint's (${ckDir}) has ${savedVocab.size}${diffs.length ? ` (${diffs.join('; ')})` : ''}`);
    }
    const moved = corpus.vocab.words.findIndex((w, i) => w !== savedVocab.words[i]);
    if (moved >= 0) {
      throw new Error(`flstm: --resume: the corpus ${cfg.data} gives another vocabulary than the checkpoint's (${ckDir}): id ${moved} is ${JSON.stringify(corpus.vocab.words[moved])}, in the checkpoint ${JSON.stringify(savedVocab.words[moved])}`);
    }
    // The model of the options given now: a checkpoint of another shape fails here, naming the tensor.
    ({ model, state } = modelFromCheckpoint(ck, saved, cfg, ckDir));
    if (diffs.length) {
      model.dispose();
      disposeState(state);
      const shape = diffs.some((d) => shapeKeys.includes(d.split(' ')[0])) ? ' (the weights fit, but the model differs)' : '';
      throw new Error(`flstm: --resume: the options differ from the checkpoint's (${ckDir}/config.json)${shape}: ${diffs.join('; ')}; resume with the same options`);
    }
    own.model = model;
    opt = makeOptimizer(cfg, model);
    own.opt = opt;
    opt.loadStateDict(requireOptimizerState(ck, ckDir) as Parameters<Optimizer['loadStateDict']>[0]);
    step = saved.step;
    epoch = saved.epoch;
    batchIndex = saved.batchIndex;
    resumedSeconds = saved.seconds ?? 0;
    await rewindMetrics(metricsFile, step);
  } else {
    corpus = await loadCorpus(cfg.data, corpusOptions(cfg));
    checkSampled(cfg, corpus.vocab.size);
    model = new LanguageModel(modelOptions(cfg, corpus.vocab.size));
    opt = makeOptimizer(cfg, model);
    await writeFile(metricsFile, '');
  }
  own.model = model;
  own.opt = opt;
  const trainSplit = corpus.splits.train;
  const batcher = makeBatcher(trainSplit, { batchSize: cfg.batch, bptt: cfg.bptt, repeat: true } as never);
  const rnnParams = model.rnn.numParams();
  log({ type: 'start', step, params: model.numParams(), rnnParams, vocab: corpus.vocab.size, trainTokens: trainSplit.kind === 'array' ? trainSplit.tokens.length : NaN, adapter: fl.info().description, resumed, precision: model.precision });

  const logEvery = o.logEvery ?? 20;
  const saveEvery = o.saveEvery ?? 500;
  const t0 = performance.now();
  const startStep = step;
  let lossSum: fl.Tensor | null = null;
  let lossCount = 0;
  let wordsSince = 0;
  let since = t0;
  let lastLoss = NaN;
  let totalWords = 0;
  let stopReason = 'steps';
  /** The step of the checkpoint in ckDir (null: none yet). */
  let savedStep: number | null = resumed ? step : null;
  /** Training seconds before this process (a resumed run continues the clock). */
  const timeBase = resumedSeconds;
  const elapsedTotal = () => timeBase + (performance.now() - t0) / 1e3;

  const disposeLoss = () => {
    (lossSum as fl.Tensor | null)?.dispose();
    lossSum = null;
    lossCount = 0;
  };

  /**
   * Why the run cannot go on (a non-finite loss since the last report, a skipped non-finite
   * gradient, non-finite weights), or null. Reads the GPU: called at reports and saves only.
   */
  const nonFinite = async (weights?: Record<string, { data: Float32Array }>, mean?: number): Promise<string | null> => {
    if (lossSum && lossCount > 0) {
      const pending = mean ?? (await (lossSum as fl.Tensor).data())[0] / lossCount;
      if (!Number.isFinite(pending)) return `the training loss became ${pending} ${lossCount === 1 ? `at step ${step}` : `in steps ${step - lossCount + 1}..${step}`}`;
    }
    const skipped = await opt.nonFiniteSteps();
    if (skipped > 0) return `a gradient became NaN or infinite by step ${step} (${skipped} step${skipped > 1 ? 's' : ''} skipped)`;
    for (const [name, e] of Object.entries(weights ?? {})) {
      const d = e.data;
      for (let i = 0; i < d.length; i++) {
        if (!Number.isFinite(d[i])) return `the weights became NaN or infinite by step ${step} (${name}[${i}] = ${d[i]})`;
      }
    }
    return null;
  };

  const stopNonFinite = (why: string, wps: number): TrainSummary => {
    stopReason = 'non-finite loss';
    const kept = savedStep !== null
      ? `The last good checkpoint (step ${savedStep}) is kept in ${ckDir}.`
      : 'No checkpoint was saved before it.';
    log({ type: 'stopped', step, reason: `${why}; stopped. ${kept}` });
    disposeLoss();
    disposeState(state);
    state = undefined;
    return { step, trainLoss: lastLoss, wordsPerSec: wps, stopReason };
  };

  /** Saves a checkpoint of the current step; returns why not when something is non-finite. */
  let saveSeconds = 0;
  const save = async (): Promise<string | null> => {
    const s0 = performance.now();
    try {
      return await saveNow();
    } finally {
      saveSeconds += (performance.now() - s0) / 1e3;
    }
  };
  const saveNow = async (): Promise<string | null> => {
    const modelState = await model.stateDict();
    const why = await nonFinite(modelState);
    if (why) return why;
    if (state) {
      for (let l = 0; l < state.length; l++) {
        modelState[`state.${l}.h`] = { shape: [...state[l].h.shape], data: (await state[l].h.data()) as Float32Array };
        modelState[`state.${l}.c`] = { shape: [...state[l].c.shape], data: (await state[l].c.data()) as Float32Array };
      }
    }
    const config: CheckpointConfig = {
      format: 'flstm-lm/1', train: cfg, vocabSize: corpus.vocab.size, step, epoch, batchIndex, stateLayers: state?.length ?? 0,
      seconds: elapsedTotal(),
    };
    await saveCheckpoint(ckDir, {
      model: modelState,
      optimizer: (await opt.stateDict()) as never,
      config: config as unknown as JsonValue,
      vocab: corpus.vocab.toText(),
    });
    savedStep = step;
    log({ type: 'checkpoint', step, dir: ckDir });
    await writeChart(join(o.out, 'chart.svg'), await readMetrics(metricsFile), { title: `${cfg.model.cell} on ${cfg.data}` });
    return null;
  };

  // Batches: the array batcher is random access (resume jumps to batchIndex); a stream batcher
  // re-reads and skips.
  const batchesFrom = (start: number): Iterator<Batch> | AsyncIterator<Batch> =>
    batcher instanceof Batcher ? batcher.batches(start) : (batcher as StreamBatcher).batches(start)[Symbol.asyncIterator]();
  let it = batchesFrom(batchIndex);

  const timeUp = () => o.seconds !== undefined && (performance.now() - t0) / 1e3 >= o.seconds;
  for (;;) {
    if (o.steps !== undefined && step >= o.steps) { stopReason = 'steps'; break; }
    if (timeUp()) { stopReason = 'time'; break; }
    if (o.stopRequested?.()) { stopReason = 'interrupted'; break; }
    let next = await it.next();
    if (next.done) {
      epoch++;
      batchIndex = 0;
      disposeState(state);
      state = undefined; // a new pass over the streams starts from the zero state
      it = batchesFrom(0);
      next = await it.next();
      if (next.done) throw new Error('flstm: the training split gives no batch');
    }
    const b = next.value;
    if (b.mask) throw new Error('flstm: train: a padded batch (the training stream ran out of sentences)');
    const seed = stepSeed(cfg.seed, step);
    const prevState = state;
    fl.tidy(() => {
      const r = trainStep(model, opt, b, state, { optimizer: cfg.optimizer, sampled: cfg.sampled, seed });
      const sum: fl.Tensor = lossSum ? fl.add(lossSum, r.loss) : fl.scale(r.loss, 1);
      lossSum?.dispose();
      lossSum = sum.keep();
      state = r.state.map((s) => ({ h: s.h.keep(), c: s.c.keep() }));
    });
    disposeState(prevState);
    lossCount++;
    step++;
    batchIndex = b.index + 1;
    wordsSince += b.inputs.length;
    totalWords += b.inputs.length;

    if (step % logEvery === 0 || (o.steps !== undefined && step >= o.steps)) {
      const mean = (await lossSum!.data())[0] / lossCount; // waits for the GPU
      const now = performance.now();
      const wps = wordsSince / ((now - since) / 1e3);
      const why = await nonFinite(undefined, mean);
      if (why) return stopNonFinite(why, wps);
      disposeLoss();
      since = now;
      wordsSince = 0;
      lastLoss = mean;
      const elapsed = (now - t0) / 1e3;
      const rec: MetricsRecord = { step, time: timeBase + elapsed, split: 'train', loss: mean, ppl: Math.exp(mean), wordsPerSec: wps, lr: cfg.lr };
      await appendMetrics(metricsFile, rec);
      const line = formatProgress({ step, totalSteps: o.steps, startStep, timeLimit: o.seconds, elapsed, loss: mean, wordsPerSec: wps, sampled: cfg.sampled > 0 });
      log({ type: 'progress', step, loss: mean, ppl: Math.exp(mean), wordsPerSec: wps, elapsed, line });
    }
    if (step % saveEvery === 0) {
      const why = await save();
      if (why) return stopNonFinite(why, totalWords / Math.max((performance.now() - t0) / 1e3 - saveSeconds, 1e-9));
    }
  }
  if (lossSum) {
    const pending = (await (lossSum as fl.Tensor).data())[0] / lossCount; // waits for the GPU
    if (Number.isFinite(pending)) lastLoss = pending;
  }
  const wordsPerSec = totalWords / Math.max((performance.now() - t0) / 1e3 - saveSeconds, 1e-9);
  if (savedStep !== step) {
    const why = await save();
    if (why) return stopNonFinite(why, wordsPerSec);
  }
  disposeLoss();
  if (stopReason === 'interrupted') log({ type: 'stopped', step, reason: `interrupted at step ${step}: checkpoint saved in ${ckDir}` });
  let valid: EvalResult | undefined;
  const validSplit = corpus.splits.valid;
  if (validSplit && o.evalTokens !== 0 && stopReason !== 'interrupted') {
    valid = await evaluate(model, validSplit, { batchSize: cfg.batch, bptt: cfg.bptt, maxTokens: o.evalTokens });
    const rec: MetricsRecord = { step, time: elapsedTotal(), split: 'valid', loss: valid.loss, ppl: valid.ppl, tokens: valid.tokens };
    await appendMetrics(metricsFile, rec);
    await writeChart(join(o.out, 'chart.svg'), await readMetrics(metricsFile), { title: `${cfg.model.cell} on ${cfg.data}` });
    log({ type: 'eval', step, split: 'valid', loss: valid.loss, ppl: valid.ppl, tokens: valid.tokens });
  }
  disposeState(state);
  return { step, trainLoss: lastLoss, valid, wordsPerSec, stopReason };
}
