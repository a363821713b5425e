// Checkpoints (Node only): a directory holding
//
//   config.json                  the manifest and commit point (below)
//   model-<G>.safetensors        the weights, F32, by dotted parameter name
//                                (its metadata also holds the config and vocabulary, so the
//                                file alone is a self-contained model: bundle.ts)
//   optimizer-<G>.safetensors    optimizer state tensors; its scalars (step counts...) as JSON
//                                in the metadata entry "flstm.scalars"   (optional)
//   vocab-<G>.txt                the vocabulary, as the trainer formats it (optional)
//
// where G is the generation, one more than any generation already in the directory.
// config.json = { format: "flstm-checkpoint", version: 1, generation: G, savedAt,
// files: { model, optimizer?, vocab? }, config: <the trainer's JSON object> }.
//
// Consistency: each data file of a new generation is written to a temporary file in the same
// directory, fsynced and renamed to its new (versioned) name, so it never replaces a file the
// current config.json points at. config.json itself is written the same way, last: its
// rename is the single commit point. A crash before it leaves the previous config.json and
// every file it names untouched (the previous checkpoint loads as before); a crash after it
// leaves the new checkpoint complete. Only after the commit are the previous generation's
// files and stale temporary files removed (best effort; the next save removes leftovers).
// A reader that races a save re-reads config.json when a file it names has just been removed.
// One writer per directory at a time.
import { open, readFile, readdir, rename, stat, unlink, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { StateDict } from '../nn/module.js';
import {
  layoutSafetensors,
  safetensorsStream,
  type DecodedSafetensors,
  type SafeTensorInput,
  type SafetensorsLayout,
  type StreamedTensorInput,
} from './safetensors.js';
import { openSafetensorsFile, readSafetensorsFile, writeChunks, type FileTensor } from './safetensors_file.js';
import { bundleMetadata, bundleOfMetadata, BUNDLE_CONFIG_KEY, BUNDLE_VOCAB_KEY } from './bundle.js';
import {
  checkInt,
  checkLmConfig,
  checkFiniteWeights,
  checkModelTensorShapes,
  checkOptimizerScalars,
  checkOptimizerTensors,
  checkVocabulary,
  isObject,
  jsonProblem,
  lmTensorShapes,
  parseJson,
  sameJson,
  schemaFail,
  shown,
} from './checkpoint_schema.js';
import type { Vocabulary } from '../data/vocab.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Optimizer state: named tensors (F32 or I32 by their array type) and JSON scalars. */
export interface OptimizerState {
  tensors: Record<string, { shape: number[]; data: Float32Array | Int32Array }>;
  scalars: Record<string, JsonValue>;
}

export interface Checkpoint<C = unknown> {
  model: StateDict;
  optimizer?: OptimizerState;
  /** Anything JSON can hold exactly (no NaN, Infinity, undefined in arrays, BigInt, cycles). */
  config: C;
  vocab?: string;
}

/**
 * What saveCheckpoint writes: a Checkpoint, whose tensors may also be streamed (read a piece
 * at a time as their file is written, safetensors.ts StreamedTensorInput), so that a large
 * model's weights and optimizer state are never whole on the host. Weights are F32.
 */
export interface CheckpointToSave<C = unknown> {
  model: Record<string, StateDict[string] | StreamedTensorInput>;
  optimizer?: {
    tensors: Record<string, OptimizerState['tensors'][string] | StreamedTensorInput>;
    scalars: Record<string, JsonValue>;
  };
  config: C;
  vocab?: string;
}

export interface LoadedCheckpoint<C = unknown> extends Checkpoint<C> {
  generation: number;
  savedAt: string;
  /** File names inside the directory, as config.json names them. */
  files: CheckpointFiles;
}

export interface CheckpointFiles {
  model: string;
  optimizer?: string;
  vocab?: string;
}

/** A step of a save, given to `SaveOptions.beforeStep` (tests inject failures there). */
export interface SaveStep {
  action: 'write' | 'rename';
  /** The final path of the file (the temporary file is next to it). */
  file: string;
}

export interface SaveOptions {
  /** Called before each file is written and before each rename; a throw aborts the save. */
  beforeStep?: (step: SaveStep) => void | Promise<void>;
  /** Hears the bytes of the checkpoint's files written so far and their total, as the writing goes (a large model takes a while). */
  onBytes?: (written: number, total: number) => void;
  /** The most bytes of a tensor read and written at a time (default 64 MiB): a streamed tensor's host piece. */
  pieceBytes?: number;
}

export class CheckpointError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message.startsWith('flstm') ? message : `flstm: ${message}`, options);
    this.name = 'CheckpointError';
  }
}

const FORMAT = 'flstm-checkpoint';
const VERSION = 1;
const CONFIG = 'config.json';
const SCALARS_KEY = 'flstm.scalars';
const GEN_FILE = /^(model|optimizer|vocab)-(\d+)\.(safetensors|txt)$/;
const TMP_FILE = /\.tmp-\d+-[0-9a-f]+$/;
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** config.json is a few kB; a larger one is not flstm's (and is not read whole into memory). */
const MAX_MANIFEST_BYTES = 64 << 20;

