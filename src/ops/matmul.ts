// fl.matmul: 2-D and batched 3-D products with optional transposes and a fused epilogue
// (bias add, activation). Backward: dA and dB as two more products of the same kernel.
// A and B may be f16 (fl.cast); products accumulate and are stored in f32, and gradients
// are f32.
import { record } from '../autograd.js';
import { Tensor, fmtShape } from '../tensor.js';
import { assertTensor, out, requireF16 } from './dispatch.js';
import { unaryBackwardRaw } from './elementwise.js';
import { reduceRaw } from './reduce.js';
import { matmulRaw, operandType, type ActivationName, type MatmulVariant } from './matmul_kernel.js';

export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
  /** Added to every row of the result before the activation: shape [N]. */
  bias?: Tensor;
  activation?: ActivationName;
  /** Force a kernel variant (benchmarks, tests). */
  variant?: MatmulVariant;
}

interface Dims {
  batch: number;
  M: number;
  K: number;
  N: number;
  /** b is 2-D and shared by every batch of a 3-D a. */
  bShared: boolean;
  outShape: number[];
}

function dims(a: Tensor, b: Tensor, o: MatmulOptions): Dims {
  const op = 'matmul';
  if (a.rank < 2 || a.rank > 3) throw new Error(`flstm: ${op}: a must be 2-D or 3-D, got shape ${fmtShape(a.shape)}`);
  if (b.rank < 2 || b.rank > 3) throw new Error(`flstm: ${op}: b must be 2-D or 3-D, got shape ${fmtShape(b.shape)}`);
  const batchA = a.rank === 3 ? a.shape[0] : 1;
  const batchB = b.rank === 3 ? b.shape[0] : 1;
  if (b.rank === 3 && a.rank === 2) throw new Error(`flstm: ${op}: a 3-D b ${fmtShape(b.shape)} needs a 3-D a, got ${fmtShape(a.shape)}`);
  if (b.rank === 3 && batchA !== batchB) {
    throw new Error(`flstm: ${op}: batch sizes differ: a ${fmtShape(a.shape)}, b ${fmtShape(b.shape)}`);
  }
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const M = o.transposeA ? ac : ar;
  const Ka = o.transposeA ? ar : ac;
  const Kb = o.transposeB ? bc : br;
  const N = o.transposeB ? br : bc;
  if (Ka !== Kb) {
    throw new Error(
      `flstm: ${op}: inner sizes differ: a ${fmtShape(a.shape)}${o.transposeA ? ' (transposed)' : ''} has ${Ka}, ` +
        `b ${fmtShape(b.shape)}${o.transposeB ? ' (transposed)' : ''} has ${Kb}`,
    );
  }
  if (o.bias) {
    assertTensor(o.bias, 'matmul bias');
    if (o.bias.rank !== 1 || o.bias.shape[0] !== N) {
      throw new Error(`flstm: ${op}: bias must have shape [${N}], got ${fmtShape(o.bias.shape)}`);
    }
  }
  const outShape = a.rank === 3 ? [batchA, M, N] : [M, N];
  return { batch: batchA, M, K: Ka, N, bShared: a.rank === 3 && b.rank === 2, outShape };
}

/** C = act(op(A) · op(B) + bias), op = identity or transpose; batched when A is 3-D. */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  assertTensor(a, 'matmul(a, b): a');
  assertTensor(b, 'matmul(a, b): b');
  for (const [t, name] of [
    [a, 'a'],
    [b, 'b'],
  ] as const) {
    if (t.dtype === 'f16') requireF16('matmul');
    else if (t.dtype !== 'f32') throw new Error(`flstm: matmul: ${name} must be f32 or f16, got ${t.dtype} ${fmtShape(t.shape)}`);
  }
  const d = dims(a, b, opts);
  const tA = !!opts.transposeA;
  const tB = !!opts.transposeB;
  const c = out(d.outShape, 'f32', 'matmul');
  const act = opts.activation ?? 'none';
  matmulRaw({
    a: a.buffer,
    b: b.buffer,
    c: c.buffer,
    bias: opts.bias?.buffer,
    M: d.M,
    N: d.N,
    K: d.K,
    batch: d.batch,
    transA: tA,
    transB: tB,
    lda: tA ? d.M : d.K,
    ldb: tB ? d.K : d.N,
    ldc: d.N,
    strideA: d.M * d.K,
    strideB: d.bShared ? 0 : d.K * d.N,
    strideC: d.M * d.N,
    strideBias: 0,
    activation: act,
    variant: opts.variant,
    typeA: operandType(a),
    typeB: operandType(b),
  });
  const inputs = opts.bias ? [a, b, opts.bias] : [a, b];
  return record(c, 'matmul', inputs, (g) => {
    // Through the activation first: dZ = dC * act'(C).
    const dz = act === 'none' ? g : unaryBackwardRaw(act, g, c);
    const grads = matmulBackward(a, b, dz, d, tA, tB, opts.variant);
    if (opts.bias) grads.push(opts.bias.requiresGrad ? reduceRaw(dz, 1, d.batch * d.M, d.N, 1, [d.N]) : null);
    if (dz !== g) dz.dispose();
    return grads;
  });
}

