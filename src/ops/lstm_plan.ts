// The plan of one LSTM layer call (src/ops/lstm.ts): its inputs checked, its sizes, the
// weights of its gate product by kind, and where the cell backward runs and why. Built once
// per call; the forward (lstm_forward.ts) and backward (lstm_backward.ts) steps read it.
import { rt } from '../gpu/runtime.js';
import { Tensor, fmtShape } from '../tensor.js';
import { assertDType, assertTensor, requireF16 } from './dispatch.js';
import type { MatmulVariant } from './matmul_kernel.js';
import { CELL_KINDS, cellSpec, orList, type CellKind } from '../nn/cells.js';
import { lstmOutputSize, type LayerSizes } from '../nn/sizes.js';

export type { CellKind };

/** Sizes of one layer. Gate order, interleaving and forget bias: see src/ref/lstm.ts. */
export interface LstmConfig extends LayerSizes {
  cell: CellKind;
  /** Force a matmul kernel variant for every product (tests, benches). */
  variant?: MatmulVariant;
}

/** lstm/glstm: W [k, (p_in+p)/k, 4n/k] (lstm: [(p_in+p), 4n]); flstm: W1 [(p_in+p), r], W2 [r, 4n]. */
export interface LstmWeights {
  W?: Tensor;
  W1?: Tensor;
  W2?: Tensor;
  b: Tensor;
  P?: Tensor;
}

export interface LstmResult {
  /** [T, B, p], differentiable with respect to x, h0, c0 and the weights. */
  y: Tensor;
  /** h_T [B, p] and c_T [B, n]: the state to carry into the next call (detached). */
  h: Tensor;
  c: Tensor;
}

/**
 * lstm and glstm: gates = [x; h]·W + b, one product per G-LSTM group (an LSTM is one group).
 * Group j reads x columns j·xPerGroup.. and h columns j·hPerGroup.., and writes gate columns
 * j·colsPerGroup..; the rows of its block W[j] are [x^j; h^j].
 */
export interface GroupedGates {
  kind: 'grouped';
  W: Tensor;
  groups: number; // k
  colsPerGroup: number; // 4n/k
  xPerGroup: number; // p_in/k
  hPerGroup: number; // p/k
  rowsPerGroup: number; // (p_in + p)/k: the rows of one block
}

/** flstm: gates = ([x; h]·W1)·W2 + b. */
export interface FactoredGates {
  kind: 'factored';
  W1: Tensor;
  W2: Tensor;
  factor: number; // r
}

export type GateProduct = GroupedGates | FactoredGates;

/**
 * Where the cell backward of a step runs. Fused, it is the store epilogue of the product that
 * gives dm (no dispatch and no dm buffer of its own):
 * - 'after-projection': dm = dh_t·P^T, every step;
 * - 'after-recurrent' (no projection): dm = dy_t + (the gates' gradient of step t+1)·W_h^T,
 *   for every step but the last, which has no such product and runs 'standalone';
 * - 'standalone': a kernel of its own, every step.
 */
export type CellBackwardPlacement = 'after-projection' | 'after-recurrent' | 'standalone';

export interface LstmPlan {
  cell: CellKind;
  T: number;
  B: number;
  /** T·B: the rows of the sequence-wide products. */
  TB: number;
  inputSize: number; // p_in
  n: number;
  p: number;
  variant?: MatmulVariant;
  gates: GateProduct;
  b: Tensor;
  /** The projection P [n, p]; null without one (then p = n and h_t = m_t). */
  P: Tensor | null;
  /** The fused cell backward takes four units per store: n a multiple of 4. */
  unitsInFours: boolean;
  /** Without projection the recurrent product's columns are h units, per group: p/k a multiple of 4. */
  groupHInFours: boolean;
  /** The grouped recurrent product reads dG_{t+1} while its epilogue writes dG_t, as two
   *  ranges of one buffer: a step's bytes must be a multiple of the offset alignment. */
  stepRangesAligned: boolean;
  cellBackward: CellBackwardPlacement;
}

function expectShape(t: Tensor, shape: number[], what: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`flstm: lstm: ${what} has shape ${fmtShape(t.shape)}, expected ${fmtShape(shape)}`);
  }
}

function weight(t: Tensor | undefined, name: string, cell: CellKind): Tensor {
  if (!t) throw new Error(`flstm: lstm: the ${cell} cell needs the weight ${name}`);
  return t;
}

