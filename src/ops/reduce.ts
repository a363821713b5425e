// Reductions: sum (all, or one axis) and mean. Deterministic: each output is summed in a
// fixed order (a loop, or a fixed tree), never with atomics.
import { rt } from '../gpu/runtime.js';
import { kernelFile } from '../gpu/pipelines.js';
import { record } from '../autograd.js';
import { Tensor, fmtShape, shapeSize } from '../tensor.js';
import { assertDType, assertTensor, grid1d, out } from './dispatch.js';
import reduceRowsSrc from '../../kernels/reduce_rows.wgsl';
import reduceTreeSrc from '../../kernels/reduce_tree.wgsl';
import broadcastSrc from '../../kernels/broadcast.wgsl';

const REDUCE_ROWS = kernelFile('reduce_rows', reduceRowsSrc);
const REDUCE_TREE = kernelFile('reduce_tree', reduceTreeSrc);
const BROADCAST = kernelFile('broadcast', broadcastSrc);

/** out[o, j] = alpha * sum_r x[o, r, j], x viewed as [outer, len, inner]. */
export function reduceRaw(x: Tensor, outer: number, len: number, inner: number, alpha: number, shape: readonly number[]): Tensor {
  const y = out(shape, 'f32', 'sum');
  const outputs = outer * inner;
  // Few outputs over a long axis: a workgroup tree per output; otherwise a loop per output.
  // "Few" is relative to the lanes the adapter runs at once: a GPU's thousands, or the 8 per
  // core of a software driver, where a tree's barriers cost more than a loop (the sampled
  // softmax's bias gradient, ~1000 outputs over 640 rows, is such a case).
  const fewOutputs = rt().info.software ? 16 : 2048;
  const tree = outputs < fewOutputs && len >= 64;
  rt().run(tree ? REDUCE_TREE : REDUCE_ROWS, {
    params: { outer, len, inner, alpha },
    buffers: [x.buffer, y.buffer],
    workgroups: tree ? grid1d(outputs, 1) : grid1d(outputs),
  });
  return y;
}

/** y[o, r, j] = alpha * g[o, j]: the gradient of a sum over the middle axis. */
export function broadcastRaw(g: Tensor, outer: number, len: number, inner: number, alpha: number, shape: readonly number[]): Tensor {
  const y = out(shape, 'f32', 'sum.backward');
  rt().run(BROADCAST, {
    params: { outer, len, inner, alpha },
    buffers: [g.buffer, y.buffer],
    workgroups: grid1d(outer * len * inner),
  });
  return y;
}

/** Sums leading rows so that a broadcast operand's gradient gets the operand's size. */
export function sumTo(grad: Tensor, size: number): Tensor {
  return reduceRaw(grad, 1, grad.size / size, size, 1, [size]);
}

function axisView(x: Tensor, axis: number, op: string): [number, number, number, number[]] {
  const r = x.rank;
  const a = axis < 0 ? axis + r : axis;
  if (!Number.isInteger(a) || a < 0 || a >= r) {
    throw new Error(`flstm: ${op}: axis ${axis} is out of range for a tensor of shape ${fmtShape(x.shape)}`);
  }
  const outer = shapeSize(x.shape.slice(0, a));
  const inner = shapeSize(x.shape.slice(a + 1));
  return [outer, x.shape[a], inner, x.shape.filter((_, i) => i !== a)];
}

function reduce(op: 'sum' | 'mean', x: Tensor, axis?: number): Tensor {
  assertTensor(x, `${op}(x)`);
  assertDType(x, 'f32', op, 'x');
  const [outer, len, inner, shape] = axis === undefined ? [1, x.size, 1, []] : axisView(x, axis, op);
  const alpha = op === 'mean' ? 1 / Math.max(1, len) : 1;
  const y = reduceRaw(x, outer, len, inner, alpha, shape);
  return record(y, op, [x], (g) => [broadcastRaw(g, outer, len, inner, alpha, x.shape)]);
}

/** Sum of all elements (a scalar of shape []), or along one axis (that axis removed). */
export const sum = (x: Tensor, axis?: number): Tensor => reduce('sum', x, axis);
/** Mean of all elements, or along one axis. */
export const mean = (x: Tensor, axis?: number): Tensor => reduce('mean', x, axis);
