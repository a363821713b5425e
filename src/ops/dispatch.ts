// Small helpers shared by the ops: grid folding (it lives in src/gpu/grid.ts, below the tensors,
// for the elementwise kernels' launches), checks with clear messages, output allocation.
import { Tensor, fmtShape, type DType, type Shape } from '../tensor.js';
import { rt } from '../gpu/runtime.js';

export { grid1d } from '../gpu/grid.js';

export function assertTensor(t: unknown, what: string): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new Error(`flstm: ${what} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
  t.buffer; // throws a clear message when disposed
}

export function assertDType(t: Tensor, dtype: DType, op: string, what: string): void {
  if (t.dtype !== dtype) throw new Error(`flstm: ${op}: ${what} must be ${dtype}, got ${t.dtype} ${fmtShape(t.shape)}`);
}

export function out(shape: Shape, dtype: DType, origin: string): Tensor {
  return Tensor.empty(shape, dtype, origin);
}

/** Throws unless the adapter can store f16 (the WebGPU feature shader-f16). */
export function requireF16(op: string): void {
  const info = rt().info;
  if (!info.features.includes('shader-f16')) {
    throw new Error(
      `flstm: ${op}: f16 storage needs the adapter feature shader-f16, which this adapter (${info.description || info.device || info.vendor}) lacks; use f32`,
    );
  }
}
