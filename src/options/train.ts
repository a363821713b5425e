// The options of a training run, declared once: each gives the CLI its flag, placeholder,
// help and default, and names the TrainConfig field its value is stored in (the checkpoint's
// config.json), so `flstm train`, `flstm compare`, `flstm params`, a resume (the checkpoint's
// configuration read back as options) and the demo page's presets all go by this table.
import type { AverageSchedule, ModelConfig, TrainConfig, ValidationConfig } from '../train/train_config.js';
import { lstmStackLayers, lstmStackParamCounts } from '../nn/params.js';
import { CELL_KINDS, cellSpec, cellsSizedBy, orList, SIZE_OPTION_NAMES, type CellKind, type SizeOption } from '../nn/cells.js';
import type { LstmStackSizes } from '../nn/sizes.js';
import { CORPUS_SPECS, parseCorpusSpec } from '../data/corpus.js';
import { withPreset } from './presets.js';
import { choice, count, number, positiveInt, readOption, text, UsageError, type OptionDecl, type Reader, type Values } from './declare.js';

/** A training option and the TrainConfig field ('model.hidden', 'batch') that holds its value. */
export interface TrainOption<T = unknown> extends OptionDecl<T> {
  field?: string;
}

/** A positive integer, or one per layer ("4,8": hierarchical G-LSTM). */
export const groupCounts: Reader<number | number[]> = {
  read: (raw) => {
    const ks = raw.split(',').map((p) => (/^\d+$/.test(p.trim()) ? Number(p.trim()) : NaN));
    if (ks.some((k) => !Number.isSafeInteger(k) || k < 1))
      return { expected: 'a positive integer or a comma-separated list of them (one per layer)' };
    return ks.length === 1 ? ks[0] : ks;
  },
  text: (v) => (Array.isArray(v) ? v.join(',') : String(v)),
};

const OPTIMIZERS = ['adagrad', 'adam', 'sgd'] as const;
/** The learning rate each optimizer starts from when --lr is not given (adagrad: the paper's). */
export const DEFAULT_LR: Record<TrainConfig['optimizer'], number> = { adagrad: 0.2, adam: 0.002, sgd: 1 };

export const CELL = {
  name: 'cell',
  help: `the cell: ${orList(CELL_KINDS.map((c) => cellSpec(c).summary))}`,
  reader: choice(CELL_KINDS, `one of ${CELL_KINDS.join(', ')}`),
  default: 'glstm' as CellKind,
  field: 'model.cell',
} satisfies TrainOption<CellKind>;
export const FACTOR = {
  name: 'factor',
  value: 'R',
  help: 'flstm: the factorization size r (W = W2*W1, W1 has r columns)',
  reader: positiveInt,
  field: 'model.factor',
} satisfies TrainOption<number>;
export const GROUPS = {
  name: 'groups',
  value: 'K|K1,K2',
  help: 'glstm: groups, one for all layers or one per layer (hierarchical)',
  reader: groupCounts,
  default: 2 as number | number[],
  field: 'model.groups',
} satisfies TrainOption<number | number[]>;
export const LAYERS = {
  name: 'layers',
  value: 'L',
  help: 'LSTM layers',
  reader: positiveInt,
  default: 2,
  field: 'model.layers',
} satisfies TrainOption<number>;
export const EMB = {
  name: 'emb',
  value: 'E',
  help: 'embedding size: the input size of layer 1',
  reader: positiveInt,
  default: 128,
  field: 'model.emb',
} satisfies TrainOption<number>;
export const HIDDEN = {
  name: 'hidden',
  value: 'N',
  help: 'cell size n of every layer',
  reader: positiveInt,
  default: 512,
  field: 'model.hidden',
} satisfies TrainOption<number>;
export const PROJ = {
  name: 'proj',
  value: 'P',
  help: 'projection size p, the output of each layer; 0 for none',
  reader: count,
  default: 128,
  field: 'model.proj',
} satisfies TrainOption<number>;
export const DROPOUT = {
  name: 'dropout',
  value: 'D',
  help: 'dropout after the embedding and each layer',
  reader: number((x) => x >= 0 && x < 1, 'a number in [0, 1)'),
  default: 0.1,
  field: 'model.dropout',
} satisfies TrainOption<number>;
export const PRECISION = {
  name: 'precision',
  help: "f16: the matmuls read f16 copies of the weight matrices and their inputs (f32 weights, gradients, optimizer and accumulation; needs shader-f16); auto: f16 where the adapter has shader-f16, else f32; with --resume the checkpoint's",
  reader: choice(['auto', 'f32', 'f16'] as const),
  default: 'auto' as 'auto' | 'f32' | 'f16',
  field: 'model.precision',
} satisfies TrainOption<'auto' | 'f32' | 'f16'>;

