// The forward of one LSTM layer (src/ops/lstm.ts), as steps: the input half of every step's
// gates in one product over the sequence, then per step the recurrent product with the cell
// fused into its store (kernels/lstm_cell_store.wgsl) and the projection.
import { rt } from '../gpu/runtime.js';
import { uniform } from '../gpu/uniforms.js';
import { Tensor } from '../tensor.js';
import { out } from './dispatch.js';
import { matmulRaw, operandType, runMatmulCore } from './matmul_kernel.js';
import { CELL_STORE } from './lstm_kernels.js';
import type { FactoredGates, GroupedGates, LstmPlan } from './lstm_plan.js';

/** The gate product with what its backward needs: for flstm Z = [X; H_prev]·W1, [T, B, r]. */
export type GateForward = GroupedGates | (FactoredGates & { Z: Tensor });

/** What the forward leaves for the backward (besides the inputs). */
export interface LayerForward {
  /** [T, B, p]: the output, and h_{t-1} of every step after the first. */
  y: Tensor;
  /** [T, B, 4n]: the post-activation gates i, f, g, o of every step. */
  gates: Tensor;
  /** [T + 1, B, n]: c0 in slot 0, c_t in slot t+1. */
  C: Tensor;
  /** With projection: P and m_t of every step [T, B, n] (the projection's input, for dP). */
  projection: { P: Tensor; M: Tensor } | null;
  gate: GateForward;
}

/** The buffers the steps write; M is m_t for all steps with projection, else one step's. */
interface StepBuffers {
  y: Tensor;
  gates: Tensor;
  C: Tensor;
  M: Tensor;
}

function allocate(plan: LstmPlan, c0: Tensor): StepBuffers {
  const { T, B, n, p } = plan;
  const gates = out([T, B, 4 * n], 'f32', 'lstm.gates');
  // c_t in slot t+1, c0 copied into slot 0 (the cell reads c_{t-1} and writes c_t through one binding).
  const C = out([T + 1, B, n], 'f32', 'lstm.c');
  rt().recorder.copy(c0.buffer, 0, C.buffer, 0, B * n * 4);
  const y = out([T, B, p], 'f32', 'lstm');
  // m_t for all steps (the projection's input, saved for dP); without projection h_t = m_t is
  // written to a one-step buffer and copied into y, since the next step reads h_t from y and
  // one buffer cannot be read and written in one dispatch.
  const M = plan.P ? out([T, B, n], 'f32', 'lstm.m') : out([B, n], 'f32', 'lstm.m');
  return { y, gates, C, M };
}

/** lstm/glstm: U = X·Wx + b [T, B, 4n], per group; the addend of every step's cell. */
function inputProductGrouped(plan: LstmPlan, g: GroupedGates, x: Tensor): Tensor {
  const { T, B, TB, n, inputSize: pin, variant } = plan;
  const U = out([T, B, 4 * n], 'f32', 'lstm.u');
  matmulRaw({
    a: x.buffer,
    typeA: operandType(x),
    b: g.W.buffer,
    typeB: operandType(g.W),
    c: U.buffer,
    bias: plan.b.buffer,
    M: TB,
    N: g.colsPerGroup,
    K: g.xPerGroup,
    batch: g.groups,
    transA: false,
    transB: false,
    lda: pin,
    ldb: g.colsPerGroup,
    ldc: 4 * n,
    strideA: g.xPerGroup,
    strideB: g.rowsPerGroup * g.colsPerGroup,
    strideC: g.colsPerGroup,
    strideBias: g.colsPerGroup,
    variant,
  });
  return U;
}

/** flstm: Z = X·W1x [T, B, r]; each step adds h_{t-1}·W1h to its rows. */
function inputProductFactored(plan: LstmPlan, g: FactoredGates, x: Tensor): Tensor {
  const { T, B, TB, inputSize: pin, variant } = plan;
  const r = g.factor;
  const Z = out([T, B, r], 'f32', 'lstm.z');
  matmulRaw({
    a: x.buffer,
    typeA: operandType(x),
    b: g.W1.buffer,
    typeB: operandType(g.W1),
    c: Z.buffer,
    M: TB,
    N: r,
    K: pin,
    batch: 1,
    transA: false,
    transB: false,
    lda: pin,
    ldb: r,
    ldc: r,
    strideA: 0,
    strideB: 0,
    strideC: 0,
    variant,
  });
  return Z;
}

/** The cell epilogue's buffers from binding 3: addend, c, gates, m and its parameters for step t. */
function cellStoreBindings(plan: LstmPlan, s: StepBuffers, t: number, addend: GPUBuffer, offAdd: number, ldAdd: number) {
  const { B, n } = plan;
  return [
    addend,
    s.C.buffer,
    s.gates.buffer,
    s.M.buffer,
    uniform(CELL_STORE, 7, {
      n,
      ldAdd,
      offAdd,
      offCprev: t * B * n,
      offGates: t * B * 4 * n,
      offC: (t + 1) * B * n,
      offM: plan.P ? t * B * n : 0,
    }),
  ];
}

