// The schema of what a checkpoint's files hold, checked when a checkpoint is read: the
// manifest (config.json), a language model's configuration (config.json's "config", and its
// copy in the model file's metadata), the tensors that configuration implies, the optimizer
// state and the vocabulary. A damaged or hand-edited file is refused with one message,
// `flstm: <file>: <field> must be <expected>, got <value>`, before anything is built from it:
// never a raw JS error later, nor a model allocated from a size nobody trained.
// Pure: no file access (checkpoint.ts reads the files, the page may check what it opened).
import type { CheckpointConfig, TrainConfig } from './config.js';
import { CONFIG_OPTIONS } from '../options/train.js';
import type { Reader } from '../options/declare.js';
import { lstmStackLayers } from '../nn/params.js';
import { cellSpec, CELL_KINDS, SIZE_OPTION_NAMES } from '../nn/cells.js';
import { lstmOutputSize, stackSizesOf, type LstmLayerSizes } from '../nn/sizes.js';
import { Vocabulary } from '../data/vocab.js';
import { jsonProblem } from './safetensors.js';
import { AVERAGE_PREFIX } from '../optim/moving_average.js';

/** A checkpoint file whose content is not what flstm wrote. */
export class CheckpointSchemaError extends Error {
  constructor(message: string) {
    super(message.startsWith('flstm') ? message : `flstm: ${message}`);
    this.name = 'CheckpointSchemaError';
  }
}