/**
 * The generation of a file flstm wrote (`model-<G>.safetensors`...), or null for any other
 * name: one that does not match, or whose G is not written as flstm writes it (no leading
 * zeros) or is not a safe integer. Only such files count as generations, and only they are
 * ever removed: `vocab-99999999999999999999.txt` is someone else's file.
 */
export function fileGeneration(name: string): number | null {
  const m = GEN_FILE.exec(name);
  if (!m) return null;
  const g = Number(m[2]);
  return Number.isSafeInteger(g) && g < Number.MAX_SAFE_INTEGER && String(g) === m[2] ? g : null;
}

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

async function fsyncDir(dir: string): Promise<void> {
  // Makes the renames durable on POSIX; directories cannot be opened this way on Windows.
  try {
    const h = await open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    /* best effort */
  }
}

/** A file's content: text, bytes, or a .safetensors file laid out (written in chunks, of any size). */
export type FileData = string | Uint8Array | SafetensorsLayout;

/**
 * Writes `data` to `file` atomically: a temporary file in the same directory, fsynced, then
 * renamed over `file`. A crash leaves either the old content or the new, never a mix.
 */
export async function writeFileAtomic(
  file: string,
  data: FileData,
  opts: { beforeStep?: SaveOptions['beforeStep']; syncDir?: boolean; onBytes?: (bytes: number) => void; pieceBytes?: number } = {},
): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Math.floor(Math.random() * 0x100000000).toString(16)}`;
  let created = false;
  try {
    await opts.beforeStep?.({ action: 'write', file });
    const h = await open(tmp, 'w');
    created = true;
    try {
      if (typeof data === 'string' || data instanceof Uint8Array) {
        await h.writeFile(data);
        opts.onBytes?.(fileBytes(data));
      } else await writeChunks(h, safetensorsStream(data, opts.pieceBytes), opts.onBytes);
      await h.sync();
    } finally {
      await h.close();
    }
    await opts.beforeStep?.({ action: 'rename', file });
    await rename(tmp, file);
    created = false;
  } finally {
    if (created) await unlink(tmp).catch(() => {});
  }
  if (opts.syncDir !== false) await fsyncDir(dirname(file));
}

/** The bytes `data` makes on disk. */
function fileBytes(data: FileData): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data instanceof Uint8Array) return data.length;
  return data.header.length + data.dataBytes;
}

/** Throws when `value` holds something JSON would drop or change (NaN, undefined, a BigInt...). */
function checkJson(value: unknown, path: string, seen = new Set<object>()): void {
  const bad = (what: string): never => {
    throw new CheckpointError(`flstm: saveCheckpoint: ${path} is ${what}, which JSON cannot hold`);
  };
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) bad(String(value));
    return;
  }
  if (typeof value !== 'object') return bad(typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`);
  if (ArrayBuffer.isView(value)) return bad('a typed array (put tensors in the model or optimizer state)');
  if (seen.has(value)) return bad('a circular reference');
  seen.add(value);
  if (Array.isArray(value)) value.forEach((v, i) => checkJson(v, `${path}[${i}]`, seen));
  else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return bad(`a ${value.constructor?.name ?? 'class instance'}`);
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue; // dropped by JSON, as an optional field should be
      checkJson(v, `${path}.${k}`, seen);
    }
  }
  seen.delete(value);
}

/** A streamed tensor of `dtypes` (checked), or null for any other entry. */
function streamed(e: unknown, dtypes: readonly string[]): StreamedTensorInput | null {
  const t = e as StreamedTensorInput | null;
  return t && typeof t.read === 'function' && dtypes.includes(t.dtype) && !('data' in t) ? t : null;
}

function modelTensors(model: CheckpointToSave['model']): Record<string, SafeTensorInput | StreamedTensorInput> {
  if (model === null || typeof model !== 'object')
    throw new CheckpointError('flstm: saveCheckpoint: model must be a state dict ({ shape, data } by name)');
  const out: Record<string, SafeTensorInput | StreamedTensorInput> = {};
  for (const [name, e] of Object.entries(model)) {
    const lazy = streamed(e, ['F32']);
    const data = (e as { data?: unknown } | null)?.data;
    if (lazy) out[name] = lazy;
    else if (!(data instanceof Float32Array))
      throw new CheckpointError(`flstm: saveCheckpoint: model tensor '${name}' must be { shape, data: Float32Array }`);
    else out[name] = { dtype: 'F32', shape: (e as StateDict[string]).shape, data };
  }
  return out;
}

