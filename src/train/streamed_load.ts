// A model's weights and its optimizer's state loaded from an opened checkpoint (checkpoint.ts
// openCheckpoint) a piece at a time: each piece read from the file, checked as a whole read
// checks it, and written straight into the tensor that holds it (a table, or its slot of
// optimizer state, into the shards that hold each piece). At the paper's vocabulary the
// tables and their state are gigabytes each: read whole, they would sit on the host next to
// their copies on the GPU, where this way the host holds one piece. The saves stream the
// other way (streamed_state.ts).
import type { Tensor } from '../tensor.js';
import { rt } from '../gpu/runtime.js';
import type { LanguageModel } from '../nn/lm.js';
import type { StateDict } from '../nn/module.js';
import { mergeShardsWith, Table, writeAcross } from '../nn/table.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { MovingAverage } from '../optim/moving_average.js';
import type { FileWeight, OpenedCheckpoint } from './checkpoint.js';
import { checkFiniteWeights, checkOptimizerValues } from './checkpoint_schema.js';

/** The most bytes of a weight read from its file at a time (the saves' piece, checkpoint.ts SaveOptions). */
export const LOAD_PIECE_BYTES = 1 << 26;

function valueCount(shape: readonly number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

/** Looks at a piece of a tensor (values `offset` on) as it is read; throws on a value the file cannot hold. */
export type LoadCheck = (piece: Float32Array, offset: number) => void;

/** A tensor of an opened file, read a piece at a time into a buffer. */
interface Readable {
  shape: readonly number[];
  readInto(offset: number, into: Float32Array): Promise<void>;
}

/**
 * The values of `w` a piece of at most `pieceBytes` at a time, each looked at by `check` as a
 * whole read checks the file (a damaged value is refused with the same message). Every piece
 * is read into one buffer (a view of it is valid until the next piece is asked for), so the
 * host holds one.
 */
export async function* checkedPieces(
  w: Readable,
  check: LoadCheck,
  pieceBytes = LOAD_PIECE_BYTES,
): AsyncGenerator<{ offset: number; piece: Float32Array }> {
  const count = valueCount(w.shape);
  const per = Math.max(1, Math.floor(pieceBytes / 4));
  const buffer = new Float32Array(Math.min(per, count));
  for (let at = 0; at < count; at += per) {
    const piece = buffer.subarray(0, Math.min(per, count - at));
    await w.readInto(at, piece);
    check(piece, at);
    yield { offset: at, piece };
  }
}

/** The finiteness check of weight `name` of `file`, a piece at a time. */
export function finiteIn(file: string, name: string): LoadCheck {
  return (piece, offset) => checkFiniteWeights(file, name, piece, offset);
}

/** `w` read whole onto the host, checked: for the small entries a caller needs there (the carried state). */
export async function readWhole(w: Readable, check: LoadCheck, pieceBytes = LOAD_PIECE_BYTES): Promise<StateDict[string]> {
  const data = new Float32Array(valueCount(w.shape));
  for await (const { offset, piece } of checkedPieces(w, check, pieceBytes)) data.set(piece, offset);
  return { shape: [...w.shape], data };
}

/** Weight `name` of `file` read whole onto the host, checked finite. */
export function readWeight(file: string, name: string, w: FileWeight, pieceBytes = LOAD_PIECE_BYTES): Promise<StateDict[string]> {
  return readWhole(w, finiteIn(file, name), pieceBytes);
}

/**
 * Writes a piece into `parts` and waits until the GPU has taken it: the file is read faster
 * than the queue uploads, and each upload's staging buffer (host-visible memory, on a
 * discrete GPU host memory too) would otherwise pile up, a table's worth in flight.
 */
async function writeAndSettle(parts: readonly Tensor[], offset: number, piece: Float32Array): Promise<void> {
  writeAcross(parts, offset, piece);
  await rt().recorder.finish();
}

export interface FillOptions {
  /** The file entries given back on the host (read whole) rather than loaded into a parameter. */
  keep: (name: string) => boolean;
  /** The file entries left unread, for the caller to load (a resumed run's averages: fillAverages). */
  later?: (name: string) => boolean;
  pieceBytes?: number;
}

/**
 * Loads `model`'s parameters from an opened model file, `weights` naming the file entry
 * each parameter takes (its trained weight, or its moving average); shapes already checked
 * (checkCompatible). Every entry of the file is read, in file order, and each piece checked,
 * so that a damaged value anywhere is refused, with the message and the first such value a
 * whole read gave; an entry no parameter takes is only checked. Gives back the `keep` entries.
 */
export async function fillModel(
  model: LanguageModel,
  entries: Record<string, FileWeight>,
  weights: Record<string, FileWeight>,
  file: string,
  opts: FillOptions,
): Promise<StateDict> {
  const sources = new Map(model.stateSources());
  const into = new Map<FileWeight, Tensor[]>();
  for (const [name, w] of Object.entries(weights)) {
    const v = sources.get(name)!;
    into.set(w, v instanceof Table ? v.shards.map((s) => s.param) : [v]);
  }
  const kept: StateDict = {};
  for (const [name, w] of Object.entries(entries)) {
    if (opts.later?.(name)) continue;
    if (opts.keep(name)) {
      kept[name] = await readWeight(file, name, w, opts.pieceBytes);
      continue;
    }
    const parts = into.get(w);
    for await (const { offset, piece } of checkedPieces(w, finiteIn(file, name), opts.pieceBytes))
      if (parts) await writeAndSettle(parts, offset, piece);
  }
  return kept;
}

/**
 * Loads `opt`'s state from an opened optimizer file (its schema checked: checkpoint_schema.ts
 * checkOptimizerTensors): the scalars, then each state tensor a piece at a time into the
 * optimizer's tensor (a table's slot into its shards, as streamedOptimizer reads them for a
 * save), every piece checked as the whole read checked it. The next step continues exactly.
 */
export async function fillOptimizer(
  model: LanguageModel,
  opt: Optimizer,
  state: NonNullable<OpenedCheckpoint['optimizer']>,
  file: string,
  pieceBytes?: number,
): Promise<void> {
  const byKey = Object.fromEntries(opt.stateTensors().map(([key, t]) => [key, { shape: t.shape, tensor: t }]));
  const joined = mergeShardsWith(byKey, model.tables, (parts, shape) => ({ shape, parts: parts.map((p) => p.tensor) }));
  const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
  for (const key of Object.keys(joined))
    if (!has(state.tensors, key)) throw new Error(`flstm: ${file}: the state tensor '${key}' is missing`);
  for (const key of Object.keys(state.tensors))
    if (!has(joined, key)) throw new Error(`flstm: ${file}: '${key}' is no state tensor of this optimizer`);
  opt.loadScalars(state.scalars);
  const kind = String(state.scalars.kind);
  for (const [name, w] of Object.entries(state.tensors)) {
    const e = joined[name];
    const parts = 'parts' in e ? e.parts : [e.tensor];
    const check: LoadCheck = (piece, offset) => checkOptimizerValues(file, name, kind, piece, offset);
    for await (const { offset, piece } of checkedPieces(w, check, pieceBytes)) await writeAndSettle(parts, offset, piece);
  }
}

/**
 * Loads a resumed run's moving averages (`ema.<parameter>` entries of an opened model file,
 * checked as MovingAverage.loadStateDict checks them) a piece at a time into `average`'s
 * tensors, every piece checked finite. Without an average (a run that keeps none) the
 * entries are only checked, as a whole read checked them.
 */
export async function fillAverages(
  average: MovingAverage | undefined,
  entries: Record<string, FileWeight>,
  file: string,
  source: string,
  pieceBytes?: number,
): Promise<void> {
  average?.checkSizes(Object.fromEntries(Object.entries(entries).map(([k, w]) => [k, valueCount(w.shape)])), source);
  const into = new Map(average?.stateTensors() ?? []);
  for (const [name, w] of Object.entries(entries)) {
    const t = into.get(name);
    for await (const { offset, piece } of checkedPieces(w, finiteIn(file, name), pieceBytes))
      if (t) await writeAndSettle([t], offset, piece);
  }
}
