// The backward of one LSTM layer (src/ops/lstm.ts), as steps: per step in reverse, the
// gradient reaching h_t and the cell backward (fused into the store of the product that
// gives dm where the plan places it there, kernels/lstm_cell_backward_store.wgsl; else its
// own kernel, lstm_cell_backward.wgsl); then the gradients of the initial state, and every
// weight gradient as one product over all T·B rows.
import { rt } from '../gpu/runtime.js';
import { uniform } from '../gpu/uniforms.js';
import { BufferRange } from '../gpu/recorder.js';
import { Tensor } from '../tensor.js';
import { grid1d, out } from './dispatch.js';
import { reduceRaw } from './reduce.js';
import { matmulRaw, operandType, runMatmulCore, type MatmulSpec } from './matmul_kernel.js';
import { CELL_BACKWARD, CELL_BACKWARD_STORE } from './lstm_kernels.js';
import type { FactoredGates, GroupedGates, LstmPlan } from './lstm_plan.js';
import type { LayerForward } from './lstm_forward.js';

type ProductSpec = Omit<MatmulSpec, 'c' | 'bias' | 'activation' | 'accumulate'>;

/** The gradient at the gates' first product: dG itself (lstm/glstm), or dZ = dG·W2^T (flstm). */
type GateBackward = (GroupedGates & { dFirst: Tensor }) | (FactoredGates & { Z: Tensor; dFirst: Tensor });

/** Where the gradient reaching m_t comes from, per placement of the cell backward. dH: dh_t of
 *  every step, dy plus the recurrent part (not needed when the fused step adds dy_t itself). */
type DmSource =
  | { kind: 'after-projection'; dH: Tensor; P: Tensor }
  | { kind: 'after-recurrent' }
  | { kind: 'standalone'; dH: Tensor; dM: Tensor | null };

interface Grads {
  dy: Tensor;
  /** [T, B, 4n]: the pre-activation gate gradients. */
  dG: Tensor;
  /** dc_{t+1} and dc_t: two slots of [B, n] the steps take in turn (step t writes slot t % 2). */
  dcAll: Tensor;
  gate: GateBackward;
  dm: DmSource;
}

function allocate(plan: LstmPlan, f: LayerForward, dy: Tensor): Grads {
  const { T, B, TB, n, p } = plan;
  let dm: DmSource = { kind: 'after-recurrent' };
  if (plan.cellBackward !== 'after-recurrent') {
    const dH = out([T, B, p], 'f32', 'lstm.backward');
    rt().recorder.copy(dy.buffer, 0, dH.buffer, 0, TB * p * 4);
    if (plan.cellBackward === 'after-projection' && f.projection) dm = { kind: 'after-projection', dH, P: f.projection.P };
    else dm = { kind: 'standalone', dH, dM: null };
  }
  const dG = out([T, B, 4 * n], 'f32', 'lstm.backward');
  const gate: GateBackward =
    f.gate.kind === 'factored' ? { ...f.gate, dFirst: out([T, B, f.gate.factor], 'f32', 'lstm.backward') } : { ...f.gate, dFirst: dG };
  // dm_t = dh_t·P^T, one step at a time, for the standalone kernel.
  if (dm.kind === 'standalone' && f.projection) dm.dM = out([B, n], 'f32', 'lstm.backward');
  const dcAll = out([2, B, n], 'f32', 'lstm.backward');
  return { dy, dG, dcAll, gate, dm };
}

const dcSlot = (plan: LstmPlan, s: number) => (s % 2) * plan.B * plan.n;

/** The product giving (the gradient of the gates at step s)·W_h^T, the gradient reaching h_{s-1}. */
function recurrentSpec(plan: LstmPlan, g: GateBackward, s: number): ProductSpec {
  const { B, n, p, inputSize: pin, variant } = plan;
  if (g.kind === 'factored') {
    const r = g.factor;
    return {
      a: g.dFirst.buffer,
      b: g.W1.buffer,
      typeB: operandType(g.W1),
      M: B,
      N: p,
      K: r,
      batch: 1,
      transA: false,
      transB: true,
      lda: r,
      ldb: r,
      ldc: p,
      strideA: 0,
      strideB: 0,
      strideC: 0,
      offA: s * B * r,
      offB: pin * r,
      variant,
    };
  }
  const G4 = g.colsPerGroup;
  return {
    a: g.dFirst.buffer,
    b: g.W.buffer,
    typeB: operandType(g.W),
    M: B,
    N: g.hPerGroup,
    K: G4,
    batch: g.groups,
    transA: false,
    transB: true,
    lda: 4 * n,
    ldb: G4,
    ldc: p,
    strideA: G4,
    strideB: g.rowsPerGroup * G4,
    strideC: g.hPerGroup,
    offA: s * B * 4 * n,
    offB: g.xPerGroup * G4,
    variant,
  };
}