function optimizerTensors(opt: NonNullable<CheckpointToSave['optimizer']>): Record<string, SafeTensorInput | StreamedTensorInput> {
  if (opt === null || typeof opt !== 'object' || opt.tensors === null || typeof opt.tensors !== 'object') {
    throw new CheckpointError('flstm: saveCheckpoint: optimizer must be { tensors, scalars }');
  }
  const out: Record<string, SafeTensorInput | StreamedTensorInput> = {};
  for (const [name, e] of Object.entries(opt.tensors)) {
    const lazy = streamed(e, ['F32', 'I32']);
    if (lazy) {
      out[name] = lazy;
      continue;
    }
    const data = (e as { data?: unknown } | null)?.data;
    const dtype = data instanceof Float32Array ? 'F32' : data instanceof Int32Array ? 'I32' : null;
    if (!dtype)
      throw new CheckpointError(`flstm: saveCheckpoint: optimizer tensor '${name}' must be { shape, data: Float32Array | Int32Array }`);
    out[name] = { dtype, shape: (e as OptimizerState['tensors'][string]).shape, data: data as Float32Array | Int32Array };
  }
  return out;
}

async function readManifest(dir: string): Promise<Record<string, unknown> | null> {
  const file = join(dir, CONFIG);
  let text: string;
  try {
    const size = (await stat(file)).size;
    if (size > MAX_MANIFEST_BYTES)
      throw new CheckpointError(
        `flstm: ${file}: the file must be at most ${MAX_MANIFEST_BYTES} bytes (a checkpoint manifest), got ${size} bytes`,
      );
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (errCode(e) === 'ENOENT') return null;
    throw e;
  }
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`flstm: ${file} is not valid JSON (${jsonProblem(e)}): the checkpoint is corrupt`);
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m) || (m as { format?: unknown }).format !== FORMAT) {
    throw new CheckpointError(`flstm: ${join(dir, CONFIG)} is not a flstm checkpoint config (it has no "format": "${FORMAT}")`);
  }
  return m as Record<string, unknown>;
}

/** The config saved with the checkpoint in `dir` (null when there is none), without reading its tensors. */
export async function readCheckpointConfig<C = unknown>(dir: string): Promise<C | null> {
  const m = await readManifest(dir);
  return m ? (m.config as C) : null;
}

/**
 * Saves a checkpoint into `dir` (created if needed) as described at the top of this file.
 * Everything is encoded and checked before the first write, but streamed tensors, which are
 * read as their file is written; on failure (a failed read too) the files of the new
 * generation are removed, the previous checkpoint stays as it was, and a CheckpointError says
 * which file failed (the error of the read as its cause). Returns the new generation and its file names.
 */
export async function saveCheckpoint(
  dir: string,
  ckpt: CheckpointToSave,
  opts: SaveOptions = {},
): Promise<{ generation: number; files: CheckpointFiles }> {
  const encoded = encodeCheckpoint(ckpt);
  await makeDirectory(dir);
  const generation = (await lastGeneration(dir)) + 1;
  const { files, writes } = generationFiles(generation, ckpt, encoded);
  await writeGeneration(dir, writes, opts);
  // Committed. Remove other generations and stale temporary files (best effort).
  await removeOtherFiles(dir, files);
  return { generation, files };
}

/** The checkpoint checked and encoded: nothing is written before this succeeds. */
function encodeCheckpoint(ckpt: CheckpointToSave): { modelFile: SafetensorsLayout; optFile: SafetensorsLayout | null } {
  if (ckpt === null || typeof ckpt !== 'object')
    throw new CheckpointError('flstm: saveCheckpoint: expected { model, optimizer?, config, vocab? }');
  checkJson(ckpt.config, 'config');
  if (ckpt.optimizer) checkJson(ckpt.optimizer.scalars ?? {}, 'optimizer.scalars');
  if (ckpt.vocab !== undefined && typeof ckpt.vocab !== 'string')
    throw new CheckpointError('flstm: saveCheckpoint: vocab must be a string');
  // The model file carries the config and vocabulary too, so it opens alone (see bundle.ts).
  const modelFile = layoutSafetensors(modelTensors(ckpt.model), bundleMetadata(ckpt.config, ckpt.vocab));
  const optFile = ckpt.optimizer
    ? layoutSafetensors(optimizerTensors(ckpt.optimizer), {
        producer: 'flstm',
        [SCALARS_KEY]: JSON.stringify(ckpt.optimizer.scalars ?? {}),
      })
    : null;
  return { modelFile, optFile };
}

async function makeDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new CheckpointError(`flstm: cannot create the checkpoint directory '${dir}': ${(e as Error).message}`, { cause: e });
  }
}

/** The highest generation in `dir`: of its generation files and of its config.json (0 for none). */
async function lastGeneration(dir: string): Promise<number> {
  let generation = 0;
  for (const name of await readdir(dir)) generation = Math.max(generation, fileGeneration(name) ?? 0);
  try {
    const current = await readManifest(dir);
    const g = current?.generation;
    if (typeof g === 'number' && Number.isSafeInteger(g) && g < Number.MAX_SAFE_INTEGER) generation = Math.max(generation, g);
  } catch {
    /* a corrupt config.json is replaced by this save */
  }
  return generation;
}