export type Obj = Record<string, unknown>;
export const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A value for a message: JSON, shortened; a missing field says so (never "undefined"). */
export function shown(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function schemaFail(file: string, field: string, expected: string, got: unknown): never {
  throw new CheckpointSchemaError(`flstm: ${file}: ${field} must be ${expected}, got ${shown(got)}`);
}

const isInt = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

/** An integer field of at least `min` (0: non-negative, 1: positive). */
export function checkInt(file: string, field: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!isInt(v, min) || v > max)
    schemaFail(file, field, min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`, v);
  return v as number;
}

/** A finite number field of at least `min`. */
export function checkNumber(file: string, field: string, v: unknown, min = -Infinity, exclusive = false): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && (exclusive ? v > min : v >= min);
  if (!ok) schemaFail(file, field, min === -Infinity ? 'a finite number' : `a finite number ${exclusive ? '>' : '>='} ${min}`, v);
  return v as number;
}

function checkObject(file: string, field: string, v: unknown): Obj {
  if (!isObject(v)) schemaFail(file, field, 'an object', v);
  return v as Obj;
}

export { jsonProblem };

/** JSON text parsed, or one message naming the file and field. */
export function parseJson(file: string, field: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointSchemaError(`flstm: ${file}: ${field} must be valid JSON, got ${jsonProblem(e)}`);
  }
}

// ---- the training configuration, field by field through the option table ----

/** The TrainConfig fields a saved configuration always has (the rest are optional). */
const REQUIRED = new Set([
  'data',
  'model.cell',
  'model.layers',
  'model.emb',
  'model.hidden',
  'model.proj',
  'model.dropout',
  'batch',
  'bptt',
  'optimizer',
  'lr',
  'clip',
  'sampled',
  'seed',
  'validation.every',
]);

/** The option text a stored value comes from: what the option's reader would have read. */
function optionText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number')) return v.join(',');
  return null;
}

/** Null when the option's reader gives `v` back from its text; else what the option expects. */
function readerRefuses(reader: Reader<unknown>, v: unknown): string | null {
  // read('') refuses for every reader: its "expected" says what a value must be.
  const expected = (reader.read('') as { expected: string }).expected;
  const raw = optionText(v);
  if (raw === null) return expected;
  const r = reader.read(raw);
  if (isObject(r) && typeof r.expected === 'string') return r.expected;
  return JSON.stringify(r) === JSON.stringify(v) ? null : expected;
}

function checkOption(file: string, at: string, field: string, holder: Obj): void {
  const o = CONFIG_OPTIONS.find((x) => x.field === field)!;
  const key = field.split('.').at(-1)!;
  const v = holder[key];
  if (v === undefined && !REQUIRED.has(field)) return;
  const why = readerRefuses(o.reader!, v);
  if (why !== null) schemaFail(file, `${at}.${field}`, `${why} (as --${o.name} takes)`, v);
}

/** More layers than any model trains (the paper's deepest has 2); a larger count is damage. */
const MAX_LAYERS = 1024;

/** The model's sizes: each field as its option reads it, then the layers they make. */
function checkModelSizes(file: string, at: string, model: Obj): void {
  const sizes = stackSizesOf(model as unknown as Parameters<typeof stackSizesOf>[0]);
  // Checked before the layers are listed: a corrupt count (2^40) must not make a list that long.
  if (typeof sizes.layers === 'number' && sizes.layers > MAX_LAYERS)
    schemaFail(file, `${at}.model.layers`, `at most ${MAX_LAYERS}`, sizes.layers);
  // Each cell's own size option (F-LSTM's factor, G-LSTM's groups), and no other.
  for (const key of SIZE_OPTION_NAMES) {
    const owners = CELL_KINDS.filter((c) => cellSpec(c).size === key);
    const owns = owners.includes(sizes.cell);
    if (owns && model[key] === undefined) schemaFail(file, `${at}.model.${key}`, `given (a ${sizes.cell} has ${key})`, undefined);
    if (!owns && model[key] !== undefined)
      schemaFail(file, `${at}.model.${key}`, `absent (only a ${owners.join(' or a ')} has ${key}; this cell is ${sizes.cell})`, model[key]);
  }
  try {
    lstmStackLayers(sizes);
  } catch (e) {
    const why = (e as Error).message.replace(/^flstm: /, '').replace(/\bundefined\b/g, 'nothing');
    schemaFail(file, `${at}.model`, `sizes that make a model (${why})`, model);
  }
}

/** config.train: every field of TrainConfig with its option's type and range. */
export function checkTrainConfig(file: string, at: string, train: unknown): TrainConfig {
  const t = checkObject(file, at, train);
  const model = checkObject(file, `${at}.model`, t.model);
  if (t.validation !== undefined) checkObject(file, `${at}.validation`, t.validation);
  for (const o of CONFIG_OPTIONS) {
    const [head, tail] = o.field!.split('.');
    if (tail === undefined) checkOption(file, at, o.field!, t);
    else if (head === 'model') checkOption(file, at, o.field!, model);
    else if (t[head] !== undefined) checkOption(file, at, o.field!, t[head] as Obj);
  }
  checkModelSizes(file, at, model);
  return t as unknown as TrainConfig;
}

function checkLossStep(file: string, field: string, v: unknown): void {
  if (v === undefined) return;
  const o = checkObject(file, field, v);
  checkNumber(file, `${field}.loss`, o.loss);
  checkInt(file, `${field}.step`, o.step, 0);
}

function checkSchedule(file: string, at: string, v: unknown): void {
  if (v === undefined) return;
  const s = checkObject(file, at, v);
  checkNumber(file, `${at}.lr`, s.lr, 0, true);
  checkInt(file, `${at}.sinceBest`, s.sinceBest, 0);
  checkLossStep(file, `${at}.best`, s.best);
  checkLossStep(file, `${at}.kept`, s.kept);
}

function checkFileIdentity(file: string, at: string, v: unknown): void {
  const f = checkObject(file, at, v);
  if (typeof f.path !== 'string' || f.path === '') schemaFail(file, `${at}.path`, 'a file path', f.path);
  checkInt(file, `${at}.bytes`, f.bytes, 0);
  if (typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256))
    schemaFail(file, `${at}.sha256`, 'a SHA-256 in 64 hex digits', f.sha256);
}

/** config.corpus (optional): the identity of a text or lm1b corpus (data/identity.ts), of the kind config.train.data names. */
function checkCorpusIdentity(file: string, at: string, v: unknown, data: string): void {
  if (v === undefined) return;
  const c = checkObject(file, at, v);
  const kind = /^(text|lm1b):/.exec(data)?.[1];
  if (c.kind !== kind)
    schemaFail(
      file,
      `${at}.kind`,
      kind ? `"${kind}" (as config.train.data is)` : `absent (config.train.data ${shown(data)} records none)`,
      c.kind,
    );
  if (kind === 'lm1b') {
    if (typeof c.dir !== 'string' || c.dir === '') schemaFail(file, `${at}.dir`, 'a directory path', c.dir);
    checkInt(file, `${at}.trainShards`, c.trainShards, 1);
    checkInt(file, `${at}.trainBytes`, c.trainBytes, 1);
    return;
  }
  if (!Array.isArray(c.files) || c.files.length < 1 || c.files.length > 3)
    schemaFail(file, `${at}.files`, '1 to 3 files (train, valid, test)', c.files);
  (c.files as unknown[]).forEach((f, i) => checkFileIdentity(file, `${at}.files.${i}`, f));
}

/** A language model's configuration (config.json's "config", or the model file's flstm.config). */
export function checkLmConfig(file: string, at: string, config: unknown): CheckpointConfig {
  const c = checkObject(file, at, config);
  if (c.format !== 'flstm-lm/1') schemaFail(file, `${at}.format`, '"flstm-lm/1"', c.format);
  const train = checkTrainConfig(file, `${at}.train`, c.train);
  const vocabSize = checkInt(file, `${at}.vocabSize`, c.vocabSize, 1);
  for (const k of ['step', 'epoch', 'batchIndex'] as const) checkInt(file, `${at}.${k}`, c[k], 0);
  checkInt(file, `${at}.stateLayers`, c.stateLayers, 0, train.model.layers);
  if (c.stateLayers !== 0 && c.stateLayers !== train.model.layers)
    schemaFail(file, `${at}.stateLayers`, `0 or config.train.model.layers (${train.model.layers})`, c.stateLayers);
  for (const k of ['seconds', 'otherSeconds'] as const) if (c[k] !== undefined) checkNumber(file, `${at}.${k}`, c[k], 0);
  checkSchedule(file, `${at}.schedule`, c.schedule);
  if (c.world !== undefined) checkInt(file, `${at}.world`, c.world, 1);
  checkCorpusIdentity(file, `${at}.corpus`, c.corpus, train.data);
  if (train.sampled >= vocabSize) schemaFail(file, `${at}.train.sampled`, `0 or fewer than ${at}.vocabSize (${vocabSize})`, train.sampled);
  return c as unknown as CheckpointConfig;
}

// ---- the tensors a configuration implies ----

/** The rnn.layers.<l>.* shapes of one layer (as nn/lstm.ts registers them). */
function layerShapes(l: number, s: LstmLayerSizes, out: Map<string, number[]>): void {
  const n = s.hiddenSize;
  const at = `rnn.layers.${l}.`;
  for (const [name, shape] of cellSpec(s.cell).weightShapes(s)) out.set(`${at}${name}`, shape);
  out.set(`${at}b`, [4 * n]);
  if (s.projSize > 0) out.set(`${at}P`, [n, s.projSize]);
}

/**
 * Every tensor of a model file saved with `c`, by name: the weights, the moving averages
 * (`ema.rnn.*`, with train.ema) and the carried state (`state.<l>.h|c`, stateLayers of them).
 */
export function lmTensorShapes(c: CheckpointConfig): Map<string, number[]> {
  const m = c.train.model;
  const V = c.vocabSize;
  const stack = stackSizesOf(m);
  const p = lstmOutputSize(stack);
  const out = new Map<string, number[]>([
    ['embedding', [V, m.emb]],
    ['softmax_w', [V, p]],
    ['softmax_b', [V]],
  ]);
  const layers = lstmStackLayers(stack);
  layers.forEach((s, l) => layerShapes(l, s, out));
  if (c.train.ema) for (const [k, v] of [...out]) if (k.startsWith('rnn.')) out.set(`${AVERAGE_PREFIX}${k}`, v);
  // The carried state of every stream of the global batch (world x batch of them).
  const streams = c.train.batch * (c.world ?? 1);
  for (let l = 0; l < c.stateLayers; l++) {
    out.set(`state.${l}.h`, [streams, p]);
    out.set(`state.${l}.c`, [streams, m.hidden]);
  }
  return out;
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/** A model file's entries: the weights, the carried state (`state.*`) and the moving averages (`ema.*`). */
export function modelFileParts<E>(entries: Record<string, E>): {
  weights: Record<string, E>;
  state: Record<string, E>;
  averages: Record<string, E>;
} {
  const parts = { weights: {} as Record<string, E>, state: {} as Record<string, E>, averages: {} as Record<string, E> };
  for (const [k, v] of Object.entries(entries))
    (k.startsWith('state.') ? parts.state : k.startsWith(AVERAGE_PREFIX) ? parts.averages : parts.weights)[k] = v;
  return parts;
}

/** The model file's tensors are exactly those the configuration implies, each of its shape, every value finite. */
export function checkModelTensors(
  file: string,
  tensors: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>,
  config: CheckpointConfig,
  configFile: string,
): void {
  checkModelTensorShapes(file, tensors, config, configFile);
  for (const [name, t] of Object.entries(tensors)) checkFiniteWeights(file, name, t.data);
}

/** The model file's tensors are exactly those the configuration implies, each of its shape (their values unread). */
export function checkModelTensorShapes(
  file: string,
  tensors: Record<string, { shape: readonly number[] }>,
  config: CheckpointConfig,
  configFile: string,
): void {
  const want = lmTensorShapes(config);
  for (const [name, shape] of want) {
    const t = Object.prototype.hasOwnProperty.call(tensors, name) ? tensors[name] : undefined;
    if (!t) schemaFail(file, `tensor '${name}'`, `present (${configFile} describes a model with it, of shape ${fmt(shape)})`, undefined);
    if (fmt(t.shape) !== fmt(shape))
      schemaFail(file, `tensor '${name}'`, `of shape ${fmt(shape)} (as ${configFile} describes the model)`, t.shape);
  }
  for (const name of Object.keys(tensors)) {
    if (!want.has(name))
      schemaFail(file, `tensor '${name}'`, `absent (${configFile} describes a model without it)`, fmt(tensors[name].shape));
  }
}

/**
 * The trainer never saves a non-finite weight, average or state: one means a damaged file.
 * `data` is the tensor's values from index `offset` on (a whole tensor, or a piece of one
 * loaded a piece at a time: the index named is the tensor's).
 */
export function checkFiniteWeights(file: string, name: string, data: ArrayLike<number>, offset = 0): void {
  const bad = impossibleState('', data);
  // The wording flstm has always used for it (scripts and tests match it).
  if (bad)
    throw new CheckpointSchemaError(
      `flstm: ${file} is corrupt: '${name}' holds ${bad.value} at index ${offset + bad.index} (a trained weight is a finite number)`,
    );
}

// ---- the optimizer file ----

const SLOTS: Record<string, readonly string[]> = { adagrad: ['acc'], adam: ['m', 'v'], sgd: [] };
/** State slots that can never be negative: Adagrad's sum of squares, Adam's second moment. */
const NON_NEGATIVE = new Set(['acc', 'v']);

/** The optimizer's scalars ("flstm.scalars"), as Optimizer.stateDict writes them. */
export function checkOptimizerScalars(file: string, scalars: unknown, kind?: string): void {
  const at = 'metadata flstm.scalars';
  const s = checkObject(file, at, scalars);
  if (typeof s.kind !== 'string' || !(s.kind in SLOTS)) schemaFail(file, `${at}.kind`, 'one of "adagrad", "adam", "sgd"', s.kind);
  if (kind !== undefined && s.kind !== kind) schemaFail(file, `${at}.kind`, `"${kind}" (the configuration's optimizer)`, s.kind);
  for (const k of ['step', 'nonFiniteSteps', 'attempts']) checkInt(file, `${at}.${k}`, s[k], 0, 0xffffffff);
  for (const k of ['beta1Power', 'beta2Power']) {
    const v = s[k];
    if (typeof v !== 'number' || !(v > 0 && v <= 1)) schemaFail(file, `${at}.${k}`, 'a number in (0, 1]', v);
  }
  const options = checkObject(file, `${at}.options`, s.options);
  for (const [k, v] of Object.entries(options)) checkNumber(file, `${at}.options.${k}`, v);
}

/** The first value a state tensor cannot hold (NaN, Inf, a negative sum of squares), or null. */
function impossibleState(slot: string, data: ArrayLike<number>): { index: number; value: number; expected: string } | null {
  const nonNegative = NON_NEGATIVE.has(slot);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v) || (nonNegative && v < 0))
      return { index: i, value: v, expected: nonNegative ? 'a finite, non-negative number' : 'a finite number' };
  }
  return null;
}