/** x [T, B, p_in], h0 [B, p], c0 [B, n]: returns T and B. */
function checkInputs(x: Tensor, h0: Tensor, c0: Tensor, cfg: LstmConfig): { T: number; B: number } {
  assertTensor(x, 'lstm input x');
  // x may be an f16 copy (fl.cast): the products that read it (x·W, and X^T·dG for dW) read f16.
  if (x.dtype === 'f16') requireF16('lstm');
  else assertDType(x, 'f32', 'lstm', 'x');
  if (x.rank !== 3) throw new Error(`flstm: lstm: input must be [T, B, ${cfg.inputSize}], got ${fmtShape(x.shape)}`);
  const [T, B, pin] = x.shape;
  if (pin !== cfg.inputSize)
    throw new Error(`flstm: lstm: input has width ${pin} (shape ${fmtShape(x.shape)}), expected inputSize ${cfg.inputSize}`);
  if (T === 0) throw new Error(`flstm: lstm: the sequence is empty (shape ${fmtShape(x.shape)})`);
  expectShape(h0, [B, lstmOutputSize(cfg)], 'state h');
  expectShape(c0, [B, cfg.hiddenSize], 'state c');
  return { T, B };
}

/** The gate product's weights, their shapes checked. */
function gateProduct(w: LstmWeights, cfg: LstmConfig): GateProduct {
  const { inputSize: pin, hiddenSize: n, cell } = cfg;
  const p = lstmOutputSize(cfg);
  if (!CELL_KINDS.includes(cell)) throw new Error(`flstm: lstm: unknown cell '${String(cell)}' (expected ${orList(CELL_KINDS)})`);
  const product = cellSpec(cell).gates(cfg);
  if (product.kind === 'factored') {
    const { factor } = product;
    const W1 = weight(w.W1, 'W1', cell);
    const W2 = weight(w.W2, 'W2', cell);
    expectShape(W1, [pin + p, factor], 'W1');
    expectShape(W2, [factor, 4 * n], 'W2');
    return { kind: 'factored', W1, W2, factor };
  }
  const k = product.groups;
  const gates: GroupedGates = {
    kind: 'grouped',
    W: weight(w.W, 'W', cell),
    groups: k,
    colsPerGroup: (4 * n) / k,
    xPerGroup: pin / k,
    hPerGroup: p / k,
    rowsPerGroup: pin / k + p / k,
  };
  if (k === 1 && gates.W.rank === 2) expectShape(gates.W, [pin + p, 4 * n], 'W');
  else expectShape(gates.W, [k, gates.rowsPerGroup, gates.colsPerGroup], 'W');
  return gates;
}

/** The bias and the matrices' dtypes (the matrices may be f16 copies: products read them as
 *  f16 and accumulate in f32), and P's shape. */
function checkWeights(w: LstmWeights, cfg: LstmConfig): Tensor | null {
  expectShape(w.b, [4 * cfg.hiddenSize], 'b');
  assertDType(w.b, 'f32', 'lstm', 'b');
  for (const [name, t] of [
    ['W', w.W],
    ['W1', w.W1],
    ['W2', w.W2],
    ['P', w.P],
  ] as const) {
    if (t?.dtype === 'f16') requireF16('lstm');
    else if (t && t.dtype !== 'f32') throw new Error(`flstm: lstm: ${name} must be f32 or f16, got ${t.dtype} ${fmtShape(t.shape)}`);
  }
  if (!cfg.projSize) return null;
  const P = weight(w.P, 'P', cfg.cell);
  expectShape(P, [cfg.hiddenSize, cfg.projSize], 'P');
  return P;
}

function placeCellBackward(plan: Omit<LstmPlan, 'cellBackward'>): CellBackwardPlacement {
  if (!plan.unitsInFours) return 'standalone';
  if (plan.P) return 'after-projection';
  const recurrentFits = plan.gates.kind === 'factored' || plan.stepRangesAligned;
  return plan.groupHInFours && recurrentFits ? 'after-recurrent' : 'standalone';
}

/** Checks the call's tensors against `cfg` and plans the layer. */
export function planLayer(x: Tensor, h0: Tensor, c0: Tensor, w: LstmWeights, cfg: LstmConfig): LstmPlan {
  const { T, B } = checkInputs(x, h0, c0, cfg);
  const n = cfg.hiddenSize;
  const p = lstmOutputSize(cfg);
  const gates = gateProduct(w, cfg);
  const P = checkWeights(w, cfg);
  const hPerGroup = gates.kind === 'grouped' ? gates.hPerGroup : p;
  const stepBytes = B * 4 * n * 4;
  const plan = {
    cell: cfg.cell,
    T,
    B,
    TB: T * B,
    inputSize: cfg.inputSize,
    n,
    p,
    variant: cfg.variant,
    gates,
    b: w.b,
    P,
    unitsInFours: n % 4 === 0,
    groupHInFours: hPerGroup % 4 === 0,
    stepRangesAligned: stepBytes % rt().limits.minStorageBufferOffsetAlignment === 0,
  };
  return { ...plan, cellBackward: placeCellBackward(plan) };
}
