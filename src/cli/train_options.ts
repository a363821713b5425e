// The options of `flstm train` (and of `flstm compare`, which trains with them): the model,
// the corpus and the recipe become a TrainConfig; the run's limits and cadences become
// TrainOptions. With --resume the checkpoint's configuration supplies every option not given,
// so `--resume --out DIR` alone continues the run.
import * as fl from '../index.js';
import { lstmStackLayers, CELL_KINDS, type CellKind, type LstmStackSizes } from '../nn/params.js';
import { intOption, numOption, parseDuration, stringOption, UsageError, type OptionSpec, type Values } from './args.js';

export const MODEL_OPTIONS: OptionSpec[] = [
  { name: 'cell', value: 'lstm|flstm|glstm', help: 'the cell: LSTM(P), factorized F-LSTM or group G-LSTM (train: default glstm)' },
  { name: 'factor', value: 'R', help: 'flstm: the factorization size r (W = W2*W1, W1 has r columns)' },
  { name: 'groups', value: 'K|K1,K2', help: 'glstm: groups, one for all layers or one per layer (hierarchical; train: default 2)' },
  { name: 'layers', value: 'L', help: 'LSTM layers (train: default 2)' },
  { name: 'emb', value: 'E', help: 'embedding size: the input size of layer 1 (train: default 128)' },
  { name: 'hidden', value: 'N', help: 'cell size n of every layer (train: default 512)' },
  { name: 'proj', value: 'P', help: 'projection size p, the output of each layer; 0 for none (train: default 128)' },
];

/** The recipe and corpus: what a run's TrainConfig holds besides the model's sizes. */
export const RECIPE_OPTIONS: OptionSpec[] = [
  { name: 'data', value: 'SPEC', help: `the corpus: ${fl.data.CORPUS_SPECS} (default brown)` },
  { name: 'batch', value: 'B', help: 'independent streams (default 32)' },
  { name: 'bptt', value: 'T', help: 'steps per batch (default 20)' },
  { name: 'dropout', value: 'D', help: 'dropout after the embedding and each layer (default 0.1)' },
  { name: 'optimizer', value: 'adagrad|adam|sgd', help: 'adagrad (default; the paper: lr 0.2, accumulator 1.0), adam or sgd' },
  { name: 'lr', value: 'LR', help: 'learning rate (default 0.2; adam 0.002; sgd 1); may change on --resume' },
  { name: 'clip', value: 'C', help: "clip the LSTM weights' gradients to this global norm (default 1.0; 0: none)" },
  { name: 'sampled', value: 'S', help: 'sampled softmax with S samples (default 512; 0: full softmax)' },
  { name: 'precision', value: 'auto|f32|f16', help: "f16: the matmuls read f16 copies of the weight matrices and their inputs (f32 weights, gradients, optimizer and accumulation; needs shader-f16); auto (default): f16 where the adapter has shader-f16, else f32; with --resume the checkpoint's" },
  { name: 'seed', value: 'S', help: 'seed of the weights, samples and dropout masks (default 1)' },
  { name: 'vocab-size', value: 'N', help: 'brown, text: at most N vocabulary entries (<unk> and <eos> included)' },
  { name: 'min-count', value: 'N', help: 'brown, text: keep words seen at least N times (brown: 4, text: 1)' },
  { name: 'vocab', value: 'FILE', help: "text: use this vocabulary ('word count' per line, with <unk> and <eos>)" },
];

export const VALIDATION_OPTIONS: OptionSpec[] = [
  { name: 'eval-every', value: 'N', help: 'validate every N steps: metrics.jsonl, the chart, and the best checkpoint kept in RUN/best (default: only at the end)' },
  { name: 'eval-tokens', value: 'N', help: 'validation tokens of each validation, during training and at the end (default the whole split; 0: no validation at the end)' },
  { name: 'patience', value: 'K', help: 'with --eval-every: stop after K validations in a row without a new best (default: never)' },
  { name: 'lr-decay', value: 'F', help: 'with --eval-every: multiply the learning rate by F after a validation without a new best (default: never)' },
  { name: 'best', value: 'DIR', help: 'with --eval-every: the folder of the best checkpoint (default RUN/best)' },
];

export const RUN_OPTIONS: OptionSpec[] = [
  { name: 'steps', value: 'N', help: 'train until step N (counting steps before a resume)' },
  { name: 'time', value: 'LIMIT', help: 'train for this long, evaluation and saving not counted: 90s, 10m, 2h (default 5m when --steps is not given)' },
  { name: 'out', value: 'DIR', help: 'run folder: checkpoint, metrics.jsonl, chart.svg (default runs/train, or runs/train-2... when taken)' },
  { name: 'resume', help: "continue the run in --out from its checkpoint; options not given are the checkpoint's" },
  { name: 'log-every', value: 'N', help: 'steps between progress lines (default 20)' },
  { name: 'save-every', value: 'N', help: 'steps between checkpoints (default 500)' },
];

