// Softmax cross-entropy, fused: the forward computes each row's loss (a stable log-sum-exp)
// and keeps the row losses; the mean over rows is a deterministic reduction. Backward
// recomputes softmax - onehot from the row losses in one elementwise pass that also applies
// the upstream gradient (read on the GPU, no host round-trip): no [N, C] gradient is held
// from forward to backward, and no separate pass scales it. Forward and backward side by side.
import { rt } from '../gpu/runtime.js';
import { kernelFile } from '../gpu/pipelines.js';
import { composeKernel } from '../gpu/compose.js';
import { isGradEnabled, record } from '../autograd.js';
import { Tensor, fmtShape } from '../tensor.js';
import { assertDType, assertTensor, grid1d, out } from './dispatch.js';
import { reduceRaw } from './reduce.js';
import { checkRange, idsTensor, resolveIds, type Ids } from './embedding.js';
import rowsSrc from '../../kernels/softmax_ce_rows.wgsl';
import treeSrc from '../../kernels/softmax_ce_tree.wgsl';
import gradSrc from '../../kernels/softmax_ce_grad.wgsl';

const SOFTMAX_CE_ROWS = kernelFile('softmax_ce_rows', rowsSrc);
const SOFTMAX_CE_TREE = kernelFile('softmax_ce_tree', treeSrc);

/** The gradient kernel with its element prelude: rows read and written as vec4 when C % 4 == 0. */
const gradKernel = (vec4: boolean) => (vec4 ? GRAD_VEC4 : GRAD_SCALAR);
const GRAD_FILE = kernelFile('softmax_ce_grad', gradSrc);
const GRAD_SCALAR = composeKernel('softmax_ce_grad', [
  {
    generated: 'softmax_ce_grad element access, scalar',
    code: `@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;
const WIDTH = 1u;
fn logitAt(i: u32) -> f32 { return logits[i]; }
fn loadUnit(u: u32) -> vec4f { return vec4f(logits[u]); }
fn storeUnit(u: u32, v: vec4f) { grad[u] = v.x; }
`,
  },
  GRAD_FILE,
]);
const GRAD_VEC4 = composeKernel('softmax_ce_grad_vec4', [
  {
    generated: 'softmax_ce_grad element access, vec4',
    code: `@group(0) @binding(1) var<storage, read> logits: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> grad: array<vec4f>;
const WIDTH = 4u;
fn logitAt(i: u32) -> f32 { return logits[i / 4u][i % 4u]; }
fn loadUnit(u: u32) -> vec4f { return logits[u]; }
fn storeUnit(u: u32, v: vec4f) { grad[u] = v; }
`,
  },
  GRAD_FILE,
]);

/** Over this many classes a row gets a workgroup (tree merge); up to it, one invocation. */
const TREE_MIN_CLASSES = 129;
const NAN_BITS = 0x7fc00000;

export interface SoftmaxCrossEntropyOptions {
  /** Kernel variant (tests and benchmarks): one invocation per row, a workgroup per row, or by C. */
  kernel?: 'auto' | 'rows' | 'tree';
  /**
   * Columns [from, to) that take part only in the rows whose target they are: every other
   * row leaves them out of its softmax (as if their logit were minus infinity), and their
   * gradient there is 0. Sampled softmax puts the batch's targets that were not sampled there.
   */
  exclude?: [number, number];
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
    throw new Error(
      `flstm: ${op}: targets must have shape [${N}] (one per row of logits ${fmtShape(logits.shape)}), got ${fmtShape(r.shape)}`,
    );
  }
  if (r.host) checkRange(r.host, C, r.shape, op, 'target', `${C} classes`);
  const [lo, hi] = opts.exclude ?? [0, 0];
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 0 && lo <= hi && hi <= C)) {
    throw new Error(`flstm: ${op}: exclude must be a column range [from, to) with 0 <= from <= to <= ${C}, got [${opts.exclude}]`);
  }
  const kernel = opts.kernel ?? 'auto';
  // A software driver runs 8 lanes per core, and its barriers are slow: there a row per
  // invocation wins as soon as there are rows for the lanes (timings: bench/README.md,
  // `flstm bench --suite kernels`).
  const tree = kernel === 'tree' || (kernel === 'auto' && C >= TREE_MIN_CLASSES && (!rt().info.software || N < 64));
  const needGrad = isGradEnabled() && logits.requiresGrad;

  const rowLoss = out([N], 'f32', op);
  const { t: targetsT, temp } = idsTensor(r, `${op}.targets`);
  rt().run(tree ? SOFTMAX_CE_TREE : SOFTMAX_CE_ROWS, {
    params: { n: N, c: C, invN: 1 / N, badBits: NAN_BITS, lo, hi },
    buffers: [logits.buffer, targetsT.buffer, rowLoss.buffer],
    workgroups: tree ? grid1d(N, 1) : grid1d(N, 64),
  });
  const loss = reduceRaw(rowLoss, 1, N, 1, 1 / N, []);
  const release = () => {
    rowLoss.dispose();
    if (temp) targetsT.dispose();
  };
  if (!needGrad) {
    release();
    return loss;
  }
  // d loss / d logits = g * (softmax - onehot) / N, with g the upstream scalar gradient.
  const y = record(loss, op, [logits], (g) => {
    const vec4 = C % 4 === 0;
    const units = (N * C) / (vec4 ? 4 : 1);
    const grad = out([N, C], 'f32', `${op}.grad`);
    rt().run(gradKernel(vec4), {
      params: { units, c: C, invN: 1 / N, lo, hi },
      buffers: [logits.buffer, targetsT.buffer, rowLoss.buffer, g.buffer, grad.buffer],
      workgroups: grid1d(units),
    });
    release();
    return [grad];
  });
  if (!y.node) release(); // no backward will come (the tape is off)
  return y;
}