function matmulBackward(a: Tensor, b: Tensor, dz: Tensor, d: Dims, tA: boolean, tB: boolean, variant?: MatmulVariant): (Tensor | null)[] {
  return [a.requiresGrad ? gradOfA(a, b, dz, d, tA, tB, variant) : null, b.requiresGrad ? gradOfB(a, b, dz, d, tA, tB, variant) : null];
}

/** dL/dA of Z = op(A) · op(B), from dZ. */
function gradOfA(a: Tensor, b: Tensor, dz: Tensor, d: Dims, tA: boolean, tB: boolean, variant?: MatmulVariant): Tensor {
  const { batch, M, N, K } = d;
  const typeB = operandType(b);
  // A stored [M, K]: dA = dZ · op(B)^T.   A stored [K, M] (transA): dA = op(B) · dZ^T.
  const da = out(a.shape, 'f32', 'matmul.backward');
  const bSpec = { b: b.buffer, ldb: tB ? K : N, strideB: d.bShared ? 0 : K * N };
  if (!tA) {
    matmulRaw({
      a: dz.buffer,
      ...bSpec,
      c: da.buffer,
      M,
      N: K,
      K: N,
      batch,
      transA: false,
      transB: !tB,
      lda: N,
      ldc: K,
      strideA: M * N,
      strideC: M * K,
      variant,
      typeB,
    });
  } else {
    // dA[k, m] = sum_n op(B)[k, n] dZ[m, n]: A-operand is op(B) (transposed store when tB).
    matmulRaw({
      a: b.buffer,
      lda: tB ? K : N,
      strideA: d.bShared ? 0 : K * N,
      b: dz.buffer,
      ldb: N,
      strideB: M * N,
      c: da.buffer,
      M: K,
      N: M,
      K: N,
      batch,
      transA: tB,
      transB: true,
      ldc: M,
      strideC: M * K,
      variant,
      typeA: typeB,
    });
  }
  return da;
}

/** dL/dB of Z = op(A) · op(B), from dZ (summed over the batch when B is shared by it). */
function gradOfB(a: Tensor, b: Tensor, dz: Tensor, d: Dims, tA: boolean, tB: boolean, variant?: MatmulVariant): Tensor {
  const { batch, M, N, K } = d;
  const typeA = operandType(a);
  let db: Tensor | null = null;
  // B stored [K, N]: dB = op(A)^T · dZ.   B stored [N, K] (transB): dB = dZ^T · op(A).
  // A shared 2-D b over a batch sums the batches: computed per batch, then reduced.
  const target =
    d.bShared && batch > 1 ? out([batch, ...b.shape], 'f32', 'matmul.backward') : (db = out(b.shape, 'f32', 'matmul.backward'));
  const aSpec = { lda: tA ? M : K, strideA: M * K };
  if (!tB) {
    matmulRaw({
      a: a.buffer,
      ...aSpec,
      b: dz.buffer,
      ldb: N,
      strideB: M * N,
      c: target.buffer,
      M: K,
      N,
      K: M,
      batch,
      transA: !tA,
      transB: false,
      ldc: N,
      strideC: K * N,
      variant,
      typeA,
    });
  } else {
    matmulRaw({
      a: dz.buffer,
      lda: N,
      strideA: M * N,
      b: a.buffer,
      ldb: aSpec.lda,
      strideB: M * K,
      c: target.buffer,
      M: N,
      N: K,
      K: M,
      batch,
      transA: true,
      transB: tA,
      ldc: K,
      strideC: K * N,
      variant,
      typeB: typeA,
    });
  }
  if (!db) {
    db = reduceRaw(target, 1, batch, K * N, 1, b.shape);
    target.dispose();
  }
  return db;
}