/** The files of generation `generation` and their contents, config.json last. */
function generationFiles(
  generation: number,
  ckpt: CheckpointToSave,
  { modelFile, optFile }: { modelFile: SafetensorsLayout; optFile: SafetensorsLayout | null },
): { files: CheckpointFiles; writes: [string, FileData][] } {
  const files: CheckpointFiles = { model: `model-${generation}.safetensors` };
  const writes: [string, FileData][] = [[files.model, modelFile]];
  if (optFile) {
    files.optimizer = `optimizer-${generation}.safetensors`;
    writes.push([files.optimizer, optFile]);
  }
  if (ckpt.vocab !== undefined) {
    files.vocab = `vocab-${generation}.txt`;
    writes.push([files.vocab, ckpt.vocab]);
  }
  const manifest = {
    format: FORMAT,
    version: VERSION,
    generation,
    savedAt: new Date().toISOString(),
    files,
    config: ckpt.config,
  };
  writes.push([CONFIG, `${JSON.stringify(manifest, null, 2)}\n`]);
  return { files, writes };
}

/** Writes each file atomically, in order; on failure removes what was written of the generation. */
async function writeGeneration(dir: string, writes: [string, FileData][], opts: SaveOptions): Promise<void> {
  const written: string[] = [];
  const total = writes.reduce((a, [, data]) => a + fileBytes(data), 0);
  let bytes = 0;
  const onBytes = opts.onBytes && ((n: number) => opts.onBytes!((bytes += n), total));
  for (const [name, data] of writes) {
    const file = join(dir, name);
    try {
      await writeFileAtomic(file, data, { beforeStep: opts.beforeStep, syncDir: name === CONFIG, onBytes, pieceBytes: opts.pieceBytes });
      if (name !== CONFIG) written.push(file);
    } catch (e) {
      // Nothing points at the new generation yet: remove what was written of it.
      await Promise.all(written.map((f) => unlink(f).catch(() => {})));
      throw new CheckpointError(
        `flstm: saving the checkpoint in '${dir}' failed while writing ${name} (${(e as Error).message}); ` +
          'the previous checkpoint there, if any, is unchanged',
        { cause: e },
      );
    }
  }
}

/**
 * Removes the generation files and temporary files in `dir` that are not `files` (best
 * effort). Called only once the new config.json is renamed into place (committed), so the
 * generation a crash would fall back to is never removed before the new one is complete;
 * only names flstm writes are touched (fileGeneration).
 */
async function removeOtherFiles(dir: string, files: CheckpointFiles): Promise<void> {
  const keep = new Set<string>([CONFIG, ...Object.values(files)]);
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (keep.has(name)) continue;
    const gen = fileGeneration(name) !== null;
    const tmp = TMP_FILE.test(name) && (fileGeneration(name.replace(TMP_FILE, '')) !== null || name.startsWith(`${CONFIG}.tmp-`));
    if (gen || tmp) await unlink(join(dir, name)).catch(() => {});
  }
}

function fileName(dir: string, files: Record<string, unknown>, key: string, required: boolean): string | undefined {
  const v = files[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || !SAFE_NAME.test(v)) {
    throw new CheckpointError(`flstm: ${join(dir, CONFIG)}: files.${key} must be a file name in the checkpoint directory, got ${shown(v)}`);
  }
  return v;
}

class Moved extends Error {}

async function readNamed<T>(dir: string, name: string, generation: number, read: (file: string) => Promise<T>): Promise<T> {
  try {
    return await read(join(dir, name));
  } catch (e) {
    if (errCode(e) !== 'ENOENT') throw e;
    // A save may have replaced the generation between reading config.json and this file.
    const now = await readManifest(dir).catch(() => null);
    if (now && now.generation !== generation) throw new Moved();
    throw new CheckpointError(`flstm: checkpoint '${dir}': ${CONFIG} names ${name}, which is missing: the checkpoint is incomplete`);
  }
}

export interface LoadOptions {
  /** Read the optimizer file (default true); false: a model to use, not to train on (half the bytes). */
  optimizer?: boolean;
}

/** A weight of a model file that openCheckpoint opened: its shape, its values read a range at a time. */
export interface FileWeight {
  shape: number[];
  /** Values offset .. offset + into.length - 1 (flat, row-major) read from the file into `into` (unchecked: see checkFiniteWeights). */
  readInto(offset: number, into: Float32Array): Promise<void>;
}

/** An optimizer state tensor of a file that openCheckpoint opened: its values read a range at a time. */
export interface FileStateTensor {
  shape: number[];
  dtype: 'F32' | 'I32';
  /** Values offset .. offset + into.length - 1 read into `into` (unchecked: see checkOptimizerValues). */
  readInto(offset: number, into: Float32Array | Int32Array): Promise<void>;
}