/** dst (+)= the recurrent gradient of step s. */
function recurrent(plan: LstmPlan, g: GateBackward, s: number, dst: GPUBuffer, offDst: number, accumulate: boolean): void {
  matmulRaw({ ...recurrentSpec(plan, g, s), c: dst, offC: offDst, accumulate });
}

/** The fused cell backward's buffers and parameters for step t (dy added when there is no
 *  projection); dGt: where it writes dG_t, the whole buffer or step t's range of it. */
function cellEpilogue(plan: LstmPlan, f: LayerForward, d: Grads, t: number, dGt: GPUBuffer | BufferRange) {
  const { B, n } = plan;
  return [
    plan.P ? rt().dummy : d.dy.buffer,
    f.gates.buffer,
    f.C.buffer,
    d.dcAll.buffer,
    dGt,
    uniform(CELL_BACKWARD_STORE, 8, {
      n,
      offDy: t * B * n,
      offGates: t * B * 4 * n,
      offC: (t + 1) * B * n,
      offCprev: t * B * n,
      offDcNext: dcSlot(plan, t + 1),
      offDcPrev: dcSlot(plan, t),
      offDG: dGt instanceof BufferRange ? 0 : t * B * 4 * n,
    }),
  ];
}

/** dm = dh_t·P^T (dh_t completed by the recurrent gradient first), the cell backward as its epilogue. */
function cellBackwardAfterProjection(plan: LstmPlan, f: LayerForward, d: Grads, dm: { dH: Tensor; P: Tensor }, t: number): void {
  const { B, n, p, variant } = plan;
  const hasNext = t < plan.T - 1;
  if (hasNext) recurrent(plan, d.gate, t + 1, dm.dH.buffer, t * B * p, true);
  runMatmulCore(
    {
      a: dm.dH.buffer,
      b: dm.P.buffer,
      typeB: operandType(dm.P),
      M: B,
      N: n,
      K: p,
      batch: 1,
      transA: false,
      transB: true,
      lda: p,
      ldb: p,
      ldc: n,
      strideA: 0,
      strideB: 0,
      strideC: 0,
      offA: t * B * p,
      variant,
    },
    CELL_BACKWARD_STORE,
    { ADD_DY: false, HAS_DC_NEXT: hasNext },
    cellEpilogue(plan, f, d, t, d.dG.buffer),
  );
}

/** dm = dy_t + step t+1's recurrent gradient (t < T-1), the cell backward as its epilogue. For
 *  lstm/glstm that product reads dG_{t+1} while the epilogue writes dG_t: one buffer cannot be
 *  bound read-only and writable in a dispatch, so the two steps' rows are bound as two
 *  writable ranges of it that do not overlap. */
function cellBackwardAfterRecurrent(plan: LstmPlan, f: LayerForward, d: Grads, t: number): void {
  const spec = recurrentSpec(plan, d.gate, t + 1);
  const overrides = { ADD_DY: true, HAS_DC_NEXT: true };
  if (d.gate.kind === 'factored') {
    runMatmulCore(spec, CELL_BACKWARD_STORE, overrides, cellEpilogue(plan, f, d, t, d.dG.buffer));
    return;
  }
  const stepBytes = plan.B * 4 * plan.n * 4;
  const stepRange = (s: number) => new BufferRange(d.dG.buffer, s * stepBytes, stepBytes);
  runMatmulCore({ ...spec, a: stepRange(t + 1), offA: 0 }, CELL_BACKWARD_STORE, overrides, cellEpilogue(plan, f, d, t, stepRange(t)));
}

/** The standalone kernel: dm from dM (projection), dH, or dy (the last step of a fused layer). */
function cellBackwardStandalone(plan: LstmPlan, f: LayerForward, d: Grads, t: number): void {
  const { B, n, p, variant } = plan;
  const hasNext = t < plan.T - 1;
  let dm = d.dy;
  if (d.dm.kind === 'standalone') {
    const { dH, dM } = d.dm;
    if (hasNext) recurrent(plan, d.gate, t + 1, dH.buffer, t * B * p, true);
    if (dM && plan.P) {
      matmulRaw({
        a: dH.buffer,
        b: plan.P.buffer,
        typeB: operandType(plan.P),
        c: dM.buffer,
        M: B,
        N: n,
        K: p,
        batch: 1,
        transA: false,
        transB: true,
        lda: p,
        ldb: p,
        ldc: n,
        strideA: 0,
        strideB: 0,
        strideC: 0,
        offA: t * B * p,
        variant,
      });
    }
    dm = dM ?? dH;
  }
  rt().run(CELL_BACKWARD, {
    overrides: { HAS_DC_NEXT: hasNext },
    params: {
      count: B * n,
      n,
      offDm: plan.P ? 0 : t * B * p,
      offGates: t * B * 4 * n,
      offC: (t + 1) * B * n,
      offCprev: t * B * n,
      offDcNext: dcSlot(plan, t + 1),
      offDcPrev: dcSlot(plan, t),
    },
    buffers: [dm.buffer, f.gates.buffer, f.C.buffer, d.dcAll.buffer, d.dG.buffer],
    workgroups: grid1d(B * n),
  });
}