export const MODEL_OPTIONS: readonly TrainOption<any>[] = [CELL, FACTOR, GROUPS, LAYERS, EMB, HIDDEN, PROJ];

export const DATA = {
  name: 'data',
  value: 'SPEC',
  help: `the corpus: ${CORPUS_SPECS}`,
  reader: text(CORPUS_SPECS),
  default: 'brown',
  field: 'data',
} satisfies TrainOption<string>;
export const OPTIMIZER = {
  name: 'optimizer',
  help: 'adagrad (the paper: lr 0.2, accumulator 1.0), adam or sgd',
  reader: choice(OPTIMIZERS),
  default: 'adagrad' as TrainConfig['optimizer'],
  field: 'optimizer',
} satisfies TrainOption<TrainConfig['optimizer']>;
export const LR = {
  name: 'lr',
  value: 'LR',
  help: 'learning rate; may change on --resume',
  reader: number((x) => x > 0, 'a positive number'),
  defaultText: `${DEFAULT_LR.adagrad}; adam ${DEFAULT_LR.adam}; sgd ${DEFAULT_LR.sgd}`,
  field: 'lr',
} satisfies TrainOption<number>;

export const EMA = {
  name: 'ema',
  value: 'D',
  help: 'keep a moving average of the LSTM weights, avg = d avg + (1 - d) w after every step, d as --ema-schedule says (f-lm: 0.999), saved in the checkpoint; validation, eval and generate use it (0: none)',
  reader: number((x) => x >= 0 && x < 1, 'a number in [0, 1)'),
  defaultText: '0',
  field: 'ema',
} satisfies TrainOption<number>;
export const EMA_SCHEDULE = {
  name: 'ema-schedule',
  help: "with --ema D, the decay d at step t: warmup: min(D, (1+t)/(10+t)), TensorFlow's num_updates form, so that a short run's average is not its initial weights; fixed: D from the first step, f-lm's",
  reader: choice(['warmup', 'fixed'] as const),
  defaultText: 'warmup',
  field: 'emaSchedule',
} satisfies TrainOption<AverageSchedule>;

/** The words every built vocabulary reserves: --vocab-size leaves room for them and one word more. */
const RESERVED_WORDS = { brown: ['<unk>'], text: ['<unk>', '<eos>'] } as const;

const vocabSizeReader: Reader<number> = {
  read: (raw) => {
    const v = positiveInt.read(raw);
    return typeof v === 'number' && v > RESERVED_WORDS.brown.length
      ? v
      : { expected: `an integer of at least ${RESERVED_WORDS.brown.length + 1} (<unk> and one word)` };
  },
  text: String,
};

export const VOCAB_SIZE = {
  name: 'vocab-size',
  value: 'N',
  help: 'brown, text: at most N vocabulary entries (<unk> and <eos> included)',
  reader: vocabSizeReader,
  field: 'maxVocab',
} satisfies TrainOption<number>;
export const MIN_COUNT = {
  name: 'min-count',
  value: 'N',
  help: 'brown, text: keep words seen at least N times',
  defaultText: 'brown: 4, text: 1',
  reader: positiveInt,
  field: 'minCount',
} satisfies TrainOption<number>;
export const VOCAB_FILE = {
  name: 'vocab',
  value: 'FILE',
  help: "text: use this vocabulary ('word count' per line, with <unk> and <eos>)",
  reader: text('a file name'),
  field: 'vocabFile',
} satisfies TrainOption<string>;

/** The recipe and corpus: what a run's TrainConfig holds besides the model's sizes. */
export const RECIPE_OPTIONS: readonly TrainOption<any>[] = [
  DATA,
  { name: 'batch', value: 'B', help: 'independent streams', reader: positiveInt, default: 32, field: 'batch' },
  { name: 'bptt', value: 'T', help: 'steps per batch', reader: positiveInt, default: 20, field: 'bptt' },
  DROPOUT,
  OPTIMIZER,
  LR,
  {
    name: 'clip',
    value: 'C',
    help: "clip the LSTM weights' gradients to this global norm (0: none)",
    reader: number((x) => x >= 0, 'a number >= 0'),
    default: 1.0,
    field: 'clip',
  },
  {
    name: 'sampled',
    value: 'S',
    help: "sampled softmax with S samples (0: full softmax); an S given must be fewer than the vocabulary's words, while the default (or a preset's) becomes 0 when the vocabulary has that many words or fewer",
    reader: count,
    default: 512,
    field: 'sampled',
  },
  EMA,
  EMA_SCHEDULE,
  PRECISION,
  { name: 'seed', value: 'S', help: 'seed of the weights, samples and dropout masks', reader: count, default: 1, field: 'seed' },
  VOCAB_SIZE,
  MIN_COUNT,
  VOCAB_FILE,
];