/**
 * A checkpoint as openCheckpoint gives it: checked as loadCheckpoint checks it, but for the
 * values of the model and optimizer files, which stay in their files (open until close()) to
 * be read a piece at a time, each piece checked as it is read (checkFiniteWeights,
 * checkOptimizerValues).
 */
export interface OpenedCheckpoint<C = unknown> extends Omit<LoadedCheckpoint<C>, 'model' | 'optimizer'> {
  model: Record<string, FileWeight>;
  optimizer?: { tensors: Record<string, FileStateTensor>; scalars: Record<string, JsonValue> };
  close(): Promise<void>;
}

/** The entries of a model file as loaded: with their values (read whole) or without (opened). */
type ModelEntry = { shape: number[]; data?: Float32Array };
/** The entries of an optimizer file as loaded: with their values (read whole) or their dtype (opened). */
type StateEntry = { shape: number[]; data?: Float32Array | Int32Array; dtype?: string };

/** A checkpoint whose model entries are `M` and optimizer entries `O`: host tensors (loadCheckpoint) or file tensors (openCheckpoint). */
type Loaded<C, M extends ModelEntry, O extends StateEntry> = Omit<LoadedCheckpoint<C>, 'model' | 'optimizer'> & {
  model: Record<string, M>;
  optimizer?: { tensors: Record<string, O>; scalars: Record<string, JsonValue> };
};

/** A data file read whole or opened: its metadata, its tensors, and how to let it go. */
interface DataFile<T> {
  metadata: Record<string, string>;
  tensors: Record<string, T>;
  close(): Promise<void>;
}

/** How a checkpoint's model and optimizer files are read. */
interface Readers<M extends ModelEntry, O extends StateEntry> {
  model(file: string): Promise<DataFile<M>>;
  optimizer(file: string): Promise<DataFile<O>>;
}

const noClose = async () => {};

/** Both files read whole: every value on the host (checked with the rest of the checkpoint). */
const WHOLE: Readers<StateDict[string], OptimizerState['tensors'][string]> = {
  async model(file) {
    const decoded = await readSafetensorsFile(file);
    return { metadata: decoded.metadata, tensors: decodeModelWeights(decoded, file), close: noClose };
  },
  async optimizer(file) {
    const decoded = await readSafetensorsFile(file);
    return { metadata: decoded.metadata, tensors: decodeStateTensors(decoded.tensors, file), close: noClose };
  },
};

/** Both files opened: their headers read and their dtypes checked, their values left in the file. */
const OPENED: Readers<FileWeight, FileStateTensor> = {
  model: (file) =>
    openTensors(file, (name, t) => {
      if (t.dtype !== 'F32') throw new CheckpointError(`flstm: ${file}: weight '${name}' is ${t.dtype}; weights must be F32`);
      return { shape: t.shape, readInto: (offset, into) => t.readInto(offset, into) };
    }),
  optimizer: (file) =>
    openTensors(file, (name, t) => {
      if (t.dtype === 'I64') throw new CheckpointError(`flstm: ${file}: optimizer tensor '${name}' is I64; expected F32 or I32`);
      return { shape: t.shape, dtype: t.dtype, readInto: (offset, into) => t.readInto(offset, into) };
    }),
};

/** The .safetensors file `file` opened, each tensor made an entry by `entry` (which may refuse it). */
async function openTensors<T>(file: string, entry: (name: string, t: FileTensor) => T): Promise<DataFile<T>> {
  const f = await openSafetensorsFile(file);
  try {
    const tensors: Record<string, T> = {};
    for (const [name, t] of Object.entries(f.tensors))
      Object.defineProperty(tensors, name, { value: entry(name, t), enumerable: true, writable: true, configurable: true });
    return { metadata: f.metadata, tensors, close: f.close };
  } catch (e) {
    await f.close();
    throw e;
  }
}

/**
 * Loads the checkpoint in `dir`. Clear errors: a missing directory or config.json, a config
 * that is not valid JSON or not a flstm checkpoint, a missing data file, a corrupt or
 * truncated .safetensors (the SafetensorsError names the file), non-F32 weights.
 */
export async function loadCheckpoint<C = unknown>(dir: string, opts: LoadOptions = {}): Promise<LoadedCheckpoint<C>> {
  const ck: LoadedCheckpoint<C> & { close?: unknown } = await readCheckpoint<C, StateDict[string], OptimizerState['tensors'][string]>(
    dir,
    opts,
    WHOLE,
  );
  // The same object (checkedVocabulary knows it), without the closer a whole read does not need.
  delete ck.close;
  return ck;
}

/**
 * loadCheckpoint with the model and optimizer files opened rather than read: their headers,
 * the configuration, the vocabulary and the optimizer's scalars are read and checked as
 * loadCheckpoint checks them; the tensors are read later a piece at a time (a large
 * vocabulary's tables and their optimizer state are gigabytes each). The caller closes the
 * checkpoint once its tensors are read.
 */
