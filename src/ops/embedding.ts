// Embedding lookup: y[...S, :] = table[ids[...S], :]. Forward is a row gather. The table's
// gradient is sparse and deterministic: the ids are known on the host, so positions are
// sorted by id there and each touched row is summed on the GPU in a fixed order (no float
// atomics). Forward and backward side by side.
import { rt } from '../gpu/runtime.js';
import { kernelFile } from '../gpu/pipelines.js';
import { isGradEnabled, record } from '../autograd.js';
import { Tensor, fmtShape, type Shape } from '../tensor.js';
import { assertDType, assertTensor, grid1d, out } from './dispatch.js';
import { hostValues } from './create.js';
import { useVec4, widthKernel } from '../gpu/width.js';
import embeddingSrc from '../../kernels/embedding.wgsl';
import embeddingBackwardSrc from '../../kernels/embedding_backward.wgsl';

const EMBEDDING = kernelFile('embedding', embeddingSrc);
const EMBEDDING_BACKWARD = kernelFile('embedding_backward', embeddingBackwardSrc);
/** Elements per invocation (src/gpu/width.ts): four when rows of width D hold whole vec4s. */
const width = (D: number) => (useVec4(D, D) ? 4 : 1);

/** Integer ids: an i32 tensor (made from host data, for ops that need the host values), or host ids. */
export type Ids = Tensor | Int32Array | readonly number[];

/** Ids resolved to a shape, their GPU tensor where one exists, and their host values where known. */
export interface ResolvedIds {
  shape: number[];
  size: number;
  tensor?: Tensor;
  host?: Int32Array;
}

/** Validates ids given as a tensor (i32) or as host numbers (integers). Host arrays are copied. */
export function resolveIds(ids: Ids, op: string, what: string): ResolvedIds {
  if (ids instanceof Tensor) {
    assertTensor(ids, `${op}: ${what}`);
    assertDType(ids, 'i32', op, what);
    return { shape: [...ids.shape], size: ids.size, tensor: ids, host: hostValues(ids) };
  }
  if (!(ids instanceof Int32Array) && !Array.isArray(ids) && !ArrayBuffer.isView(ids)) {
    throw new Error(
      `flstm: ${op}: ${what} must be an i32 Tensor, an Int32Array or an array of integers, got ${ids === null ? 'null' : typeof ids}`,
    );
  }
  const src = ids as ArrayLike<number>;
  const host = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
      throw new Error(`flstm: ${op}: ${what} must be 32-bit integers, got ${v} at position ${i}`);
    }
    host[i] = v;
  }
  return { shape: [host.length], size: host.length, host };
}

/** "5" for a 1-D position, "5 (index [1, 2] of shape [2, 3])" otherwise. */
function fmtPosition(pos: number, shape: readonly number[]): string {
  if (shape.length <= 1) return String(pos);
  const idx: number[] = [];
  let r = pos;
  for (let k = shape.length - 1; k >= 0; k--) {
    idx.unshift(r % shape[k]);
    r = Math.floor(r / shape[k]);
  }
  return `${pos} (index ${fmtShape(idx)} of shape ${fmtShape(shape)})`;
}

/** Throws one clear error for the first value outside [0, limit). */
export function checkRange(host: Int32Array, limit: number, shape: readonly number[], op: string, what: string, of: string): void {
  for (let i = 0; i < host.length; i++) {
    const v = host[i];
    if (v < 0 || v >= limit) {
      throw new Error(
        `flstm: ${op}: ${what} ${v} at position ${fmtPosition(i, shape)} is out of range for ${of} (expected 0 <= ${what} < ${limit})`,
      );
    }
  }
}

/** The GPU tensor of resolved ids: theirs, or a temporary upload (the caller disposes it). */
export function idsTensor(r: ResolvedIds, origin: string): { t: Tensor; temp: boolean } {
  if (r.tensor) return { t: r.tensor, temp: false };
  const t = Tensor.empty(r.shape, 'i32', origin);
  if (r.size > 0) rt().recorder.upload(t.buffer, r.host!);
  return { t, temp: true };
}

/**
 * Positions sorted by id, as one i32 buffer for the backward kernel:
 * [uniqueIds (U, ascending) | offsets (U + 1) | sortedPositions (P)]. Equal ids keep
 * ascending positions, so the GPU sums each row in a fixed order.
 */
export interface SortPlan {
  unique: Int32Array;
  index: Int32Array;
}

export function sortPlan(ids: Int32Array): SortPlan {
  const P = ids.length;
  let order: Uint32Array;
  let minId = 0;
  for (let i = 0; i < P; i++) minId = Math.min(minId, ids[i]);
  let maxId = 0;
  for (let i = 0; i < P; i++) maxId = Math.max(maxId, ids[i]);
  if ((maxId - minId + 1) * Math.max(P, 1) < Number.MAX_SAFE_INTEGER) {
    // One numeric sort of keys (id, position) packed exactly into a float64.
    const keys = new Float64Array(P);
    for (let i = 0; i < P; i++) keys[i] = (ids[i] - minId) * P + i;
    keys.sort();
    order = new Uint32Array(P);
    for (let i = 0; i < P; i++) order[i] = keys[i] % P;
  } else {
    order = new Uint32Array(P);
    for (let i = 0; i < P; i++) order[i] = i;
    order.sort((a, b) => ids[a] - ids[b] || a - b);
  }
  let U = 0;
  for (let k = 0; k < P; k++) if (k === 0 || ids[order[k]] !== ids[order[k - 1]]) U++;
  const index = new Int32Array(2 * U + 1 + P);
  const posBase = 2 * U + 1;
  let u = -1;
  for (let k = 0; k < P; k++) {
    const id = ids[order[k]];
    if (k === 0 || id !== ids[order[k - 1]]) {
      u++;
      index[u] = id;
      index[U + u] = k;
    }
    index[posBase + k] = order[k];
  }
  index[2 * U] = P;
  return { unique: index.slice(0, U), index };
}

