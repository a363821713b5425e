// A model's weights loaded from an opened checkpoint (checkpoint.ts openCheckpoint) a piece at
// a time: each piece read from the file, checked finite, and written straight into the
// parameter that holds it (a table into the shards that hold each piece). At the paper's
// vocabulary the tables are gigabytes each: read whole, they would sit on the host next to
// their copies on the GPU, where this way the host holds one piece. The saves stream the
// other way (streamed_state.ts).
import type { Tensor } from '../tensor.js';
import type { LanguageModel } from '../nn/lm.js';
import type { StateDict } from '../nn/module.js';
import { Table, writeAcross } from '../nn/table.js';
import type { FileWeight } from './checkpoint.js';
import { checkFiniteWeights } from './checkpoint_schema.js';

/** The most bytes of a weight read from its file at a time (the saves' piece, checkpoint.ts SaveOptions). */
export const LOAD_PIECE_BYTES = 1 << 26;

function valueCount(shape: readonly number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

/**
 * The values of `w` (tensor `name` of `file`) a piece of at most `pieceBytes` at a time, each
 * checked finite as a whole read checks the file: a damaged value is refused with the message
 * naming the file, the tensor and its index in the tensor. Every piece is read into one
 * buffer (a view of it is valid until the next piece is asked for), so the host holds one.
 */
export async function* checkedPieces(
  file: string,
  name: string,
  w: FileWeight,
  pieceBytes = LOAD_PIECE_BYTES,
): AsyncGenerator<{ offset: number; piece: Float32Array }> {
  const count = valueCount(w.shape);
  const per = Math.max(1, Math.floor(pieceBytes / 4));
  const buffer = new Float32Array(Math.min(per, count));
  for (let at = 0; at < count; at += per) {
    const piece = buffer.subarray(0, Math.min(per, count - at));
    await w.readInto(at, piece);
    checkFiniteWeights(file, name, piece, at);
    yield { offset: at, piece };
  }
}

/** `w` read whole onto the host, checked: for the small entries a caller needs there (the carried state). */
export async function readWeight(file: string, name: string, w: FileWeight, pieceBytes = LOAD_PIECE_BYTES): Promise<StateDict[string]> {
  const data = new Float32Array(valueCount(w.shape));
  for await (const { offset, piece } of checkedPieces(file, name, w, pieceBytes)) data.set(piece, offset);
  return { shape: [...w.shape], data };
}

export interface FillOptions {
  /** The file entries given back on the host (read whole) rather than loaded into a parameter. */
  keep: (name: string) => boolean;
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
    if (opts.keep(name)) {
      kept[name] = await readWeight(file, name, w, opts.pieceBytes);
      continue;
    }
    const parts = into.get(w);
    for await (const { offset, piece } of checkedPieces(file, name, w, opts.pieceBytes)) if (parts) writeAcross(parts, offset, piece);
  }
  return kept;
}