export const EVAL_EVERY = {
  name: 'eval-every',
  value: 'N',
  help: 'validate every N steps: metrics.jsonl, the chart, and the best checkpoint kept in RUN/best',
  defaultText: 'only at the end',
  reader: positiveInt,
  field: 'validation.every',
} satisfies TrainOption<number>;
export const EVAL_TOKENS = {
  name: 'eval-tokens',
  value: 'N',
  help: 'validation tokens of each validation, during training and at the end (0: no validation at the end)',
  defaultText: 'the whole split',
  reader: count,
  field: 'validation.tokens',
} satisfies TrainOption<number>;
export const PATIENCE = {
  name: 'patience',
  value: 'K',
  help: 'with --eval-every: stop after K validations in a row without a new best',
  defaultText: 'never',
  reader: positiveInt,
  field: 'validation.patience',
} satisfies TrainOption<number>;
export const LR_DECAY = {
  name: 'lr-decay',
  value: 'F',
  help: 'with --eval-every: multiply the learning rate by F after a validation without a new best',
  defaultText: 'never',
  reader: number((x) => x > 0 && x < 1, 'a number in (0, 1)'),
  field: 'validation.lrDecay',
} satisfies TrainOption<number>;
export const BEST = {
  name: 'best',
  value: 'DIR',
  help: 'with --eval-every: the folder of the best checkpoint',
  defaultText: 'RUN/best',
  reader: text('a folder'),
} satisfies TrainOption<string>;

export const VALIDATION_OPTIONS: readonly TrainOption<any>[] = [EVAL_EVERY, EVAL_TOKENS, PATIENCE, LR_DECAY, BEST];

/** Every option stored in a TrainConfig. */
export const CONFIG_OPTIONS: readonly TrainOption<any>[] = [...MODEL_OPTIONS, ...RECIPE_OPTIONS, ...VALIDATION_OPTIONS].filter(
  (o) => o.field,
);

/** The flag of each configuration field ('model.hidden' -> '--hidden'), for messages. */
export const OPTION_NAMES: Readonly<Record<string, string>> = Object.fromEntries(CONFIG_OPTIONS.map((o) => [o.field!, `--${o.name}`]));

function rethrowAs(cmd: string, err: unknown, prefix = ''): never {
  throw new UsageError((err as Error).message.replace(/^flstm: /, `flstm ${cmd}: ${prefix}`));
}

/** Reads --factor for a cell that takes it: always given (it has no default). */
function readFactor(values: Values, cmd: string): number {
  return readOption(values, cmd, { ...FACTOR, required: true })!;
}

/** Reads --groups for a cell that takes it: its default, or (`required`) given; one or one per layer. */
function readGroups(values: Values, cmd: string, stack: LstmStackSizes, required: boolean): number | number[] {
  const cell = stack.cell;
  const ks = readOption(values, cmd, required ? { ...GROUPS, default: undefined } : GROUPS);
  if (ks === undefined) throw new UsageError(`flstm ${cmd}: --cell ${cell} needs --groups K (or one K per layer, e.g. 4,8)`);
  if (Array.isArray(ks) && ks.length !== stack.layers) {
    throw new UsageError(
      `flstm ${cmd}: --groups ${values.groups} gives ${ks.length} group counts for ${stack.layers} layers (give one, or one per layer)`,
    );
  }
  return ks;
}

/** Each cell size option: its declaration and how a cell that takes it reads it. */
const SIZE_OPTION_READERS: {
  [K in SizeOption]: {
    decl: TrainOption<unknown>;
    read: (values: Values, cmd: string, stack: LstmStackSizes, required: boolean) => LstmStackSizes[K];
  };
} = {
  factor: { decl: FACTOR, read: readFactor },
  groups: { decl: GROUPS, read: readGroups },
};

/**
 * Each size option belongs to the cells whose entry names it (src/nn/cells.ts); a cell reads
 * its own. A cell whose option must always be given is pointed to it when another is given.
 */
