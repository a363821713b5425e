// The training loop: a corpus, a language model, an optimizer; progress, metrics, charts,
// checkpoints, resume. One step is encoded without any host round trip: the loss is summed
// on the GPU and read back every `logEvery` steps, the gradient norm and clipping live in
// the optimizer's GPU buffers. A resumed run continues the uninterrupted one exactly: the
// checkpoint holds the weights, the optimizer state, the carried LSTM state and the step,
// and every random choice of a step (sampled-softmax candidates, dropout masks) is seeded
// by the step number.
import { join } from 'node:path';
import { mkdir, writeFile, rename, access } from 'node:fs/promises';
import * as fl from '../index.js';
import { loadCorpus } from '../data/corpus.js';
import { Batcher, makeBatcher, StreamBatcher } from '../data/batcher.js';
import type { Batch } from '../data/batcher.js';
import type { Corpus } from '../data/types.js';
import { Vocabulary } from '../data/vocab.js';
import { LanguageModel, type LanguageModelOptions } from '../nn/lm.js';
import type { LSTMState } from '../nn/lstm.js';
import { Adagrad, Adam, SGD } from '../optim/index.js';
import type { Optimizer } from '../optim/optimizer.js';
import { saveCheckpoint, loadCheckpoint, checkCompatible, type JsonValue } from './checkpoint.js';
import { appendMetrics, readMetrics, rewindMetrics, formatProgress, type MetricsRecord } from './metrics.js';
import { writeChart } from './chart.js';
import { evaluate, type EvalResult } from './evaluate.js';

export interface ModelConfig {
  cell: 'lstm' | 'flstm' | 'glstm';
  layers: number;
  emb: number;
  hidden: number;
  proj: number;
  factor?: number;
  groups?: number | number[];
  dropout: number;
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
  | { type: 'start'; step: number; params: number; rnnParams: number; vocab: number; trainTokens: number; adapter: string; resumed: boolean }
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
}

export function modelOptions(c: TrainConfig, vocabSize: number): LanguageModelOptions {
  return {
    vocabSize, emb: c.model.emb, layers: c.model.layers, hidden: c.model.hidden, proj: c.model.proj, cell: c.model.cell,
    factor: c.model.factor, groups: c.model.groups, dropout: c.model.dropout, seed: c.seed,
  };
}

export function makeOptimizer(c: TrainConfig, model: LanguageModel): Optimizer {
  // Clipping by global norm applies to the LSTM weights, as in the paper's code.
  const clip = c.clip > 0 ? { maxNorm: c.clip, params: (name: string) => name.startsWith('rnn.') } : null;
  const params = model.parameters();
  if (c.optimizer === 'adagrad') return new Adagrad(params, { lr: c.lr, initialAccumulator: 1.0, clip });
  if (c.optimizer === 'adam') return new Adam(params, { lr: c.lr, clip });
  return new SGD(params, { lr: c.lr, clip });
}

function disposeState(s?: LSTMState[]): void {
  s?.forEach((x) => { x.h.dispose(); x.c.dispose(); });
}

