// fl.lstmSequence: one LSTM layer over a whole sequence as one autograd node, run the way
// cuDNN runs it (docs/model.md), for the three cells of the paper:
//   lstm  (LSTMP) and glstm (groups): one code path; an LSTM is a G-LSTM with k = 1.
//   flstm: gates = W2·(W1·[x; h]) + b.
// Forward: the input half of every step's gates in one large product (U = X·Wx + b, or
// Z = X·W1x for F-LSTM), then per step one fused dispatch (the recurrent product with the
// cell as its epilogue, kernels/lstm_cell_store.wgsl) and the projection. Backward: per
// step in reverse, the recurrent gradient and the projection's, the cell backward as the
// epilogue of the product that gives dm (kernels/lstm_cell_backward_store.wgsl; a kernel of
// its own where that cannot apply, lstm_cell_backward.wgsl); then every weight gradient as
// one large product over all T·B rows. Everything is encoded into the current command
// encoder: no host round trip.
import { rt } from '../gpu/runtime.js';
import { uniform } from '../gpu/uniforms.js';
import { BufferRange } from '../gpu/recorder.js';
import { kernelFile } from '../gpu/pipelines.js';
import { composeKernel } from '../gpu/compose.js';
import { record } from '../autograd.js';
import { Tensor, fmtShape } from '../tensor.js';
import { assertDType, assertTensor, grid1d, out, requireF16 } from './dispatch.js';
import { reduceRaw } from './reduce.js';
import { matmulRaw, operandType, runMatmulCore, type MatmulVariant } from './matmul_kernel.js';
import cellStoreSrc from '../../kernels/lstm_cell_store.wgsl';
import cellGradSrc from '../../kernels/lstm_cell_grad.wgsl';
import cellBackwardSrc from '../../kernels/lstm_cell_backward.wgsl';
import cellBackwardStoreSrc from '../../kernels/lstm_cell_backward_store.wgsl';

const CELL_STORE = kernelFile('lstm_cell_store', cellStoreSrc);
// The cell backward's math (cellGrad) goes with both of its forms.
const CELL_GRAD = kernelFile('lstm_cell_grad', cellGradSrc);
const CELL_BACKWARD = composeKernel('lstm_cell_backward', [CELL_GRAD, kernelFile('lstm_cell_backward', cellBackwardSrc)]);
const CELL_BACKWARD_STORE = composeKernel('lstm_cell_backward_store', [CELL_GRAD, kernelFile('lstm_cell_backward_store', cellBackwardStoreSrc)]);

export type CellKind = 'lstm' | 'flstm' | 'glstm';

/** Sizes of one layer. Gate order, interleaving and forget bias: see src/ref/lstm.ts. */
export interface LstmConfig {
  cell: CellKind;
  inputSize: number; // p_in
  hiddenSize: number; // n
  projSize: number; // p (= n without projection)
  hasProj: boolean;
  factor?: number; // r, flstm
  groups?: number; // k, glstm (lstm: 1)
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

function expectShape(t: Tensor, shape: number[], what: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`flstm: lstm: ${what} has shape ${fmtShape(t.shape)}, expected ${fmtShape(shape)}`);
  }
}

