// The browser demo's model session, without the DOM: a language model, its vocabulary and
// text, training (the loop `flstm train` runs, src/train/loop.ts, with the loss read back about
// four times a second and recorded for the chart), evaluation, generation, and self-contained
// .safetensors save / load (the format of the CLI's model-<G>.safetensors, src/train/bundle.ts).
// A CLI checkpoint folder loads with its optimizer state and carried LSTM state, so its
// training goes on from the state `flstm train --resume` would continue from. Runs in Node
// too (tests).
import { tensor } from '../ops/create.js';
import { Vocabulary } from '../data/vocab.js';
import { LanguageModel } from '../nn/lm.js';
import { lstmOutputSize } from '../nn/sizes.js';
import type { LSTMState } from '../nn/lstm.js';
import type { Optimizer, OptimizerStateInput } from '../optim/optimizer.js';
import type { OptimizerState } from '../train/checkpoint.js';
import { decodeOptimizerFile, OPTIMIZER_FILE } from '../train/optimizer_file.js';
import { generate, type Generated } from '../train/generate.js';
import { evaluate } from '../train/evaluate.js';
import type { MetricsRecord } from '../train/metrics.js';
import { checkpointFromFiles, decodeModelBundle, encodeModelBundle, type ModelBundle } from '../train/bundle.js';
import type { CheckpointConfig, ModelConfig, TrainConfig } from '../train/config.js';
import { disposeState, loadedModelOptions, loadOptimizerState, makeOptimizer, modelOptions } from '../train/step.js';
import { aboutEvery, everySteps, TrainingLoop, type LossReading } from '../train/loop.js';

export { makeOptimizer, modelOptions, stepSeed } from '../train/step.js';
import { encodeText, textCorpus, type TextCorpus } from './text.js';
import { requireKnownWords } from './known_words.js';

export type { CellKind } from '../nn/cells.js';
import { CELL_KINDS, cellSpec, type CellKind, type SizeOption } from '../nn/cells.js';
import { defaultTrainConfig } from '../options/train.js';
import { checkLmConfig, checkModelTensors, checkVocabulary, modelFileParts } from '../train/checkpoint_schema.js';

/** Model sizes the page offers, with a value for each cell size option. */
export interface SizePreset extends Record<SizeOption, number> {
  label: string;
  layers: number;
  emb: number;
  hidden: number;
  proj: number;
  batch: number;
  bptt: number;
  maxVocab: number;
}

export const SIZES: Record<string, SizePreset> = {
  tiny: { label: 'Tiny', layers: 1, emb: 32, hidden: 64, proj: 32, batch: 8, bptt: 12, maxVocab: 1000, groups: 2, factor: 16 },
  small: { label: 'Small', layers: 1, emb: 64, hidden: 256, proj: 64, batch: 16, bptt: 20, maxVocab: 4000, groups: 2, factor: 32 },
  medium: { label: 'Medium', layers: 2, emb: 128, hidden: 512, proj: 128, batch: 32, bptt: 20, maxVocab: 10000, groups: 4, factor: 64 },
};

export const CELL_NAMES = Object.fromEntries(CELL_KINDS.map((c) => [c, cellSpec(c).label])) as Record<CellKind, string>;

/**
 * The training configuration of a cell and size: the options' defaults (options/train.ts, as
 * `flstm train` takes them) with the preset's sizes, no dropout and the full softmax.
 */
export function trainConfigFor(cell: CellKind, size: SizePreset, data: string, seed = 1): TrainConfig {
  const model: Partial<ModelConfig> = { cell, layers: size.layers, emb: size.emb, hidden: size.hidden, proj: size.proj, dropout: 0 };
  const option = cellSpec(cell).size;
  if (option) model[option] = size[option];
  return defaultTrainConfig({ data, model, batch: size.batch, bptt: size.bptt, sampled: 0, seed, maxVocab: size.maxVocab });
}

export interface Report {
  step: number;
  loss: number;
  ppl: number;
  wordsPerSec: number;
  elapsed: number;
}

export interface TrainRunOptions {
  /** Stop at this step (total, counting steps before). */
  steps: number;
  /** Read the loss back every this many steps (default: about four times a second). */
  reportEvery?: number;
  onReport?: (r: Report) => void;
  onEval?: (r: { step: number; loss: number; ppl: number; tokens: number }) => void;
  /** Checked between steps. */
  shouldStop?: () => boolean;
  /** Validation every this many steps (and at the end); 0: only at the end. */
  evalEvery?: number;
  /** Validation tokens per evaluation. */
  evalTokens?: number;
}