function cellSizes(values: Values, cmd: string, stack: LstmStackSizes, required: boolean): void {
  const own = cellSpec(stack.cell).size;
  for (const name of SIZE_OPTION_NAMES) {
    if (name === own || values[name] === undefined) continue;
    const hint = own && SIZE_OPTION_READERS[own].decl.default === undefined ? ` (${stack.cell} takes --${own})` : `, not ${stack.cell}`;
    throw new UsageError(`flstm ${cmd}: --${name} applies only to --cell ${cellsSizedBy(name)}${hint}`);
  }
  if (own) (stack as Record<SizeOption, unknown>)[own] = SIZE_OPTION_READERS[own].read(values, cmd, stack, required);
}

/**
 * The model's sizes from the options, checked (usage errors name the layer and values).
 * `required`: the sizes have no defaults (`flstm params` states every one).
 */
export function stackFromOptions(values: Values, cmd: string, required = false): LstmStackSizes {
  const need = <T>(o: OptionDecl<T> & { default: T }): OptionDecl<T> => (required ? { ...o, default: undefined, required: true } : o);
  const stack: LstmStackSizes = {
    cell: readOption(values, cmd, need(CELL))!,
    layers: readOption(values, cmd, need(LAYERS))!,
    hiddenSize: readOption(values, cmd, need(HIDDEN))!,
    inputSize: readOption(values, cmd, need(EMB))!,
    projSize: readOption(values, cmd, required ? { ...PROJ, default: 0 } : PROJ),
  };
  cellSizes(values, cmd, stack, required);
  try {
    lstmStackLayers(stack);
  } catch (err) {
    rethrowAs(cmd, err);
  }
  return stack;
}

function validationFrom(values: Values, cmd: string): ValidationConfig | undefined {
  const every = readOption(values, cmd, EVAL_EVERY);
  if (every === undefined) {
    for (const o of [PATIENCE, LR_DECAY, BEST])
      if (values[o.name] !== undefined) throw new UsageError(`flstm ${cmd}: --${o.name} needs --eval-every N (validation during training)`);
    return undefined;
  }
  const tokens = readOption(values, cmd, EVAL_TOKENS);
  if (tokens === 0)
    throw new UsageError(
      `flstm ${cmd}: --eval-tokens 0 leaves nothing to validate every ${every} steps: give a positive count with --eval-every`,
    );
  const v: ValidationConfig = { every };
  if (tokens !== undefined) v.tokens = tokens;
  const patience = readOption(values, cmd, PATIENCE);
  if (patience !== undefined) v.patience = patience;
  const lrDecay = readOption(values, cmd, LR_DECAY);
  if (lrDecay !== undefined) v.lrDecay = lrDecay;
  return v;
}

/**
 * A factor past the break-even point gives a factored cell more parameters than the LSTM it
 * factors (the paper's point is fewer): refused for training, with the counts (`flstm params`
 * still counts it).
 */
function checkFactorSaves(stack: LstmStackSizes, cmd: string): void {
  if (stack.factor === undefined || !lstmStackLayers(stack).some((l) => cellSpec(l.cell).gates(l).kind === 'factored')) return;
  const count = (s: LstmStackSizes) => lstmStackParamCounts(s).reduce((a, b) => a + b, 0);
  const f = count(stack);
  const plain = count({ ...stack, cell: 'lstm', factor: undefined });
  if (f <= plain) return;
  const m = (n: number) => `${(n / 1e6).toFixed(2)}M`;
  throw new UsageError(
    `flstm ${cmd}: --factor ${stack.factor} gives the ${cellSpec(stack.cell).label} layers ${m(f)} parameters, ${(f / plain).toFixed(1)}x the ${m(plain)} of an LSTM of these sizes: ` +
      'a factorization saves parameters only for a smaller factor (see flstm params)',
  );
}

function modelFrom(values: Values, cmd: string): ModelConfig {
  const stack = stackFromOptions(values, cmd);
  checkFactorSaves(stack, cmd);
  const model: ModelConfig = {
    cell: stack.cell,
    layers: stack.layers,
    emb: stack.inputSize,
    hidden: stack.hiddenSize,
    proj: stack.projSize ?? 0,
    factor: stack.factor,
    groups: stack.groups as number | number[] | undefined,
    dropout: readOption(values, cmd, DROPOUT),
  };
  // auto is settled against the adapter once it is open (the configuration names f16 only).
  if (readOption(values, cmd, PRECISION) === 'f16') model.precision = 'f16';
  return model;
}