/** Stateless per-step seed (sampler, dropout), so a resumed run draws what the whole run would. */
export function stepSeed(seed: number, step: number): number {
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(step + 1, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
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

/** Loads a checkpoint's model (weights, vocabulary, carried state). Needs fl.init(). */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const ck = await loadCheckpoint<CheckpointConfig>(dir);
  const config = ck.config;
  if (!config || config.format !== 'flstm-lm/1') throw new Error(`flstm: ${dir} is not an flstm language-model checkpoint (config.json format ${JSON.stringify(config?.format)})`);
  if (ck.vocab === undefined) throw new Error(`flstm: checkpoint ${dir} has no vocabulary file`);
  const vocab = Vocabulary.parse(ck.vocab, { source: `${dir} vocabulary` });
  if (vocab.size !== config.vocabSize) throw new Error(`flstm: checkpoint ${dir}: vocabulary has ${vocab.size} words, config says ${config.vocabSize}`);
  const model = new LanguageModel(modelOptions(config.train, config.vocabSize));
  const weights: typeof ck.model = {};
  const stateEntries: typeof ck.model = {};
  for (const [k, v] of Object.entries(ck.model)) (k.startsWith('state.') ? stateEntries : weights)[k] = v;
  const expected: Record<string, { shape: number[] }> = {};
  for (const [name, t] of model.parameters()) expected[name] = { shape: [...t.shape] };
  checkCompatible(weights, expected, dir);
  model.loadStateDict(weights);
  let state: LSTMState[] | undefined;
  if (config.stateLayers > 0) {
    state = [];
    for (let l = 0; l < config.stateLayers; l++) {
      const h = stateEntries[`state.${l}.h`];
      const c = stateEntries[`state.${l}.c`];
      if (!h || !c) throw new Error(`flstm: checkpoint ${dir}: the carried state of layer ${l} is missing`);
      state.push({ h: fl.tensor(h.data, h.shape).keep(), c: fl.tensor(c.data, c.shape).keep() });
    }
  }
  return { model, config, vocab, state, optimizerState: ck.optimizer };
}

export async function train(cfg: TrainConfig, o: TrainOptions): Promise<TrainSummary> {
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
  const resumed = !!o.resume && (await exists(join(ckDir, 'config.json')));
  if (o.resume && !resumed) throw new Error(`flstm: --resume: no checkpoint in ${ckDir}`);
  if (resumed) {
    const loaded = await loadModel(ckDir);
    const saved = loaded.config.train;
    if (JSON.stringify(saved) !== JSON.stringify(cfg)) {
      throw new Error(`flstm: --resume: the options differ from the checkpoint's (${ckDir}/config.json): checkpoint ${JSON.stringify(saved)}, now ${JSON.stringify(cfg)}`);
    }
    corpus = await loadCorpus(cfg.data, { maxVocab: cfg.maxVocab, minCount: cfg.minCount });
    if (corpus.vocab.size !== loaded.vocab.size) throw new Error(`flstm: --resume: the corpus gives ${corpus.vocab.size} words, the checkpoint's vocabulary ${loaded.vocab.size}`);
    model = loaded.model;
    opt = makeOptimizer(cfg, model);
    if (loaded.optimizerState) opt.loadStateDict(loaded.optimizerState as Parameters<Optimizer['loadStateDict']>[0]);
    step = loaded.config.step;
    epoch = loaded.config.epoch;
    batchIndex = loaded.config.batchIndex;
    state = loaded.state;
    await rewindMetrics(metricsFile, step);
  } else {
    corpus = await loadCorpus(cfg.data, { maxVocab: cfg.maxVocab, minCount: cfg.minCount });
    model = new LanguageModel(modelOptions(cfg, corpus.vocab.size));
    opt = makeOptimizer(cfg, model);
    await writeFile(metricsFile, '');
  }
  const trainSplit = corpus.splits.train;
  const batcher = makeBatcher(trainSplit, { batchSize: cfg.batch, bptt: cfg.bptt, repeat: true } as never);
  const rnnParams = model.rnn.numParams();
  log({ type: 'start', step, params: model.numParams(), rnnParams, vocab: corpus.vocab.size, trainTokens: trainSplit.kind === 'array' ? trainSplit.tokens.length : NaN, adapter: fl.info().description, resumed });

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
  let lastGoodSaved = resumed;

  const save = async () => {
    const modelState = await model.stateDict();
    state?.forEach((s, l) => {
      modelState[`state.${l}.h`] = { shape: [...s.h.shape], data: new Float32Array(0) };
      modelState[`state.${l}.c`] = { shape: [...s.c.shape], data: new Float32Array(0) };
    });
    if (state) {
      for (let l = 0; l < state.length; l++) {
        modelState[`state.${l}.h`].data = (await state[l].h.data()) as Float32Array;
        modelState[`state.${l}.c`].data = (await state[l].c.data()) as Float32Array;
      }
    }
    const config: CheckpointConfig = { format: 'flstm-lm/1', train: cfg, vocabSize: corpus.vocab.size, step, epoch, batchIndex, stateLayers: state?.length ?? 0 };
    await saveCheckpoint(ckDir, {
      model: modelState,
      optimizer: (await opt.stateDict()) as never,
      config: config as unknown as JsonValue,
      vocab: corpus.vocab.toText(),
    });
    lastGoodSaved = true;
    log({ type: 'checkpoint', step, dir: ckDir });
    await writeChart(join(o.out, 'chart.svg'), await readMetrics(metricsFile), { title: `${cfg.model.cell} on ${cfg.data}` });
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
    const seed = stepSeed(cfg.seed, step);
    const prevState = state;
    fl.tidy(() => {
      const r = model.trainLoss(b.inputs, b.targets, b.steps, b.batchSize, state, { sampled: cfg.sampled, seed });
      // Adagrad follows the paper's code: the gradient of loss·T (the per-sequence sum over
      // time, averaged over streams), the embedding's rows further multiplied by B.
      const paper = cfg.optimizer === 'adagrad';
      r.loss.backward(paper ? fl.full([], b.steps) : undefined);
      const sparse = r.sparse.map((s) => ({
        param: s.table, ids: s.ids,
        rows: paper && s.table === model.embedding ? fl.scale(s.rows.grad!, b.batchSize) : s.rows.grad!,
      }));
      opt.step({ sparse });
      r.sparse.forEach((s) => s.rows.grad?.dispose());
      const sum: fl.Tensor = lossSum ? fl.add(lossSum, r.loss) : fl.scale(r.loss, 1);
      lossSum?.dispose();
      lossSum = sum.keep();
      state = r.state.map((s) => ({ h: s.h.keep(), c: s.c.keep() }));
      model.zeroGrad();
    });
    disposeState(prevState);
    lossCount++;
    step++;
    batchIndex = b.index + 1;
    wordsSince += b.inputs.length;
    totalWords += b.inputs.length;

    if (step % logEvery === 0 || (o.steps !== undefined && step >= o.steps)) {
      const mean = (await lossSum!.data())[0] / lossCount;
      lossSum!.dispose();
      lossSum = null;
      lossCount = 0;
      const now = performance.now();
      const wps = wordsSince / ((now - since) / 1e3);
      since = now;
      wordsSince = 0;
      lastLoss = mean;
      if (!Number.isFinite(mean) || (await opt.nonFiniteSteps()) > 0) {
        stopReason = 'non-finite loss';
        log({ type: 'stopped', step, reason: `the training loss became ${mean} at step ${step}; stopped. ${lastGoodSaved ? `The last good checkpoint is in ${ckDir}.` : 'No checkpoint was saved before it.'}` });
        return { step, trainLoss: mean, wordsPerSec: wps, stopReason };
      }
      const elapsed = (now - t0) / 1e3;
      const rec: MetricsRecord = { step, time: elapsed, split: 'train', loss: mean, ppl: Math.exp(mean), wordsPerSec: wps, lr: cfg.lr };
      await appendMetrics(metricsFile, rec);
      const line = formatProgress({ step, totalSteps: o.steps, startStep, timeLimit: o.seconds, elapsed, loss: mean, wordsPerSec: wps });
      log({ type: 'progress', step, loss: mean, ppl: Math.exp(mean), wordsPerSec: wps, elapsed, line });
    }
    if (step % saveEvery === 0) await save();
  }
  if (lossSum) {
    lastLoss = (await (lossSum as fl.Tensor).data())[0] / lossCount;
    (lossSum as fl.Tensor).dispose();
  }
  if (stopReason === 'interrupted') log({ type: 'stopped', step, reason: 'interrupted: checkpoint saved' });
  await save();
  let valid: EvalResult | undefined;
  const validSplit = corpus.splits.valid;
  if (validSplit && o.evalTokens !== 0 && stopReason !== 'interrupted') {
    valid = await evaluate(model, validSplit, { batchSize: cfg.batch, bptt: cfg.bptt, maxTokens: o.evalTokens });
    const rec: MetricsRecord = { step, time: (performance.now() - t0) / 1e3, split: 'valid', loss: valid.loss, ppl: valid.ppl, tokens: valid.tokens };
    await appendMetrics(metricsFile, rec);
    await writeChart(join(o.out, 'chart.svg'), await readMetrics(metricsFile), { title: `${cfg.model.cell} on ${cfg.data}` });
    log({ type: 'eval', step, split: 'valid', loss: valid.loss, ppl: valid.ppl, tokens: valid.tokens });
  }
  disposeState(state);
  const seconds = (performance.now() - t0) / 1e3;
  return { step, trainLoss: lastLoss, valid, wordsPerSec: totalWords / Math.max(seconds, 1e-9), stopReason };
}
