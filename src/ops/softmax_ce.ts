// Softmax cross-entropy, fused: one kernel computes each row's loss (a stable log-sum-exp)
// and its gradient row (softmax - onehot) / N, saved for backward; the mean over rows is a
// deterministic reduction. Backward scales the saved gradient by the upstream gradient,
// read on the GPU (no host round-trip). Forward and backward side by side.
import { rt } from '../gpu/runtime.js';
import type { KernelSource } from '../gpu/pipelines.js';
import { isGradEnabled, record } from '../autograd.js';
import { Tensor, fmtShape } from '../tensor.js';
import { assertDType, assertTensor, grid1d, out } from './dispatch.js';
import { reduceRaw } from './reduce.js';
import { mul } from './elementwise.js';
import { checkRange, idsTensor, resolveIds, type Ids } from './embedding.js';
import rowsSrc from '../../kernels/softmax_ce_rows.wgsl';
import treeSrc from '../../kernels/softmax_ce_tree.wgsl';

const SOFTMAX_CE_ROWS: KernelSource = { name: 'softmax_ce_rows', code: rowsSrc };
const SOFTMAX_CE_TREE: KernelSource = { name: 'softmax_ce_tree', code: treeSrc };

/** Over this many classes a row gets a workgroup (tree merge); up to it, one invocation. */
const TREE_MIN_CLASSES = 129;
const NAN_BITS = 0x7fc00000;

export interface SoftmaxCrossEntropyOptions {
  /** Kernel variant (tests and benchmarks): one invocation per row, a workgroup per row, or by C. */
  kernel?: 'auto' | 'rows' | 'tree';
}

/**
 * Mean over rows of -log softmax(logits)[row, target]: logits f32 [N, C], targets i32 [N]
 * (a tensor, an Int32Array or number[]) with values in [0, C), checked at the call when
 * their host values are known. Returns a scalar of shape []. Stable for any finite logits.
 */
export function softmaxCrossEntropy(logits: Tensor, targets: Ids, opts: SoftmaxCrossEntropyOptions = {}): Tensor {
  const op = 'softmaxCrossEntropy';
  assertTensor(logits, `${op}(logits, targets): logits`);
  assertDType(logits, 'f32', op, 'logits');
  if (logits.rank !== 2) {
    throw new Error(`flstm: ${op}: logits must be 2-D [rows, classes], got shape ${fmtShape(logits.shape)}`);
  }
  const [N, C] = logits.shape;
  if (N === 0 || C === 0) {
    throw new Error(`flstm: ${op}: logits ${fmtShape(logits.shape)} must have at least one row and one class`);
  }
  const r = resolveIds(targets, op, 'targets');
  if (r.shape.length !== 1 || r.shape[0] !== N) {
    throw new Error(`flstm: ${op}: targets must have shape [${N}] (one per row of logits ${fmtShape(logits.shape)}), got ${fmtShape(r.shape)}`);
  }
  if (r.host) checkRange(r.host, C, r.shape, op, 'target', `${C} classes`);
  const kernel = opts.kernel ?? 'auto';
  const tree = kernel === 'tree' || (kernel === 'auto' && C >= TREE_MIN_CLASSES);
  const needGrad = isGradEnabled() && logits.requiresGrad;

  const rowLoss = out([N], 'f32', op);
  const grad = needGrad ? out([N, C], 'f32', `${op}.grad`) : null;
  const { t: targetsT, temp } = idsTensor(r, `${op}.targets`);
  rt().run(tree ? SOFTMAX_CE_TREE : SOFTMAX_CE_ROWS, {
    overrides: { GRAD: needGrad },
    params: [N, C, 1 / N, NAN_BITS],
    f32Mask: 0b100,
    buffers: [logits.buffer, targetsT.buffer, rowLoss.buffer, grad ? grad.buffer : rt().dummy],
    workgroups: tree ? grid1d(N, 1) : grid1d(N, 64),
  });
  if (temp) targetsT.dispose();
  const loss = reduceRaw(rowLoss, 1, N, 1, 1 / N, []);
  rowLoss.dispose();
  if (!grad) return loss;
  // d loss / d logits = g * saved, with g the upstream scalar gradient (a [] or [1] tensor on the GPU).
  return record(loss, op, [logits], (g) => [mul(grad, g)]);
}
