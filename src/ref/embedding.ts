// Float64 references for the embedding lookup and its table gradient (dense and sparse).
import { nd, type NDArray } from './array.js';

/** y[...S, :] = table[ids[...S], :]; table [V, D], ids of shape idsShape (default [ids.length]). */
export function embeddingRef(table: NDArray, ids: ArrayLike<number>, idsShape: number[] = [ids.length]): NDArray {
  const [V, D] = table.shape;
  const out = new Float64Array(ids.length * D);
  for (let p = 0; p < ids.length; p++) {
    const id = ids[p];
    if (!(id >= 0 && id < V)) throw new Error(`embeddingRef: id ${id} at position ${p} out of range [0, ${V})`);
    for (let d = 0; d < D; d++) out[p * D + d] = table.data[id * D + d];
  }
  return nd(out, [...idsShape, D]);
}

/** d sum(dy * embeddingRef(table, ids)) / d table: dense [V, D], row id = sum of dy rows with that id. */
export function embeddingBackwardRef(vocab: number, ids: ArrayLike<number>, dy: NDArray): NDArray {
  const D = dy.shape[dy.shape.length - 1];
  const out = new Float64Array(vocab * D);
  for (let p = 0; p < ids.length; p++) {
    for (let d = 0; d < D; d++) out[ids[p] * D + d] += dy.data[p * D + d];
  }
  return nd(out, [vocab, D]);
}

/** The same gradient in sparse form: the unique ids (ascending) and their rows [U, D]. */
export function embeddingBackwardSparseRef(ids: ArrayLike<number>, dy: NDArray): { ids: number[]; rows: NDArray } {
  const D = dy.shape[dy.shape.length - 1];
  const unique = [...new Set(Array.from(ids))].sort((a, b) => a - b);
  const row = new Map(unique.map((id, u) => [id, u]));
  const out = new Float64Array(unique.length * D);
  for (let p = 0; p < ids.length; p++) {
    const u = row.get(ids[p])!;
    for (let d = 0; d < D; d++) out[u * D + d] += dy.data[p * D + d];
  }
  return { ids: unique, rows: nd(out, [unique.length, D]) };
}