/**
 * The optimizer's tensors: `<weight>.<slot>` for every weight and slot of its kind, F32, of
 * the weight's shape, with values the optimizer can hold. An entry without `data` (its file
 * opened, not read: `dtype` says its type) has its values checked as they are read
 * (checkOptimizerValues).
 */
export function checkOptimizerTensors(
  file: string,
  tensors: Record<string, { shape: readonly number[]; data?: ArrayLike<number>; dtype?: string }>,
  kind: string,
  weights: ReadonlyMap<string, readonly number[]>,
): void {
  const want = new Map<string, readonly number[]>();
  for (const [w, shape] of weights) for (const slot of SLOTS[kind] ?? []) want.set(`${w}.${slot}`, shape);
  for (const [name, shape] of want) {
    const t = Object.prototype.hasOwnProperty.call(tensors, name) ? tensors[name] : undefined;
    if (!t) schemaFail(file, `tensor '${name}'`, `present (a ${kind} state tensor of the model's weight)`, undefined);
    // The array type a whole read gives a tensor of each dtype, as the message has always named it.
    const type = t.data ? t.data.constructor.name : t.dtype === 'F32' ? 'Float32Array' : 'Int32Array';
    if (type !== 'Float32Array') schemaFail(file, `tensor '${name}'`, 'F32', type);
    if (fmt(t.shape) !== fmt(shape)) schemaFail(file, `tensor '${name}'`, `of the weight's shape ${fmt(shape)}`, t.shape);
    if (t.data) checkOptimizerValues(file, name, kind, t.data);
  }
  for (const name of Object.keys(tensors))
    if (!want.has(name)) schemaFail(file, `tensor '${name}'`, `absent (${kind} keeps no such state)`, fmt(tensors[name].shape));
}

/** Values of optimizer state tensor `name` from index `offset` on (the whole, or a piece) are ones the optimizer can hold. */
export function checkOptimizerValues(file: string, name: string, kind: string, data: ArrayLike<number>, offset = 0): void {
  const bad = impossibleState(name.slice(name.lastIndexOf('.') + 1), data);
  if (bad) schemaFail(file, `tensor '${name}' at index ${offset + bad.index}`, `${bad.expected} (the ${kind} state)`, bad.value);
}

// ---- the vocabulary ----

/** The vocabulary text parsed (line format, duplicates), with exactly `vocabSize` words. */
export function checkVocabulary(file: string, text: string, vocabSize: number, configFile: string): Vocabulary {
  const vocab = Vocabulary.parse(text, { source: file });
  if (vocab.size !== vocabSize)
    schemaFail(file, 'the word count', `${vocabSize} (config.vocabSize in ${configFile}), one word per line`, vocab.size);
  return vocab;
}

/** JSON values equal as data (key order aside). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameJson(a[k], b[k]));
}