export async function openCheckpoint<C = unknown>(dir: string, opts: LoadOptions = {}): Promise<OpenedCheckpoint<C>> {
  return readCheckpoint<C, FileWeight, FileStateTensor>(dir, opts, OPENED);
}

async function readCheckpoint<C, M extends ModelEntry, O extends StateEntry>(
  dir: string,
  opts: LoadOptions,
  readers: Readers<M, O>,
): Promise<Loaded<C, M, O> & { close(): Promise<void> }> {
  if (!(await isDirectory(dir))) return loadModelFile<C, M, O>(dir, readers);
  for (let attempt = 0; ; attempt++) {
    try {
      return await loadGeneration<C, M, O>(dir, opts.optimizer !== false, readers);
    } catch (e) {
      if (e instanceof Moved && attempt < 3) continue;
      if (e instanceof Moved)
        throw new CheckpointError(`flstm: checkpoint '${dir}' kept changing while it was read (another process is saving into it)`);
      throw e;
    }
  }
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch (e) {
    if (errCode(e) === 'ENOENT') throw new CheckpointError(`flstm: the checkpoint directory '${dir}' does not exist`);
    throw new CheckpointError(`flstm: cannot read the checkpoint directory '${dir}': ${(e as Error).message}`, { cause: e });
  }
}

/** Runs `f` on opened files, closing them when `f` throws. */
async function closingOnError<T>(close: () => Promise<void>, f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    await close();
    throw e;
  }
}

/** A self-contained model file (a model-<G>.safetensors, or one the browser demo saved). */
async function loadModelFile<C, M extends ModelEntry, O extends StateEntry>(
  file: string,
  readers: Readers<M, O>,
): Promise<Loaded<C, M, O> & { close(): Promise<void> }> {
  if (!file.endsWith('.safetensors'))
    throw new CheckpointError(`flstm: '${file}' is a file, not a checkpoint directory (nor a self-contained .safetensors model file)`);
  const m = await readers.model(file);
  return closingOnError(m.close, () => {
    const b = bundleOfMetadata<C>(m.metadata, file);
    const out: Loaded<C, M, O> = { model: m.tensors, config: b.config, generation: 0, savedAt: '', files: { model: file } };
    if (b.vocab !== undefined) out.vocab = b.vocab;
    checkLanguageModel(out, { config: `${file} metadata flstm.config`, model: file, vocab: `${file} metadata flstm.vocab` });
    return Object.assign(out, { close: m.close });
  });
}

/** The generation config.json names, read and decoded; throws Moved when a save replaced it meanwhile. */
async function loadGeneration<C, M extends ModelEntry, O extends StateEntry>(
  dir: string,
  withOptimizer: boolean,
  readers: Readers<M, O>,
): Promise<Loaded<C, M, O> & { close(): Promise<void> }> {
  const { manifest: m, generation, files } = await readCheckedManifest(dir);
  const modelFile = await readNamed(dir, files.model, generation, readers.model);
  let optFile: DataFile<O> | null = null;
  const close = async () => {
    await modelFile.close();
    await optFile?.close();
  };
  return closingOnError(close, async () => {
    if (files.optimizer && withOptimizer) optFile = await readNamed(dir, files.optimizer, generation, readers.optimizer);
    let vocab = files.vocab ? await readNamed(dir, files.vocab, generation, (f) => readFile(f, 'utf8')) : undefined;
    const paths = {
      config: join(dir, CONFIG),
      model: join(dir, files.model),
      vocab: files.vocab && join(dir, files.vocab),
      optimizer: optFile ? join(dir, files.optimizer!) : undefined,
    };
    // Without a vocabulary file the model file's copy is the vocabulary (the file is self-contained).
    const copy = modelFile.metadata[BUNDLE_VOCAB_KEY];
    if (vocab === undefined && copy !== undefined) vocab = copy;
    const out: Loaded<C, M, O> = { model: modelFile.tensors, config: m.config as C, generation, savedAt: String(m.savedAt ?? ''), files };
    if (optFile && paths.optimizer)
      out.optimizer = { tensors: (optFile as DataFile<O>).tensors, scalars: optimizerScalars(optFile, paths.optimizer) };
    if (vocab !== undefined) out.vocab = vocab;
    // Each file's own schema first (its message is the more precise), then the copies agree.
    checkLanguageModel(out, {
      ...paths,
      vocab: paths.vocab ?? (vocab === undefined ? undefined : `${paths.model} metadata ${BUNDLE_VOCAB_KEY}`),
    });
    checkCopies(modelFile.metadata, m.config, files.vocab ? vocab : undefined, paths);
    return Object.assign(out, { close });
  });
}

interface Paths {
  config: string;
  model: string;
  vocab?: string;
  optimizer?: string;
}