/** The model's sizes from the options, checked (usage errors name the layer and values). */
export function stackFromOptions(values: Values, cmd = 'params'): LstmStackSizes {
  const cellRaw = values.cell as string | undefined;
  if (cellRaw === undefined) throw new UsageError(`flstm ${cmd}: --cell is required (${CELL_KINDS.join(', ')})`);
  if (!(CELL_KINDS as readonly string[]).includes(cellRaw)) throw new UsageError(`flstm ${cmd}: --cell must be one of ${CELL_KINDS.join(', ')}, got '${cellRaw}'`);
  const cell = cellRaw as CellKind;
  const layers = intOption(values, cmd, 'layers', { required: true })!;
  const stack: LstmStackSizes = {
    cell, layers, hiddenSize: intOption(values, cmd, 'hidden', { required: true })!, inputSize: intOption(values, cmd, 'emb', { required: true })!,
    projSize: intOption(values, cmd, 'proj', { allowZero: true }) ?? 0,
  };
  if (cell === 'flstm') {
    if (values.groups !== undefined) throw new UsageError(`flstm ${cmd}: --groups applies only to --cell glstm (flstm takes --factor)`);
    stack.factor = intOption(values, cmd, 'factor', { required: true });
  } else if (values.factor !== undefined) {
    throw new UsageError(`flstm ${cmd}: --factor applies only to --cell flstm, not ${cell}`);
  }
  if (cell === 'glstm') stack.groups = groupsOption(values, cmd, layers);
  else if (values.groups !== undefined) throw new UsageError(`flstm ${cmd}: --groups applies only to --cell glstm, not ${cell}`);
  try {
    lstmStackLayers(stack);
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^flstm: /, `flstm ${cmd}: `));
  }
  return stack;
}

function groupsOption(values: Values, cmd: string, layers: number): number | number[] {
  const raw = values.groups as string | undefined;
  if (raw === undefined) throw new UsageError(`flstm ${cmd}: --cell glstm needs --groups K (or one K per layer, e.g. 4,8)`);
  const ks = raw.split(',').map((p) => (/^\d+$/.test(p.trim()) ? Number(p.trim()) : NaN));
  if (ks.some((k) => !Number.isSafeInteger(k) || k < 1)) {
    throw new UsageError(`flstm ${cmd}: --groups must be a positive integer or a comma-separated list of them (one per layer), got '${raw}'`);
  }
  if (ks.length > 1 && ks.length !== layers) throw new UsageError(`flstm ${cmd}: --groups ${raw} gives ${ks.length} group counts for ${layers} layers (give one, or one per layer)`);
  return ks.length === 1 ? ks[0] : ks;
}

/** --precision: auto (the default), f32 or f16. */
export function precisionChoice(values: Values, cmd = 'train'): 'auto' | 'f32' | 'f16' {
  const raw = (values.precision as string | undefined) ?? 'auto';
  if (raw !== 'auto' && raw !== 'f32' && raw !== 'f16') throw new UsageError(`flstm ${cmd}: --precision must be auto, f32 or f16, got '${raw}'`);
  return raw;
}

function validationFrom(values: Values, cmd: string): fl.train.ValidationConfig | undefined {
  const every = intOption(values, cmd, 'eval-every');
  if (every === undefined) {
    for (const k of ['patience', 'lr-decay', 'best']) if (values[k] !== undefined) throw new UsageError(`flstm ${cmd}: --${k} needs --eval-every N (validation during training)`);
    return undefined;
  }
  const tokens = intOption(values, cmd, 'eval-tokens', { allowZero: true });
  if (tokens === 0) throw new UsageError(`flstm ${cmd}: --eval-tokens 0 leaves nothing to validate every ${every} steps: give a positive count with --eval-every`);
  const v: fl.train.ValidationConfig = { every };
  if (tokens !== undefined) v.tokens = tokens;
  const patience = intOption(values, cmd, 'patience');
  if (patience !== undefined) v.patience = patience;
  const lrDecay = numOption(values, cmd, 'lr-decay', undefined, (x) => x > 0 && x < 1, 'a number in (0, 1)');
  if (lrDecay !== undefined) v.lrDecay = lrDecay;
  return v;
}

function dataOption(values: Values, cmd: string): string {
  const data = (values.data as string | undefined) ?? 'brown';
  try {
    fl.data.parseCorpusSpec(data);
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^flstm: /, `flstm ${cmd}: --data: `));
  }
  return data;
}