/** flstm: dZ_t = dG_t·W2^T, the gradient at the first product (and the next step's recurrent input). */
function factoredStepGradient(plan: LstmPlan, d: Grads, t: number): void {
  const g = d.gate;
  if (g.kind !== 'factored') return;
  const { B, n, variant } = plan;
  matmulRaw({
    a: d.dG.buffer,
    b: g.W2.buffer,
    typeB: operandType(g.W2),
    c: g.dFirst.buffer,
    M: B,
    N: g.factor,
    K: 4 * n,
    batch: 1,
    transA: false,
    transB: true,
    lda: 4 * n,
    ldb: 4 * n,
    ldc: g.factor,
    strideA: 0,
    strideB: 0,
    strideC: 0,
    offA: t * B * 4 * n,
    offC: t * B * g.factor,
    variant,
  });
}

function stepBackward(plan: LstmPlan, f: LayerForward, d: Grads, t: number): void {
  if (d.dm.kind === 'after-projection') cellBackwardAfterProjection(plan, f, d, d.dm, t);
  else if (d.dm.kind === 'after-recurrent' && t < plan.T - 1) cellBackwardAfterRecurrent(plan, f, d, t);
  else cellBackwardStandalone(plan, f, d, t);
  factoredStepGradient(plan, d, t);
}

/** dh0: the recurrent gradient of step 0. */
function initialHGradient(plan: LstmPlan, d: Grads): Tensor {
  const dh0 = out([plan.B, plan.p], 'f32', 'lstm.backward');
  recurrent(plan, d.gate, 0, dh0.buffer, 0, false);
  return dh0;
}

/** dc0: slot 0 of dcAll after step 0. */
function initialCGradient(plan: LstmPlan, d: Grads): Tensor {
  const dc0 = out([plan.B, plan.n], 'f32', 'lstm.backward');
  rt().recorder.copy(d.dcAll.buffer, 0, dc0.buffer, 0, plan.B * plan.n * 4);
  return dc0;
}

/** The first product's sizes, per group: its weight, columns, groups, leading dimension, rows of x and h. */
function firstProduct(plan: LstmPlan, g: GateBackward) {
  if (g.kind === 'factored')
    return {
      W: g.W1,
      cols: g.factor,
      batch: 1,
      ld: g.factor,
      xRows: plan.inputSize,
      hRows: plan.p,
      groupStride: 0,
      xStride: 0,
      hStride: 0,
    };
  return {
    W: g.W,
    cols: g.colsPerGroup,
    batch: g.groups,
    ld: 4 * plan.n,
    xRows: g.xPerGroup,
    hRows: g.hPerGroup,
    groupStride: g.rowsPerGroup * g.colsPerGroup,
    xStride: g.xPerGroup,
    hStride: g.hPerGroup,
  };
}

/** dX = dFirst · (x rows of the first weight)^T, per group. */
function inputGradient(plan: LstmPlan, d: Grads, x: Tensor): Tensor {
  const q = firstProduct(plan, d.gate);
  const dx = out(x.shape, 'f32', 'lstm.backward');
  matmulRaw({
    a: d.gate.dFirst.buffer,
    b: q.W.buffer,
    typeB: operandType(q.W),
    c: dx.buffer,
    M: plan.TB,
    N: q.xRows,
    K: q.cols,
    batch: q.batch,
    transA: false,
    transB: true,
    lda: q.ld,
    ldb: q.cols,
    ldc: plan.inputSize,
    strideA: q.cols,
    strideB: q.groupStride,
    strideC: q.xStride,
    variant: plan.variant,
  });
  return dx;
}