/** Sets the configuration field `field` ('model.hidden') of `cfg` to `v` (undefined: left out). */
function setField(cfg: Record<string, any>, field: string, v: unknown): void {
  if (v === undefined) return;
  const [head, tail] = field.split('.');
  if (tail === undefined) cfg[head] = v;
  else (cfg[head] ??= {})[tail] = v;
}

function getField(cfg: Record<string, any>, field: string): unknown {
  const [head, tail] = field.split('.');
  return tail === undefined ? cfg[head] : cfg[head]?.[tail];
}

/** --vocab-size against the corpus: a text corpus reserves <eos> too (the vocabulary's own check would name no option). */
export function checkVocabSize(data: string, maxVocab: number | undefined, cmd: string): void {
  if (maxVocab === undefined || parseCorpusSpec(data).kind !== 'text') return;
  const reserved = RESERVED_WORDS.text;
  if (maxVocab > reserved.length) return;
  throw new UsageError(
    `flstm ${cmd}: --vocab-size must be at least ${reserved.length + 1} for a text: corpus (${reserved.join(', ')} and one word), got ${maxVocab}`,
  );
}

/** The schedule of a configuration's moving average: none without one; fixed when the configuration predates the field. */
export function averageScheduleOf(c: Pick<TrainConfig, 'ema' | 'emaSchedule'>): AverageSchedule | undefined {
  return c.ema ? (c.emaSchedule ?? 'fixed') : undefined;
}

/** --ema and its schedule: the configuration names the schedule whenever it keeps an average. */
function averageFrom(cfg: TrainConfig, values: Values, cmd: string): void {
  if (cfg.ema) {
    cfg.emaSchedule ??= 'warmup';
    return;
  }
  delete cfg.ema; // no average (--ema 0): as a configuration without the field
  if (cfg.emaSchedule !== undefined)
    throw new UsageError(`flstm ${cmd}: --ema-schedule ${values['ema-schedule']} needs --ema D (a moving average to schedule)`);
}

/** The training configuration from the options (the defaults: a small G-LSTM on Brown). */
export function trainConfigFrom(given: Values, cmd = 'train'): TrainConfig {
  const values = withPreset(given, cmd);
  const data = readOption(values, cmd, DATA);
  try {
    parseCorpusSpec(data);
  } catch (err) {
    rethrowAs(cmd, err, '--data: ');
  }
  const cfg = { data, model: modelFrom(values, cmd) } as TrainConfig;
  for (const o of RECIPE_OPTIONS) {
    if (o === DATA || o === DROPOUT || o === PRECISION) continue; // in the model, or read above
    // The learning rate's default is the optimizer's (read before it: the table's order).
    const decl = o === LR ? { ...LR, default: DEFAULT_LR[cfg.optimizer] } : o;
    setField(cfg, o.field!, readOption(values, cmd, decl));
  }
  checkVocabSize(data, cfg.maxVocab, cmd);
  averageFrom(cfg, values, cmd);
  const validation = validationFrom(values, cmd);
  if (validation) cfg.validation = validation;
  return cfg;
}

/**
 * The option values that give `cfg` back through trainConfigFrom: a checkpoint's configuration
 * as the options a resume starts from.
 */
export function valuesFromConfig(cfg: TrainConfig): Values {
  const v: Values = {};
  for (const o of CONFIG_OPTIONS) {
    const value = getField(cfg, o.field!);
    if (value !== undefined) v[o.name] = o.reader!.text(value);
  }
  v.precision = cfg.model.precision ?? 'f32'; // absent in the configuration: f32 (auto settled)
  const schedule = averageScheduleOf(cfg); // absent in an older configuration with --ema: fixed
  if (schedule) v['ema-schedule'] = schedule;
  return v;
}

/** The configuration the options give with none set, overlaid by `fields` (the page's presets). */
export function defaultTrainConfig(overrides: { model?: Partial<ModelConfig> } & Partial<Omit<TrainConfig, 'model'>> = {}): TrainConfig {
  const base = trainConfigFrom({}, 'config');
  const model = { ...base.model, ...overrides.model };
  for (const name of SIZE_OPTION_NAMES) if (cellSpec(model.cell).size !== name) delete model[name];
  const lr = overrides.lr ?? DEFAULT_LR[overrides.optimizer ?? base.optimizer];
  return { ...base, ...overrides, model, lr };
}