/**
 * The model file's copies of the configuration and vocabulary (its metadata, which makes it
 * self-contained) must be those of config.json and the vocabulary file: a difference means
 * files of two saves were mixed or one was edited, and either could be the wrong one.
 */
function checkCopies(metadata: Record<string, string>, config: unknown, vocab: string | undefined, p: Paths): void {
  const raw = metadata[BUNDLE_CONFIG_KEY];
  if (raw !== undefined) {
    const copy = parseJson(p.model, `metadata ${BUNDLE_CONFIG_KEY}`, raw);
    const where = firstDifference(copy, config, 'config');
    if (where !== null) {
      throw new CheckpointError(
        `flstm: ${p.model}: metadata ${BUNDLE_CONFIG_KEY} must be the configuration ${p.config} holds, got a different one ` +
          `(${where}): the two files are not of one save`,
      );
    }
  }
  const copy = metadata[BUNDLE_VOCAB_KEY];
  if (copy !== undefined && vocab !== undefined && copy !== vocab) {
    const line = firstLineDifference(copy, vocab);
    throw new CheckpointError(
      `flstm: ${p.model}: metadata ${BUNDLE_VOCAB_KEY} must be the vocabulary ${p.vocab} holds, got a different one (line ${line} differs): the two files are not of one save`,
    );
  }
}

/** Where two JSON values first differ ("config.train.lr: 0.3 against 0.2"), or null. */
function firstDifference(a: unknown, b: unknown, at: string): string | null {
  if (sameJson(a, b)) return null;
  if (isObject(a) && isObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[k], b[k], `${at}.${k}`);
      if (d !== null) return d;
    }
  }
  return `${at}: ${shown(a)} against ${shown(b)}`;
}

function firstLineDifference(a: string, b: string): number {
  const la = a.split('\n');
  const lb = b.split('\n');
  let i = 0;
  while (i < la.length && i < lb.length && la[i] === lb[i]) i++;
  return i + 1;
}

/** The vocabulary each checked language-model checkpoint was read with (readLmCheckpoint reuses it). */
const vocabularies = new WeakMap<object, Vocabulary>();

/** The parsed vocabulary of a checkpoint loadCheckpoint checked, when it has one. */
export function checkedVocabulary(ck: Omit<LoadedCheckpoint<unknown>, 'model' | 'optimizer'>): Vocabulary | undefined {
  return vocabularies.get(ck);
}

/**
 * A language model's checkpoint (its config says "format": "flstm-lm/...") checked whole:
 * the configuration's schema, the tensors it implies, the vocabulary and the optimizer state.
 * Other checkpoints (any JSON config) are the caller's to check.
 */
function checkLanguageModel(ck: Loaded<unknown, ModelEntry, StateEntry>, p: Paths): void {
  const c = ck.config;
  if (!isObject(c) || typeof c.format !== 'string' || !c.format.startsWith('flstm-lm')) return;
  const config = checkLmConfig(p.config, 'config', c);
  checkModelTensorShapes(p.model, ck.model, config, p.config);
  // Values read whole are checked now; an opened file's are checked as they are read.
  for (const [name, t] of Object.entries(ck.model)) if (t.data) checkFiniteWeights(p.model, name, t.data);
  if (ck.vocab !== undefined) vocabularies.set(ck, checkVocabulary(p.vocab ?? p.model, ck.vocab, config.vocabSize, p.config));
  if (!ck.optimizer || !p.optimizer) return;
  const weights = new Map([...lmTensorShapes(config)].filter(([k]) => !k.startsWith('state.') && !k.startsWith('ema.')));
  checkOptimizerScalars(p.optimizer, ck.optimizer.scalars, config.train.optimizer);
  checkOptimizerTensors(p.optimizer, ck.optimizer.tensors, config.train.optimizer, weights);
}

/** The checkpoints of a run folder given where a checkpoint was expected: its checkpoint/ (the last) and best/. */
async function checkpointsInside(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const sub of ['checkpoint', 'best']) if (await readManifest(join(dir, sub)).catch(() => null)) found.push(join(dir, sub));
  return found;
}