/** d(first weight) = [X; H_prev]^T · dFirst, written per group into its x rows and h rows. */
function firstWeightGradient(plan: LstmPlan, f: LayerForward, d: Grads, x: Tensor, h0: Tensor): Tensor {
  const { T, B, TB, inputSize: pin, p, variant } = plan;
  const q = firstProduct(plan, d.gate);
  const dFirst = d.gate.dFirst;
  const dW = out(q.W.shape, 'f32', 'lstm.backward');
  matmulRaw({
    a: x.buffer,
    typeA: operandType(x),
    b: dFirst.buffer,
    c: dW.buffer,
    M: q.xRows,
    N: q.cols,
    K: TB,
    batch: q.batch,
    transA: true,
    transB: false,
    lda: pin,
    ldb: q.ld,
    ldc: q.cols,
    strideA: q.xStride,
    strideB: q.cols,
    strideC: q.groupStride,
    variant,
  });
  matmulRaw({
    a: h0.buffer,
    b: dFirst.buffer,
    c: dW.buffer,
    M: q.hRows,
    N: q.cols,
    K: B,
    batch: q.batch,
    transA: true,
    transB: false,
    lda: p,
    ldb: q.ld,
    ldc: q.cols,
    strideA: q.hStride,
    strideB: q.cols,
    strideC: q.groupStride,
    offC: q.xRows * q.cols,
    variant,
  });
  if (T > 1) {
    matmulRaw({
      a: f.y.buffer,
      b: dFirst.buffer,
      c: dW.buffer,
      M: q.hRows,
      N: q.cols,
      K: (T - 1) * B,
      batch: q.batch,
      transA: true,
      transB: false,
      lda: p,
      ldb: q.ld,
      ldc: q.cols,
      strideA: q.hStride,
      strideB: q.cols,
      strideC: q.groupStride,
      offB: B * q.ld,
      offC: q.xRows * q.cols,
      accumulate: true,
      variant,
    });
  }
  return dW;
}

/** flstm: dW2 = Z^T · dG. */
function secondWeightGradient(plan: LstmPlan, g: FactoredGates & { Z: Tensor }, d: Grads): Tensor {
  const { TB, n, variant } = plan;
  const r = g.factor;
  const dW2 = out(g.W2.shape, 'f32', 'lstm.backward');
  matmulRaw({
    a: g.Z.buffer,
    b: d.dG.buffer,
    c: dW2.buffer,
    M: r,
    N: 4 * n,
    K: TB,
    batch: 1,
    transA: true,
    transB: false,
    lda: r,
    ldb: 4 * n,
    ldc: 4 * n,
    strideA: 0,
    strideB: 0,
    strideC: 0,
    variant,
  });
  return dW2;
}

/** dP = M^T · dH. */
function projectionGradient(plan: LstmPlan, M: Tensor, dH: Tensor): Tensor {
  const { TB, n, p, variant } = plan;
  const dP = out([n, p], 'f32', 'lstm.backward');
  matmulRaw({
    a: M.buffer,
    b: dH.buffer,
    c: dP.buffer,
    M: n,
    N: p,
    K: TB,
    batch: 1,
    transA: true,
    transB: false,
    lda: n,
    ldb: p,
    ldc: p,
    strideA: 0,
    strideB: 0,
    strideC: 0,
    variant,
  });
  return dP;
}

/** The weight gradients in the order of the layer's parameters: W or W1, W2, b, P. */
function weightGradients(plan: LstmPlan, f: LayerForward, d: Grads, x: Tensor, h0: Tensor): (Tensor | null)[] {
  const g = d.gate;
  const first = g.kind === 'factored' ? g.W1 : g.W;
  const dFirstW = first.requiresGrad ? firstWeightGradient(plan, f, d, x, h0) : null;
  const dW2 = g.kind === 'factored' && g.W2.requiresGrad ? secondWeightGradient(plan, g, d) : null;
  const db = plan.b.requiresGrad ? reduceRaw(d.dG, 1, plan.TB, 4 * plan.n, 1, [4 * plan.n]) : null;
  const dH = d.dm.kind === 'after-recurrent' ? null : d.dm.dH;
  const dP = f.projection && dH && f.projection.P.requiresGrad ? projectionGradient(plan, f.projection.M, dH) : null;
  const grads = g.kind === 'factored' ? [dFirstW, dW2, db] : [dFirstW, db];
  if (f.projection) grads.push(dP);
  return grads;
}

/** The gradients of x, h0, c0 and the weights, from dy [T, B, p]. */
export function lstmBackward(plan: LstmPlan, f: LayerForward, x: Tensor, h0: Tensor, c0: Tensor, dy: Tensor): (Tensor | null)[] {
  const d = allocate(plan, f, dy);
  for (let t = plan.T - 1; t >= 0; t--) stepBackward(plan, f, d, t);
  if (d.dm.kind === 'standalone') d.dm.dM?.dispose();
  const dh0 = h0.requiresGrad ? initialHGradient(plan, d) : null;
  const dc0 = c0.requiresGrad ? initialCGradient(plan, d) : null;
  d.dcAll.dispose();
  const dx = x.requiresGrad ? inputGradient(plan, d, x) : null;
  const weightGrads = weightGradients(plan, f, d, x, h0);
  if (d.dm.kind !== 'after-recurrent') d.dm.dH.dispose();
  d.dG.dispose();
  if (d.gate.kind === 'factored') d.gate.dFirst.dispose();
  return [dx, dh0, dc0, ...weightGrads];
}