/** gates = U_t + h_{t-1}·Wh per group, with the cell as epilogue. */
function recurrentStepGrouped(plan: LstmPlan, g: GroupedGates, s: StepBuffers, U: Tensor, t: number, hPrev: GPUBuffer, offH: number): void {
  const { B, n, p, variant } = plan;
  runMatmulCore(
    {
      a: hPrev,
      b: g.W.buffer,
      typeB: operandType(g.W),
      M: B,
      N: g.colsPerGroup,
      K: g.hPerGroup,
      batch: g.groups,
      transA: false,
      transB: false,
      lda: p,
      ldb: g.colsPerGroup,
      ldc: 4 * n,
      strideA: g.hPerGroup,
      strideB: g.rowsPerGroup * g.colsPerGroup,
      strideC: g.colsPerGroup,
      offA: offH,
      offB: g.xPerGroup * g.colsPerGroup,
      variant,
    },
    CELL_STORE,
    {},
    cellStoreBindings(plan, s, t, U.buffer, t * B * 4 * n, 4 * n),
  );
}

/** z_t += h_{t-1}·W1h, then gates = z_t·W2 + b with the cell as epilogue. */
function recurrentStepFactored(
  plan: LstmPlan,
  g: FactoredGates,
  s: StepBuffers,
  Z: Tensor,
  t: number,
  hPrev: GPUBuffer,
  offH: number,
): void {
  const { B, n, p, inputSize: pin, variant } = plan;
  const r = g.factor;
  matmulRaw({
    a: hPrev,
    b: g.W1.buffer,
    typeB: operandType(g.W1),
    c: Z.buffer,
    M: B,
    N: r,
    K: p,
    batch: 1,
    transA: false,
    transB: false,
    lda: p,
    ldb: r,
    ldc: r,
    strideA: 0,
    strideB: 0,
    strideC: 0,
    offA: offH,
    offB: pin * r,
    offC: t * B * r,
    accumulate: true,
    variant,
  });
  runMatmulCore(
    {
      a: Z.buffer,
      b: g.W2.buffer,
      typeB: operandType(g.W2),
      M: B,
      N: 4 * n,
      K: r,
      batch: 1,
      transA: false,
      transB: false,
      lda: r,
      ldb: 4 * n,
      ldc: 4 * n,
      strideA: 0,
      strideB: 0,
      strideC: 0,
      offA: t * B * r,
      variant,
    },
    CELL_STORE,
    {},
    cellStoreBindings(plan, s, t, plan.b.buffer, 0, 0),
  );
}

/** y_t = m_t·P, or (no projection) y_t = m_t copied from the one-step buffer. */
function projectStep(plan: LstmPlan, s: StepBuffers, t: number): void {
  const { B, n, p, variant } = plan;
  if (plan.P) {
    matmulRaw({
      a: s.M.buffer,
      b: plan.P.buffer,
      typeB: operandType(plan.P),
      c: s.y.buffer,
      M: B,
      N: p,
      K: n,
      batch: 1,
      transA: false,
      transB: false,
      lda: n,
      ldb: p,
      ldc: p,
      strideA: 0,
      strideB: 0,
      strideC: 0,
      offA: t * B * n,
      offC: t * B * p,
      variant,
    });
  } else rt().recorder.copy(s.M.buffer, 0, s.y.buffer, t * B * n * 4, B * n * 4);
}

/** Runs the layer over the sequence; returns what the backward needs. */
export function lstmForward(plan: LstmPlan, x: Tensor, h0: Tensor, c0: Tensor): LayerForward {
  const s = allocate(plan, c0);
  const g = plan.gates;
  const addend = g.kind === 'grouped' ? inputProductGrouped(plan, g, x) : inputProductFactored(plan, g, x);
  for (let t = 0; t < plan.T; t++) {
    const hPrev = t === 0 ? h0.buffer : s.y.buffer;
    const offH = t === 0 ? 0 : (t - 1) * plan.B * plan.p;
    if (g.kind === 'grouped') recurrentStepGrouped(plan, g, s, addend, t, hPrev, offH);
    else recurrentStepFactored(plan, g, s, addend, t, hPrev, offH);
    projectStep(plan, s, t);
  }
  if (!plan.P) s.M.dispose();
  if (g.kind === 'grouped') addend.dispose();
  return {
    y: s.y,
    gates: s.gates,
    C: s.C,
    projection: plan.P ? { P: plan.P, M: s.M } : null,
    gate: g.kind === 'grouped' ? g : { ...g, Z: addend },
  };
}

/** The carried state: copies of the last step's h and c (y and C keep their own storage). */
export function carriedState(plan: LstmPlan, f: LayerForward): { h: Tensor; c: Tensor } {
  const { T, B, n, p } = plan;
  const h = out([B, p], 'f32', 'lstm.h');
  const c = out([B, n], 'f32', 'lstm.c');
  rt().recorder.copy(f.y.buffer, (T - 1) * B * p * 4, h.buffer, 0, B * p * 4);
  rt().recorder.copy(f.C.buffer, T * B * n * 4, c.buffer, 0, B * n * 4);
  return { h, c };
}