/** config.json, checked: a version this flstm reads, an integer generation, safe file names. */
async function readCheckedManifest(
  dir: string,
): Promise<{ manifest: Record<string, unknown>; generation: number; files: CheckpointFiles }> {
  const m = await readManifest(dir);
  const file = join(dir, CONFIG);
  if (!m) {
    const inside = await checkpointsInside(dir);
    if (inside.length)
      throw new CheckpointError(
        `flstm: '${dir}' has no ${CONFIG}: it is a run folder, not a checkpoint; did you mean ${inside.join(' or ')}?`,
      );
    throw new CheckpointError(`flstm: '${dir}' has no ${CONFIG}, so it holds no checkpoint (or its first save did not finish)`);
  }
  if (typeof m.version === 'number' && m.version > VERSION) {
    throw new CheckpointError(
      `flstm: ${file} has version ${shown(m.version)}; this flstm reads version ${VERSION} (a newer flstm wrote it?)`,
    );
  }
  checkInt(file, 'version', m.version, 1, VERSION);
  const generation = checkInt(file, 'generation', m.generation, 0);
  if (m.savedAt !== undefined && typeof m.savedAt !== 'string') schemaFail(file, 'savedAt', 'a date (a string)', m.savedAt);
  if (m.config === undefined) schemaFail(file, 'config', 'the configuration of the run', m.config);
  const f = m.files;
  if (!isObject(f)) schemaFail(file, 'files', 'an object naming the files ({ model, optimizer?, vocab? })', f);
  // A key of another name is a damaged one ("optimizer" with a bit flipped): refused, rather
  // than a checkpoint read without the file it meant to name.
  for (const k of Object.keys(f))
    if (!['model', 'optimizer', 'vocab'].includes(k))
      schemaFail(file, `files.${k}`, 'absent (files names model, optimizer and vocab)', f[k]);
  const files: CheckpointFiles = { model: fileName(dir, f, 'model', true) as string };
  const optName = fileName(dir, f, 'optimizer', false);
  const vocabName = fileName(dir, f, 'vocab', false);
  if (optName) files.optimizer = optName;
  if (vocabName) files.vocab = vocabName;
  return { manifest: m, generation, files };
}

function decodeModelWeights(decoded: DecodedSafetensors, src: string): StateDict {
  const model: StateDict = {};
  for (const [name, t] of Object.entries(decoded.tensors)) {
    if (t.dtype !== 'F32') throw new CheckpointError(`flstm: ${src}: weight '${name}' is ${t.dtype}; weights must be F32`);
    model[name] = { shape: t.shape, data: t.data as Float32Array };
  }
  return model;
}

function decodeStateTensors(decoded: DecodedSafetensors['tensors'], src: string): OptimizerState['tensors'] {
  const tensors: OptimizerState['tensors'] = {};
  for (const [name, t] of Object.entries(decoded)) {
    if (t.dtype === 'I64') throw new CheckpointError(`flstm: ${src}: optimizer tensor '${name}' is I64; expected F32 or I32`);
    tensors[name] = { shape: t.shape, data: t.data as Float32Array | Int32Array };
  }
  return tensors;
}

/** The optimizer file's scalars (its metadata "flstm.scalars"), a JSON object. */
function optimizerScalars(o: { metadata: Record<string, string> }, src: string): Record<string, JsonValue> {
  let scalars: Record<string, JsonValue> = {};
  const raw = o.metadata[SCALARS_KEY];
  if (raw !== undefined) {
    try {
      scalars = JSON.parse(raw);
    } catch (e) {
      throw new CheckpointError(`flstm: ${src}: metadata '${SCALARS_KEY}' is not valid JSON (${jsonProblem(e)})`);
    }
    if (!isObject(scalars)) {
      throw new CheckpointError(`flstm: ${src}: metadata '${SCALARS_KEY}' must be a JSON object, got ${shown(scalars)}`);
    }
  }
  return scalars;
}

/**
 * Checks that a checkpoint's weights fit a model: every expected tensor present with the same
 * shape, nothing else. Throws one message naming the first mismatching tensor and both shapes.
 */
export function checkCompatible(
  modelState: Record<string, { shape: readonly number[] }>,
  expected: Record<string, { shape: readonly number[] }>,
  what = 'the checkpoint',
): void {
  const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;
  const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
  for (const [name, e] of Object.entries(expected)) {
    if (!has(modelState, name)) {
      throw new CheckpointError(
        `flstm: ${what} is from another model shape: it has no tensor '${name}' (this model has it with shape ${fmt(e.shape)})`,
      );
    }
    const got = modelState[name]!.shape;
    if (got.length !== e.shape.length || got.some((d, i) => d !== e.shape[i])) {
      throw new CheckpointError(
        `flstm: ${what} is from another model shape: '${name}' is ${fmt(got)} in the checkpoint but ${fmt(e.shape)} in this model`,
      );
    }
  }
  for (const [name, t] of Object.entries(modelState)) {
    if (!has(expected, name)) {
      throw new CheckpointError(
        `flstm: ${what} is from another model shape: it has tensor '${name}' ${fmt(t.shape)}, which this model does not have`,
      );
    }
  }
}

/**
 * The bytes of a checkpoint's .safetensors files whose names `files` matches (a folder), or of
 * the file given; 0 when unreadable (the loader then names what is wrong). Said before a long load.
 */
export async function checkpointBytes(path: string, files = /\.safetensors$/): Promise<number> {
  try {
    if ((await stat(path)).isFile()) return (await stat(path)).size;
    const names = (await readdir(path)).filter((f) => files.test(f));
    return (await Promise.all(names.map(async (f) => (await stat(join(path, f))).size))).reduce((a, b) => a + b, 0);
  } catch {
    return 0;
  }
}