/** A file handed to load(): its name and bytes. */
export interface NamedFile {
  name: string;
  bytes: Uint8Array;
}

/** What a loaded model continues with. */
export interface Continuation {
  /** The optimizer file whose state was restored; null: the optimizer starts fresh. */
  optimizerFrom: string | null;
  /** Whether training starts from the checkpoint's carried LSTM state (else from zeros). */
  carriedState: boolean;
}

export class Session {
  model: LanguageModel | null = null;
  vocab: Vocabulary | null = null;
  config: TrainConfig | null = null;
  corpus: TextCorpus | null = null;
  optimizer: Optimizer | null = null;
  step = 0;
  epoch = 0;
  batchIndex = 0;
  /** Seconds of training of this model. */
  seconds = 0;
  records: MetricsRecord[] = [];
  /** Where the model came from, when loaded. */
  loadedFrom: string | null = null;
  /** What the loaded model continues with (null: not loaded). */
  continuation: Continuation | null = null;
  private state: LSTMState[] | undefined;
  private lock: Promise<unknown> = Promise.resolve();

  /** Runs fn after anything queued before it (training steps, generation, saving never interleave). */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => {});
    return run;
  }

  get params(): number {
    return this.model?.numParams() ?? 0;
  }

  /** The LSTM state carried into the next batch, per layer (undefined: zeros), between train() calls. */
  get carriedState(): readonly LSTMState[] | undefined {
    return this.state;
  }

  /** A fresh model of `config` on `text` (the vocabulary is built from it). */
  create(config: TrainConfig, text: string, source: string): void {
    const corpus = textCorpus(text, source, { maxVocab: config.maxVocab, minCount: config.minCount });
    const model = new LanguageModel(modelOptions(config, corpus.vocab.size));
    this.replace(model, corpus.vocab, config);
    this.corpus = corpus;
  }

  /**
   * Uses `text` for further training of the current model (tokenized with its vocabulary),
   * from its first batch. The carried LSTM state stays: it is the model's context so far, and
   * the new text continues from it as the trainer's streams run on from one document into the
   * next (a loaded checkpoint's state is kept this way too). Text with many more words outside
   * the vocabulary than the model's own text had is refused (UnknownWordsError), and the
   * current text stays.
   */
  setText(text: string, source: string): void {
    if (!this.vocab || !this.config) throw new Error('flstm: no model yet');
    const corpus = encodeText(text, this.vocab, source);
    requireKnownWords(corpus, this.config.data);
    this.corpus = corpus;
    this.batchIndex = 0;
  }

  private replace(model: LanguageModel, vocab: Vocabulary, config: TrainConfig, optimizer = makeOptimizer(config, model)): void {
    this.dispose();
    this.model = model;
    this.vocab = vocab;
    this.config = config;
    this.optimizer = optimizer;
    this.step = 0;
    this.epoch = 0;
    this.batchIndex = 0;
    this.seconds = 0;
    this.records = [];
    this.loadedFrom = null;
    this.continuation = null;
  }

  dispose(): void {
    disposeState(this.state);
    this.state = undefined;
    this.optimizer?.dispose();
    this.optimizer = null;
    this.model?.dispose();
    this.model = null;
    this.corpus = null;
  }

  /** Trains until `o.steps`, a stop request, or an error. Resolves with the last mean loss. */
  async train(o: TrainRunOptions): Promise<number> {
    const { model, config: cfg, corpus, optimizer: opt } = this;
    if (!model || !cfg || !opt) throw new Error('flstm: no model to train');
    if (!corpus) throw new Error('flstm: no text to train on');
    // The session is the loop's position: its step, epoch and batchIndex advance with the loop.
    const loop = new TrainingLoop(model, opt, cfg, { kind: 'array', name: 'train', tokens: corpus.train }, this, this.state);
    this.state = undefined; // the loop carries it now, and hands it back below
    const clock = this.trainingClock();
    let lastLoss = NaN;
    const evalEvery = o.evalEvery ?? 0;
    try {
      await loop.run({
        stopReason: () => (this.step >= o.steps || o.shouldStop?.() ? 'stopped' : null),
        lastStep: o.steps,
        // Read back about four times a second: every step when steps are slow, fewer when fast.
        cadence: o.reportEvery ? everySteps(o.reportEvery) : aboutEvery(250),
        exclusive: (fn) => this.exclusive(fn),
        onLoss: async (r) => {
          clock();
          lastLoss = this.report(r, cfg, o);
          return null;
        },
        afterStep: async () => {
          clock();
          if (evalEvery > 0 && this.step % evalEvery === 0 && this.step < o.steps) await this.validate(o);
          return null;
        },
      });
      const rest = await this.exclusive(() => loop.takeLoss());
      if (rest) lastLoss = this.report(rest, cfg, o);
    } finally {
      this.state = loop.state;
      loop.dropLoss();
    }
    if (!Number.isFinite(lastLoss) || this.records.length === 0) return lastLoss;
    await this.validate(o);
    return lastLoss;
  }

  /** A function that sets `seconds` to the training time so far, counting from now. */
  private trainingClock(): () => void {
    const start = performance.now();
    const before = this.seconds;
    return () => {
      this.seconds = before + (performance.now() - start) / 1e3;
    };
  }

  /** A readback during train(): recorded for the chart and reported; a non-finite loss ends training. */
  private report(r: LossReading, cfg: TrainConfig, o: TrainRunOptions): number {
    if (!Number.isFinite(r.mean)) throw new Error(`flstm: the training loss became ${r.mean} at step ${this.step}`);
    const report: Report = {
      step: this.step,
      loss: r.mean,
      ppl: Math.exp(r.mean),
      wordsPerSec: r.words / Math.max(r.ms / 1e3, 1e-9),
      elapsed: this.seconds,
    };
    this.records.push({
      step: report.step,
      time: report.elapsed,
      split: 'train',
      loss: r.mean,
      ppl: report.ppl,
      wordsPerSec: report.wordsPerSec,
      lr: cfg.lr,
    });
    o.onReport?.(report);
    return r.mean;
  }

  /** Full-softmax loss on (the start of) the held-out text; recorded for the chart. */
  async validate(o: Pick<TrainRunOptions, 'evalTokens' | 'onEval'> = {}): Promise<void> {
    const corpus = this.corpus;
    const cfg = this.config;
    const model = this.model;
    if (!corpus || !cfg || !model || corpus.valid.length < 2 * Math.min(cfg.batch, 4)) return;
    const B = Math.min(cfg.batch, Math.max(1, Math.floor(corpus.valid.length / (cfg.bptt + 1))));
    const r = await this.exclusive(() =>
      evaluate(
        model,
        { kind: 'array', name: 'valid', tokens: corpus.valid },
        { batchSize: B, bptt: cfg.bptt, maxTokens: o.evalTokens ?? 4 * cfg.batch * cfg.bptt },
      ),
    );
    if (r.tokens === 0) return;
    this.records.push({ step: this.step, time: this.seconds, split: 'valid', loss: r.loss, ppl: r.ppl, tokens: r.tokens });
    o.onEval?.({ step: this.step, loss: r.loss, ppl: r.ppl, tokens: r.tokens });
  }

  /** Samples words after `prompt` (between training steps when training). */
  async generate(
    prompt: string,
    tokens: number,
    temperature: number,
    seed: number,
    onWord?: (g: Generated) => void,
  ): Promise<{ prompt: string[]; words: string[] }> {
    const model = this.model;
    const vocab = this.vocab;
    if (!model || !vocab) throw new Error('flstm: train a model or load a checkpoint first');
    return this.exclusive(() => generate(model, vocab, prompt, { tokens, temperature, seed, onWord }));
  }

  /** The checkpoint config, as the CLI's trainer writes it. */
  checkpointConfig(): CheckpointConfig {
    if (!this.config || !this.vocab) throw new Error('flstm: no model to save');
    return {
      format: 'flstm-lm/1',
      train: this.config,
      vocabSize: this.vocab.size,
      step: this.step,
      epoch: this.epoch,
      batchIndex: this.batchIndex,
      stateLayers: 0,
      seconds: Math.round(this.seconds * 1000) / 1000,
    };
  }

  /** The model as one self-contained .safetensors file (weights, config, vocabulary). */
  async save(): Promise<Uint8Array> {
    const model = this.model;
    if (!model || !this.vocab) throw new Error('flstm: no model to save');
    const weights = await this.exclusive(() => model.stateDict());
    return encodeModelBundle({ model: weights, config: this.checkpointConfig(), vocab: this.vocab.toText() });
  }

  /**
   * Loads a model: one self-contained .safetensors (saved here, or a model-<G>.safetensors of
   * `flstm train`), or the files of a CLI checkpoint folder (config.json, model-<G>.safetensors,
   * optimizer-<G>.safetensors, vocab-<G>.txt; other files are ignored). The optimizer is the
   * checkpoint's (its kind, lr and clip); with the folder's optimizer file it continues from
   * that state, else it starts fresh. The carried LSTM state and the step count are restored.
   * `continuation` says what was restored.
   */
  async load(files: NamedFile[]): Promise<CheckpointConfig> {
    const bundle = readBundle(files);
    const config = bundle.config as CheckpointConfig;
    const what = bundle.source;
    if (!config || typeof config !== 'object' || config.format !== 'flstm-lm/1') {
      throw new Error(
        `flstm: ${what} is not a flstm language model (its config has format ${JSON.stringify((config as { format?: unknown })?.format)}, expected "flstm-lm/1")`,
      );
    }
    if (bundle.vocab === undefined) throw new Error(`flstm: ${what} has no vocabulary: also give the checkpoint folder's vocab-<G>.txt`);
    // The schema the CLI checks a checkpoint against (train/checkpoint_schema.ts), so a bad
    // file gets the same message here.
    checkLmConfig(bundle.configSource, 'config', config);
    checkModelTensors(what, bundle.model, config, bundle.configSource);
    const vocab = checkVocabulary(bundle.vocabSource, bundle.vocab, config.vocabSize, bundle.configSource);
    checkOptimizerStep(bundle, config);
    // A moving average (a CLI run's --ema) is left out: the page trains on from the trained weights.
    const { weights, state: stateEntries } = modelFileParts(bundle.model);
    await this.exclusive(() => {
      const model = new LanguageModel(loadedModelOptions(config.train, config.vocabSize));
      let optimizer: Optimizer | null = null;
      try {
        withSource(what, () => model.loadStateDict(weights));
        optimizer = makeOptimizer(config.train, model);
        const state = bundle.optimizer;
        if (state) withSource(bundle.optimizerSource!, () => loadOptimizerState(model, optimizer!, state as OptimizerStateInput));
      } catch (e) {
        optimizer?.dispose();
        model.dispose();
        throw e;
      }
      // The page keeps no moving average: what it saves says so, so a CLI resume of it does not look for one.
      const { ema: _average, emaSchedule: _schedule, ...train } = config.train;
      this.replace(model, vocab, train, optimizer);
      this.state = carriedStateOf(stateEntries, config, model);
    });
    this.step = config.step ?? 0;
    this.epoch = config.epoch ?? 0;
    this.batchIndex = config.batchIndex ?? 0;
    this.seconds = config.seconds ?? 0;
    this.loadedFrom = what;
    this.continuation = { optimizerFrom: bundle.optimizer ? bundle.optimizerSource! : null, carriedState: this.state !== undefined };
    return config;
  }
}

