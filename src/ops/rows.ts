// Blocks of rows copied between tensors (a sharded table's gathered rows joined, a gradient
// block cut per shard): buffer copies, recorded by no tape (callers run them under noGrad).
import { Tensor, fmtShape, shapeSize } from '../tensor.js';
import { rt } from '../gpu/runtime.js';
import { out } from './dispatch.js';

/** The f32 tensors `parts` (same row shape) stacked along dim 0. */
export function concatRows(parts: readonly Tensor[]): Tensor {
  if (parts.length === 0) throw new Error('flstm: concatRows: no parts');
  const rowShape = parts[0].shape.slice(1);
  for (const p of parts) {
    if (p.dtype !== 'f32' || p.rank !== rowShape.length + 1 || p.shape.slice(1).some((d, i) => d !== rowShape[i])) {
      throw new Error(`flstm: concatRows: parts must be f32 with rows of shape ${fmtShape(rowShape)}, got ${p.dtype} ${fmtShape(p.shape)}`);
    }
  }
  const rows = parts.reduce((a, p) => a + p.shape[0], 0);
  const y = out([rows, ...rowShape], 'f32', 'concatRows');
  let at = 0;
  for (const p of parts) {
    if (p.size > 0) rt().recorder.copy(p.buffer, 0, y.buffer, at * 4, p.size * 4);
    at += p.size;
  }
  return y;
}

/** Rows from .. to - 1 of an f32 tensor, copied. */
export function sliceRows(t: Tensor, from: number, to: number): Tensor {
  if (t.dtype !== 'f32' || t.rank < 1 || !(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= t.shape[0])) {
    throw new Error(`flstm: sliceRows: rows [${from}, ${to}) of an f32 tensor, got ${t.dtype} ${fmtShape(t.shape)}`);
  }
  const rowValues = shapeSize(t.shape.slice(1));
  const y = out([to - from, ...t.shape.slice(1)], 'f32', 'sliceRows');
  if (y.size > 0) rt().recorder.copy(t.buffer, from * rowValues * 4, y.buffer, 0, y.size * 4);
  return y;
}