/** The training configuration from the options (defaults: a small G-LSTM on Brown). */
export function trainConfigFrom(values: Values, cmd = 'train'): fl.train.TrainConfig {
  const v: Values = { cell: 'glstm', layers: '2', emb: '128', hidden: '512', proj: '128', ...values };
  if (v.cell === 'glstm' && v.groups === undefined) v.groups = '2';
  const stack = stackFromOptions(v, cmd);
  const optimizer = ((values.optimizer as string | undefined) ?? 'adagrad') as fl.train.TrainConfig['optimizer'];
  if (!['adagrad', 'adam', 'sgd'].includes(optimizer)) throw new UsageError(`flstm ${cmd}: --optimizer must be adagrad, adam or sgd, got '${optimizer}'`);
  const defaultLr = optimizer === 'adagrad' ? 0.2 : optimizer === 'adam' ? 0.002 : 1;
  const cfg: fl.train.TrainConfig = {
    data: dataOption(values, cmd),
    model: {
      cell: stack.cell, layers: stack.layers, emb: stack.inputSize, hidden: stack.hiddenSize, proj: stack.projSize ?? 0,
      factor: stack.factor, groups: stack.groups as number | number[] | undefined,
      dropout: numOption(values, cmd, 'dropout', 0.1, (x) => x >= 0 && x < 1, 'a number in [0, 1)'),
      ...(precisionChoice(values, cmd) === 'f16' ? { precision: 'f16' as const } : {}),
    },
    batch: intOption(values, cmd, 'batch') ?? 32,
    bptt: intOption(values, cmd, 'bptt') ?? 20,
    optimizer,
    lr: numOption(values, cmd, 'lr', defaultLr, (x) => x > 0, 'a positive number'),
    clip: numOption(values, cmd, 'clip', 1.0, (x) => x >= 0, 'a number >= 0'),
    sampled: intOption(values, cmd, 'sampled', { allowZero: true }) ?? 512,
    seed: intOption(values, cmd, 'seed', { allowZero: true }) ?? 1,
    maxVocab: intOption(values, cmd, 'vocab-size'),
    minCount: intOption(values, cmd, 'min-count'),
    vocabFile: stringOption(values, cmd, 'vocab', { what: 'a file name' }),
  };
  const validation = validationFrom(values, cmd);
  if (validation) cfg.validation = validation;
  return cfg;
}

/**
 * The option values that give `cfg` back through trainConfigFrom: a checkpoint's configuration
 * as the options a resume starts from.
 */
export function valuesFromConfig(cfg: fl.train.TrainConfig): Values {
  const m = cfg.model;
  const v: Values = {
    data: cfg.data, cell: m.cell, layers: String(m.layers), emb: String(m.emb), hidden: String(m.hidden), proj: String(m.proj),
    dropout: String(m.dropout), precision: m.precision ?? 'f32', batch: String(cfg.batch), bptt: String(cfg.bptt), optimizer: cfg.optimizer,
    lr: String(cfg.lr), clip: String(cfg.clip), sampled: String(cfg.sampled), seed: String(cfg.seed),
  };
  if (m.factor !== undefined) v.factor = String(m.factor);
  if (m.groups !== undefined) v.groups = Array.isArray(m.groups) ? m.groups.join(',') : String(m.groups);
  if (cfg.maxVocab !== undefined) v['vocab-size'] = String(cfg.maxVocab);
  if (cfg.minCount !== undefined) v['min-count'] = String(cfg.minCount);
  if (cfg.vocabFile !== undefined) v.vocab = cfg.vocabFile;
  const val = cfg.validation;
  if (val) {
    v['eval-every'] = String(val.every);
    if (val.tokens !== undefined) v['eval-tokens'] = String(val.tokens);
    if (val.patience !== undefined) v.patience = String(val.patience);
    if (val.lrDecay !== undefined) v['lr-decay'] = String(val.lrDecay);
  }
  return v;
}

/**
 * The options of a resumed run: the checkpoint's, overlaid by those given. A given option
 * that contradicts the checkpoint is refused later, by the trainer, naming each one.
 */
export async function resumeValues(values: Values, ckDir: string): Promise<Values> {
  const saved = await fl.train.readCheckpointConfig<{ train?: fl.train.TrainConfig }>(ckDir);
  if (!saved?.train?.model) return values; // no checkpoint: the trainer says so
  const base = valuesFromConfig(saved.train);
  // --precision auto means "the checkpoint's" on a resume; another --cell comes without the
  // saved cell's factor or groups (the differences are then named, not a usage error).
  const given = { ...values };
  if (given.precision === 'auto') delete given.precision;
  if (given.cell !== undefined && given.cell !== base.cell) {
    delete base.factor;
    delete base.groups;
  }
  return { ...base, ...given };
}

/**
 * The precision a new run trains with; the configuration names it only when it is f16. auto:
 * f16 where the adapter has shader-f16, else f32. Needs fl.init().
 */
export function resolvePrecision(cfg: fl.train.TrainConfig, choice: 'auto' | 'f32' | 'f16'): void {
  if (choice === 'auto' && fl.info().features.includes('shader-f16')) cfg.model.precision = 'f16';
}

/** The run's limits: --steps and/or --time (default 5 minutes when neither is given). */
export function limitsFrom(values: Values, cmd: string): { steps?: number; seconds?: number } {
  const steps = intOption(values, cmd, 'steps');
  let seconds = values.time !== undefined ? parseDuration(String(values.time), cmd) : undefined;
  if (steps === undefined && seconds === undefined) seconds = 300;
  return { steps, seconds };
}