/** Runs fn; an error it throws names the file being loaded. */
function withSource(source: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    throw new Error(`${(e as Error).message} (loading ${source})`);
  }
}

/**
 * The optimizer state must be the one saved with the model: its count of steps taken equals
 * the model's step (the trainer steps the optimizer once per step), so files of two
 * checkpoints are not mixed.
 */
function checkOptimizerStep(bundle: FileBundle, config: CheckpointConfig): void {
  const attempts = bundle.optimizer?.scalars.attempts;
  if (typeof attempts === 'number' && typeof config.step === 'number' && attempts !== config.step) {
    throw new Error(
      `flstm: ${bundle.optimizerSource} holds the optimizer state after ${attempts} steps, but ${bundle.source} is at step ${config.step}: ` +
        'give the files of one checkpoint',
    );
  }
}

/**
 * The checkpoint's carried LSTM state (`state.<l>.h` / `state.<l>.c`, as the trainer saves
 * it) as tensors, when every layer's is there with the shape of this model's batches; else
 * undefined, and training starts from the zero state as at the start of an epoch.
 */
function carriedStateOf(entries: ModelBundle['model'], config: CheckpointConfig, model: LanguageModel): LSTMState[] | undefined {
  const layers = model.rnn.layers.length;
  if (config.stateLayers !== layers) return undefined;
  const B = config.train.batch;
  const same = (e: { shape: number[] } | undefined, shape: number[]) =>
    !!e && e.shape.length === shape.length && e.shape.every((d, i) => d === shape[i]);
  for (let l = 0; l < layers; l++) {
    const layer = model.rnn.layers.at(l).config;
    if (!same(entries[`state.${l}.h`], [B, lstmOutputSize(layer)]) || !same(entries[`state.${l}.c`], [B, layer.hiddenSize]))
      return undefined;
  }
  return Array.from({ length: layers }, (_, l) => {
    const h = entries[`state.${l}.h`]!;
    const c = entries[`state.${l}.c`]!;
    return { h: tensor(h.data, h.shape).keep(), c: tensor(c.data, c.shape).keep() };
  });
}