export function lstmSequence(x: Tensor, h0: Tensor, c0: Tensor, w: LstmWeights, cfg: LstmConfig): LstmResult {
  assertTensor(x, 'lstm input x');
  // x may be an f16 copy (fl.cast): the products that read it (x·W, and X^T·dG for dW) read f16.
  if (x.dtype === 'f16') requireF16('lstm');
  else assertDType(x, 'f32', 'lstm', 'x');
  if (x.rank !== 3) throw new Error(`flstm: lstm: input must be [T, B, ${cfg.inputSize}], got ${fmtShape(x.shape)}`);
  const [T, B, pin] = x.shape;
  const { hiddenSize: n, projSize: p, hasProj } = cfg;
  if (pin !== cfg.inputSize) throw new Error(`flstm: lstm: input has width ${pin} (shape ${fmtShape(x.shape)}), expected inputSize ${cfg.inputSize}`);
  if (T === 0) throw new Error(`flstm: lstm: the sequence is empty (shape ${fmtShape(x.shape)})`);
  expectShape(h0, [B, p], 'state h');
  expectShape(c0, [B, n], 'state c');
  const k = cfg.cell === 'glstm' ? cfg.groups ?? 1 : 1;
  const r = cfg.factor ?? 0;
  const G4 = (4 * n) / k; // gate columns per group
  const pkIn = pin / k;
  const pk = p / k;
  const rows = pkIn + pk; // rows of one group's W
  if (cfg.cell === 'flstm') {
    expectShape(w.W1!, [pin + p, r], 'W1');
    expectShape(w.W2!, [r, 4 * n], 'W2');
  } else if (k === 1 && w.W!.rank === 2) expectShape(w.W!, [pin + p, 4 * n], 'W');
  else expectShape(w.W!, [k, rows, G4], 'W');
  expectShape(w.b, [4 * n], 'b');
  assertDType(w.b, 'f32', 'lstm', 'b');
  // The matrices may be f16 copies (fl.cast): products read them as f16 and accumulate in f32.
  for (const [name, t] of [['W', w.W], ['W1', w.W1], ['W2', w.W2], ['P', w.P]] as const) {
    if (t?.dtype === 'f16') requireF16('lstm');
    else if (t && t.dtype !== 'f32') throw new Error(`flstm: lstm: ${name} must be f32 or f16, got ${t.dtype} ${fmtShape(t.shape)}`);
  }
  if (hasProj) expectShape(w.P!, [n, p], 'P');
  const variant = cfg.variant;
  const TB = T * B;

  // ---- forward -------------------------------------------------------------------------
  const r_ = rt();
  const gates = out([T, B, 4 * n], 'f32', 'lstm.gates');
  // c_t in slot t+1, c0 copied into slot 0 (the cell reads c_{t-1} and writes c_t through one binding).
  const C = out([T + 1, B, n], 'f32', 'lstm.c');
  r_.recorder.copy(c0.buffer, 0, C.buffer, 0, B * n * 4);
  const y = out([T, B, p], 'f32', 'lstm');
  // m_t for all steps (the projection's input, saved for dP); without projection h_t = m_t is
  // written to a one-step buffer and copied into y, since the next step reads h_t from y and
  // one buffer cannot be read and written in one dispatch.
  const M = hasProj ? out([T, B, n], 'f32', 'lstm.m') : out([B, n], 'f32', 'lstm.m');
  let U: Tensor | null = null; // lstm/glstm: X·Wx + b, [T, B, 4n]
  let Z: Tensor | null = null; // flstm: X·W1x, then += h·W1h per step: [T, B, r]
  if (cfg.cell === 'flstm') {
    Z = out([T, B, r], 'f32', 'lstm.z');
    matmulRaw({ a: x.buffer, typeA: operandType(x), b: w.W1!.buffer, typeB: operandType(w.W1!), c: Z.buffer, M: TB, N: r, K: pin, batch: 1, transA: false, transB: false,
      lda: pin, ldb: r, ldc: r, strideA: 0, strideB: 0, strideC: 0, variant });
  } else {
    U = out([T, B, 4 * n], 'f32', 'lstm.u');
    matmulRaw({ a: x.buffer, typeA: operandType(x), b: w.W!.buffer, typeB: operandType(w.W!), c: U.buffer, bias: w.b.buffer, M: TB, N: G4, K: pkIn, batch: k,
      transA: false, transB: false, lda: pin, ldb: G4, ldc: 4 * n, strideA: pkIn, strideB: rows * G4, strideC: G4,
      strideBias: G4, variant });
  }
  for (let t = 0; t < T; t++) {
    const hPrev = t === 0 ? h0.buffer : y.buffer;
    const offH = t === 0 ? 0 : (t - 1) * B * p;
    const cellParams = (offAdd: number, ldAdd: number) =>
      uniform(CELL_STORE, 7, { n, ldAdd, offAdd, offCprev: t * B * n, offGates: t * B * 4 * n, offC: (t + 1) * B * n, offM: hasProj ? t * B * n : 0 });
    if (cfg.cell === 'flstm') {
      // z_t += h_{t-1}·W1h, then gates = z_t·W2 + b with the cell as epilogue.
      matmulRaw({ a: hPrev, b: w.W1!.buffer, typeB: operandType(w.W1!), c: Z!.buffer, M: B, N: r, K: p, batch: 1, transA: false, transB: false,
        lda: p, ldb: r, ldc: r, strideA: 0, strideB: 0, strideC: 0, offA: offH, offB: pin * r, offC: t * B * r,
        accumulate: true, variant });
      runMatmulCore({ a: Z!.buffer, b: w.W2!.buffer, typeB: operandType(w.W2!), M: B, N: 4 * n, K: r, batch: 1, transA: false, transB: false,
        lda: r, ldb: 4 * n, ldc: 4 * n, strideA: 0, strideB: 0, strideC: 0, offA: t * B * r, variant },
        CELL_STORE, {}, [w.b.buffer, C.buffer, gates.buffer, M.buffer, cellParams(0, 0)]);
    } else {
      // gates = U_t + h_{t-1}·Wh per group, with the cell as epilogue.
      runMatmulCore({ a: hPrev, b: w.W!.buffer, typeB: operandType(w.W!), M: B, N: G4, K: pk, batch: k, transA: false, transB: false,
        lda: p, ldb: G4, ldc: 4 * n, strideA: pk, strideB: rows * G4, strideC: G4, offA: offH, offB: pkIn * G4, variant },
        CELL_STORE, {}, [U!.buffer, C.buffer, gates.buffer, M.buffer, cellParams(t * B * 4 * n, 4 * n)]);
    }
    if (hasProj) {
      matmulRaw({ a: M.buffer, b: w.P!.buffer, typeB: operandType(w.P!), c: y.buffer, M: B, N: p, K: n, batch: 1, transA: false, transB: false,
        lda: n, ldb: p, ldc: p, strideA: 0, strideB: 0, strideC: 0, offA: t * B * n, offC: t * B * p, variant });
    } else r_.recorder.copy(M.buffer, 0, y.buffer, t * B * n * 4, B * n * 4);
  }
  if (!hasProj) M.dispose();
  U?.dispose();
  // The carried state: copies of the last step (y and C keep their own storage).
  const hT = out([B, p], 'f32', 'lstm.h');
  const cT = out([B, n], 'f32', 'lstm.c');
  r_.recorder.copy(y.buffer, (T - 1) * B * p * 4, hT.buffer, 0, B * p * 4);
  r_.recorder.copy(C.buffer, T * B * n * 4, cT.buffer, 0, B * n * 4);

  const params = cfg.cell === 'flstm' ? [w.W1!, w.W2!, w.b] : [w.W!, w.b];
  if (hasProj) params.push(w.P!);
  const inputs = [x, h0, c0, ...params];
  const saved = [gates, C, ...(hasProj ? [M] : []), ...(Z ? [Z] : [])];
  const yOut = record(y, `lstm.${cfg.cell}`, inputs, (dy) => {
    const grads = lstmBackward(dy);
    for (const s of saved) s.dispose();
    return grads;
  });
  if (!yOut.node) for (const s of saved) s.dispose(); // nothing will call backward
  return { y: yOut, h: hT, c: cT };

  // ---- backward ------------------------------------------------------------------------
  function lstmBackward(dy: Tensor): (Tensor | null)[] {
    // The cell backward rides on the product that gives dm (its store epilogue) when the units
    // can be taken four at a time: with projection dm = dh_t·P^T; without it dm = dy_t plus
    // the recurrent product (per G-LSTM group: its h units are the group's own units). For
    // LSTM and G-LSTM that product reads dG_{t+1} while the epilogue writes dG_t: one buffer
    // cannot be bound read-only and writable in a dispatch, so the two steps' rows are bound
    // as two writable ranges of it that do not overlap, which needs a step's bytes to be a
    // multiple of the offset alignment.
    const stepBytes = B * 4 * n * 4;
    const rangesFit = stepBytes % r_.limits.minStorageBufferOffsetAlignment === 0;
    const fused = n % 4 === 0 && (hasProj || (pk % 4 === 0 && (cfg.cell === 'flstm' || rangesFit)));
    // dh_t: dy_t plus the recurrent part. Not needed when the fused step adds dy_t itself.
    const dH = hasProj || !fused ? out([T, B, p], 'f32', 'lstm.backward') : null;
    if (dH) r_.recorder.copy(dy.buffer, 0, dH.buffer, 0, TB * p * 4);
    const dG = out([T, B, 4 * n], 'f32', 'lstm.backward'); // pre-activation gate gradients
    const dZ = cfg.cell === 'flstm' ? out([T, B, r], 'f32', 'lstm.backward') : null;
    const dM = hasProj && !fused ? out([B, n], 'f32', 'lstm.backward') : null;
    // dc_{t+1} and dc_t: two slots of [B, n] the steps take in turn (step t writes slot t % 2).
    const dcAll = out([2, B, n], 'f32', 'lstm.backward');
    const dcSlot = (s: number) => (s % 2) * B * n;
    const Wrec = cfg.cell === 'flstm' ? w.W1! : w.W!;

    /** The product giving (the gradient of the gates at step s)·W_h^T, the gradient reaching h_{s-1}. */
    const recurrentSpec = (s: number) =>
      cfg.cell === 'flstm'
        ? { a: dZ!.buffer, b: Wrec.buffer, typeB: operandType(Wrec), M: B, N: p, K: r, batch: 1, transA: false, transB: true,
            lda: r, ldb: r, ldc: p, strideA: 0, strideB: 0, strideC: 0, offA: s * B * r, offB: pin * r, variant }
        : { a: dG.buffer, b: Wrec.buffer, typeB: operandType(Wrec), M: B, N: pk, K: G4, batch: k, transA: false, transB: true,
            lda: 4 * n, ldb: G4, ldc: p, strideA: G4, strideB: rows * G4, strideC: pk, offA: s * B * 4 * n, offB: pkIn * G4, variant };
    /** dst (+)= the recurrent gradient of step s. */
    const recurrent = (s: number, dst: GPUBuffer, offDst: number, accumulate: boolean) =>
      matmulRaw({ ...recurrentSpec(s), c: dst, offC: offDst, accumulate });
    /** The fused cell backward's buffers and parameters for step t (dy added when there is no
     *  projection); dGt: where it writes dG_t, the whole buffer or step t's range of it. */
    const cellEpilogue = (t: number, dGt: GPUBuffer | BufferRange) => [hasProj ? r_.dummy : dy.buffer, gates.buffer, C.buffer, dcAll.buffer, dGt,
      uniform(CELL_BACKWARD_STORE, 8, {
        n, offDy: t * B * n, offGates: t * B * 4 * n, offC: (t + 1) * B * n, offCprev: t * B * n,
        offDcNext: dcSlot(t + 1), offDcPrev: dcSlot(t), offDG: dGt instanceof BufferRange ? 0 : t * B * 4 * n,
      })];
    const stepRange = (s: number) => new BufferRange(dG.buffer, s * stepBytes, stepBytes);

    for (let t = T - 1; t >= 0; t--) {
      const hasNext = t < T - 1;
      if (fused && hasProj) {
        if (hasNext) recurrent(t + 1, dH!.buffer, t * B * p, true);
        runMatmulCore({ a: dH!.buffer, b: w.P!.buffer, typeB: operandType(w.P!), M: B, N: n, K: p, batch: 1, transA: false, transB: true,
          lda: p, ldb: p, ldc: n, strideA: 0, strideB: 0, strideC: 0, offA: t * B * p, variant },
          CELL_BACKWARD_STORE, { ADD_DY: false, HAS_DC_NEXT: hasNext }, cellEpilogue(t, dG.buffer));
      } else if (fused && hasNext && cfg.cell === 'flstm') {
        runMatmulCore(recurrentSpec(t + 1), CELL_BACKWARD_STORE, { ADD_DY: true, HAS_DC_NEXT: true }, cellEpilogue(t, dG.buffer));
      } else if (fused && hasNext) {
        // A: dG_{t+1}, step t+1's range; the epilogue writes dG_t into step t's.
        runMatmulCore({ ...recurrentSpec(t + 1), a: stepRange(t + 1), offA: 0 }, CELL_BACKWARD_STORE, { ADD_DY: true, HAS_DC_NEXT: true }, cellEpilogue(t, stepRange(t)));
      } else {
        // The standalone kernel: dm from dM (projection), dH, or dy (the last step of a fused layer).
        if (hasNext) recurrent(t + 1, dH!.buffer, t * B * p, true);
        if (hasProj) {
          matmulRaw({ a: dH!.buffer, b: w.P!.buffer, typeB: operandType(w.P!), c: dM!.buffer, M: B, N: n, K: p, batch: 1, transA: false, transB: true,
            lda: p, ldb: p, ldc: n, strideA: 0, strideB: 0, strideC: 0, offA: t * B * p, variant });
        }
        r_.run(CELL_BACKWARD, {
          overrides: { HAS_DC_NEXT: hasNext },
          params: {
            count: B * n, n, offDm: hasProj ? 0 : t * B * p, offGates: t * B * 4 * n, offC: (t + 1) * B * n,
            offCprev: t * B * n, offDcNext: dcSlot(t + 1), offDcPrev: dcSlot(t),
          },
          buffers: [(dM ?? dH ?? dy).buffer, gates.buffer, C.buffer, dcAll.buffer, dG.buffer],
          workgroups: grid1d(B * n),
        });
      }
      if (dZ) {
        matmulRaw({ a: dG.buffer, b: w.W2!.buffer, typeB: operandType(w.W2!), c: dZ.buffer, M: B, N: r, K: 4 * n, batch: 1, transA: false, transB: true,
          lda: 4 * n, ldb: 4 * n, ldc: r, strideA: 0, strideB: 0, strideC: 0, offA: t * B * 4 * n, offC: t * B * r, variant });
      }
    }
    dM?.dispose();
    let dh0: Tensor | null = null;
    if (h0.requiresGrad) {
      dh0 = out([B, p], 'f32', 'lstm.backward');
      recurrent(0, dh0.buffer, 0, false);
    }
    // Slot 0 holds dc_0, the gradient reaching c0.
    let dc0: Tensor | null = null;
    if (c0.requiresGrad) {
      dc0 = out([B, n], 'f32', 'lstm.backward');
      r_.recorder.copy(dcAll.buffer, 0, dc0.buffer, 0, B * n * 4);
    }
    dcAll.dispose();

    // Weight gradients: one large product each over all T·B rows.
    // The gradient at the gates' first product: dG (lstm/glstm) or dZ (flstm).
    const dFirst = dZ ?? dG;
    const cols = dZ ? r : G4; // columns per group of the first product
    const kk = dZ ? 1 : k;
    const ldFirst = dZ ? r : 4 * n;
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      dx = out(x.shape, 'f32', 'lstm.backward');
      // dX = dFirst · (x rows of the first weight)^T, per group.
      matmulRaw({ a: dFirst.buffer, b: (dZ ? w.W1! : w.W!).buffer, typeB: operandType((dZ ? w.W1! : w.W!)), c: dx.buffer, M: TB, N: dZ ? pin : pkIn, K: cols,
        batch: kk, transA: false, transB: true, lda: ldFirst, ldb: cols, ldc: pin, strideA: cols,
        strideB: dZ ? 0 : rows * G4, strideC: dZ ? 0 : pkIn, variant });
    }
    // d(first weight) = [X; H_prev]^T · dFirst, written per group into its x rows and h rows.
    const first = dZ ? w.W1! : w.W!;
    let dFirstW: Tensor | null = null;
    if (first.requiresGrad) {
      dFirstW = out(first.shape, 'f32', 'lstm.backward');
      const xRows = dZ ? pin : pkIn;
      const hRows = dZ ? p : pk;
      const groupStride = dZ ? 0 : rows * G4;
      matmulRaw({ a: x.buffer, typeA: operandType(x), b: dFirst.buffer, c: dFirstW.buffer, M: xRows, N: cols, K: TB, batch: kk, transA: true, transB: false,
        lda: pin, ldb: ldFirst, ldc: cols, strideA: dZ ? 0 : pkIn, strideB: cols, strideC: groupStride, variant });
      matmulRaw({ a: h0.buffer, b: dFirst.buffer, c: dFirstW.buffer, M: hRows, N: cols, K: B, batch: kk, transA: true, transB: false,
        lda: p, ldb: ldFirst, ldc: cols, strideA: dZ ? 0 : pk, strideB: cols, strideC: groupStride, offC: xRows * cols, variant });
      if (T > 1) {
        matmulRaw({ a: y.buffer, b: dFirst.buffer, c: dFirstW.buffer, M: hRows, N: cols, K: (T - 1) * B, batch: kk, transA: true,
          transB: false, lda: p, ldb: ldFirst, ldc: cols, strideA: dZ ? 0 : pk, strideB: cols, strideC: groupStride,
          offB: B * ldFirst, offC: xRows * cols, accumulate: true, variant });
      }
    }
    let dW2: Tensor | null = null;
    if (dZ && w.W2!.requiresGrad) {
      dW2 = out(w.W2!.shape, 'f32', 'lstm.backward');
      matmulRaw({ a: Z!.buffer, b: dG.buffer, c: dW2.buffer, M: r, N: 4 * n, K: TB, batch: 1, transA: true, transB: false,
        lda: r, ldb: 4 * n, ldc: 4 * n, strideA: 0, strideB: 0, strideC: 0, variant });
    }
    const db = w.b.requiresGrad ? reduceRaw(dG, 1, TB, 4 * n, 1, [4 * n]) : null;
    let dP: Tensor | null = null;
    if (hasProj && w.P!.requiresGrad) {
      dP = out([n, p], 'f32', 'lstm.backward');
      matmulRaw({ a: M.buffer, b: dH!.buffer, c: dP.buffer, M: n, N: p, K: TB, batch: 1, transA: true, transB: false,
        lda: n, ldb: p, ldc: p, strideA: 0, strideB: 0, strideC: 0, variant });
    }
    dH?.dispose();
    dG.dispose();
    dZ?.dispose();
    const weightGrads = dZ ? [dFirstW, dW2, db] : [dFirstW, db];
    if (hasProj) weightGrads.push(dP);
    return [dx, dh0, dc0, ...weightGrads];
  }
}