/** Sums g's rows [P, D] per unique id: scatter into a dense zeroed [V, D], or rows [U, D]. */
function backwardRaw(plan: SortPlan, g: Tensor, D: number, dense: { V: number } | null): Tensor {
  const U = plan.unique.length;
  const idx = Tensor.empty([plan.index.length], 'i32', 'embedding.backward');
  rt().recorder.upload(idx.buffer, plan.index);
  let y: Tensor;
  if (dense) {
    y = out([dense.V, D], 'f32', 'embedding.backward');
    rt().recorder.clear(y.buffer);
  } else y = out([U, D], 'f32', 'embeddingBackwardSparse');
  const W = width(D);
  rt().run(widthKernel(EMBEDDING_BACKWARD, W === 4), {
    overrides: { SCATTER: dense !== null },
    params: { n: (U * D) / W, d: D, u: U },
    buffers: [idx.buffer, g.buffer, y.buffer],
    workgroups: grid1d((U * D) / W),
  });
  idx.dispose(); // safe: later uses of the recycled buffer are encoded after this dispatch
  return y;
}

/**
 * Rows of `table` [V, D] picked by `ids` (any shape S): the result has shape [...S, D].
 * `ids` is an i32 tensor or host integers (an Int32Array or number[], shape [n]). Ids are
 * checked against [0, V) at the call when their host values are known (always for host
 * ids and for tensors made by fl.tensor). The table's gradient needs them on the host.
 */
export function embedding(table: Tensor, ids: Ids): Tensor {
  assertTensor(table, 'embedding(table, ids): table');
  assertDType(table, 'f32', 'embedding', 'table');
  if (table.rank !== 2) {
    throw new Error(`flstm: embedding: table must be 2-D [vocab, dim], got shape ${fmtShape(table.shape)}`);
  }
  const [V, D] = table.shape;
  const r = resolveIds(ids, 'embedding', 'ids');
  if (r.host) checkRange(r.host, V, r.shape, 'embedding', 'id', `a table of ${V} rows`);
  const needGrad = isGradEnabled() && table.requiresGrad;
  if (needGrad && !r.host) {
    throw new Error(
      `flstm: embedding: the table's gradient needs the ids on the host, but ids ${fmtShape(r.shape)} (i32, from ${r.tensor!.origin}) ` +
        'exist only on the GPU; make them with fl.tensor(...) or pass an Int32Array',
    );
  }
  const host = r.host;
  const y = out([...r.shape, D], 'f32', 'embedding');
  const { t: idsT, temp } = idsTensor(r, 'embedding.ids');
  const W = width(D);
  rt().run(widthKernel(EMBEDDING, W === 4), {
    params: { n: (r.size * D) / W, d: D, v: V },
    buffers: [table.buffer, idsT.buffer, y.buffer],
    workgroups: grid1d((r.size * D) / W),
  });
  if (temp) idsT.dispose();
  let plan: SortPlan | undefined;
  return record(y, 'embedding', [table], (g) => {
    plan ??= sortPlan(host!);
    return [backwardRaw(plan, g, D, { V })];
  });
}

/**
 * The sparse table gradient of `embedding(table, ids)` for an output gradient `grad`
 * [...S, D]: the touched ids (unique, ascending) and their summed gradient rows [U, D].
 * Deterministic. `vocab`, when given, range-checks the ids. For sparse optimizers.
 */
export function embeddingBackwardSparse(ids: Ids, grad: Tensor, vocab?: number): { ids: Int32Array; rows: Tensor } {
  const r = resolveIds(ids, 'embeddingBackwardSparse', 'ids');
  assertTensor(grad, 'embeddingBackwardSparse(ids, grad): grad');
  assertDType(grad, 'f32', 'embeddingBackwardSparse', 'grad');
  const S: Shape = r.shape;
  const ok = grad.rank === S.length + 1 && S.every((d, i) => d === grad.shape[i]);
  if (!ok) {
    throw new Error(
      `flstm: embeddingBackwardSparse: grad has shape ${fmtShape(grad.shape)}, expected [${[...S, 'D'].join(', ')}] ` +
        `for ids of shape ${fmtShape(S)}`,
    );
  }
  if (!r.host) {
    throw new Error(
      `flstm: embeddingBackwardSparse: ids ${fmtShape(S)} exist only on the GPU; make them with fl.tensor(...) or pass an Int32Array`,
    );
  }
  if (vocab !== undefined) checkRange(r.host, vocab, S, 'embeddingBackwardSparse', 'id', `a table of ${vocab} rows`);
  else checkRange(r.host, 2147483647, S, 'embeddingBackwardSparse', 'id', 'a table');
  const D = grad.shape[grad.rank - 1];
  const plan = sortPlan(r.host);
  return { ids: plan.unique, rows: backwardRaw(plan, grad, D, null) };
}