/** A model bundle read from files, with the optimizer state of its checkpoint folder when given. */
export interface FileBundle extends ModelBundle {
  /** The model file's name. */
  source: string;
  /** Where the configuration and vocabulary came from, for messages: the files, or the model file's metadata. */
  configSource: string;
  vocabSource: string;
  /** The state in the folder's optimizer-<G>.safetensors, when that file was given. */
  optimizer?: OptimizerState;
  /** The optimizer file's name. */
  optimizerSource?: string;
}

const baseName = (n: string) => n.split(/[\\/]/).pop()!;

/**
 * The bundle in a set of files: a self-contained .safetensors, or a checkpoint folder's
 * files. An optimizer-<G>.safetensors among them must be the checkpoint's: the one its
 * config.json names, or without config.json the one of the model file's generation.
 */
export function readBundle(files: NamedFile[]): FileBundle {
  const st = files.filter((f) => f.name.endsWith('.safetensors') && !OPTIMIZER_FILE.test(baseName(f.name)));
  const cfg = files.find((f) => baseName(f.name) === 'config.json');
  const voc = files.find((f) => /\.txt$/.test(f.name) && /vocab/i.test(baseName(f.name)));
  if (st.length === 0) {
    throw new Error(
      `flstm: no .safetensors among the files (${files.map((f) => f.name).join(', ')}): give a model saved by this page, a model-<G>.safetensors of flstm train, or a whole checkpoint folder`,
    );
  }
  if (st.length > 1) throw new Error(`flstm: several model files (${st.map((f) => baseName(f.name)).join(', ')}): give one`);
  const model = st[0];
  const source = baseName(model.name);
  const text = (f: NamedFile) => new TextDecoder().decode(f.bytes);
  let out: FileBundle;
  if (cfg) {
    const b = checkpointFromFiles({ configJson: text(cfg), model: model.bytes, vocab: voc ? text(voc) : undefined, modelName: source });
    out = { ...b, source, configSource: baseName(cfg.name), vocabSource: voc ? baseName(voc.name) : `${source} metadata flstm.vocab` };
  } else {
    // A weights-only file (an older checkpoint's) is refused with a message naming the other files.
    const b = decodeModelBundle(model.bytes, source);
    const vocabFromFile = voc !== undefined && b.vocab === undefined;
    if (vocabFromFile) b.vocab = text(voc!);
    out = {
      ...b,
      source,
      configSource: `${source} metadata flstm.config`,
      vocabSource: vocabFromFile ? baseName(voc!.name) : `${source} metadata flstm.vocab`,
    };
  }
  const opt = optimizerFileOf(files, source, cfg ? text(cfg) : null);
  if (opt) {
    out.optimizer = decodeOptimizerFile(opt.bytes, baseName(opt.name));
    out.optimizerSource = baseName(opt.name);
  }
  return out;
}

/** The checkpoint's optimizer file among `files` (null: none given); a stray one is refused. */
function optimizerFileOf(files: NamedFile[], modelName: string, configJson: string | null): NamedFile | null {
  const given = files.filter((f) => OPTIMIZER_FILE.test(baseName(f.name)));
  if (given.length === 0) return null;
  const { want, why } = configJson === null ? optimizerByGeneration(modelName) : optimizerByManifest(configJson);
  const found = given.find((f) => baseName(f.name) === want);
  if (found) return found;
  const names = given.map((f) => baseName(f.name)).join(', ');
  throw new Error(`flstm: ${names} is not the optimizer file of ${modelName} (${why}): give the files of one checkpoint folder`);
}

/** The optimizer file config.json names (checkpointFromFiles has checked it is a manifest). */
function optimizerByManifest(configJson: string): { want: string | null; why: string } {
  const named = (JSON.parse(configJson) as { files?: { optimizer?: unknown } }).files?.optimizer;
  return typeof named === 'string'
    ? { want: named, why: `config.json names ${named}` }
    : { want: null, why: 'config.json names no optimizer file' };
}

/** The optimizer file of the model file's generation (model-<G> goes with optimizer-<G>). */
function optimizerByGeneration(modelName: string): { want: string | null; why: string } {
  const gen = /^model-(\d+)\.safetensors$/.exec(modelName)?.[1];
  if (gen === undefined) return { want: null, why: `${modelName} is not the model file of a checkpoint folder (model-<G>.safetensors)` };
  return { want: `optimizer-${gen}.safetensors`, why: `${modelName} goes with optimizer-${gen}.safetensors` };
}
