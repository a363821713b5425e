// fl.groupedMatmul: the block-diagonal product of G-LSTM. x [m, K], w [k, K/k, N/k] -> y [m, N];
// group j maps columns jK/k..(j+1)K/k of x to columns jN/k..(j+1)N/k of y. It is the
// batched matmul kernel with the group as the batch and column offsets as batch strides,
// so no slice of x or y is ever copied.
import { record } from '../autograd.js';
import { Tensor, fmtShape } from '../tensor.js';
import { assertDType, assertTensor, out } from './dispatch.js';
import { matmulRaw, type MatmulVariant } from './matmul_kernel.js';

export function groupedMatmul(x: Tensor, w: Tensor, opts: { variant?: MatmulVariant } = {}): Tensor {
  assertTensor(x, 'groupedMatmul(x, w): x');
  assertTensor(w, 'groupedMatmul(x, w): w');
  assertDType(x, 'f32', 'groupedMatmul', 'x');
  assertDType(w, 'f32', 'groupedMatmul', 'w');
  if (x.rank !== 2) throw new Error(`flstm: groupedMatmul: x must be 2-D [m, K], got ${fmtShape(x.shape)}`);
  if (w.rank !== 3) throw new Error(`flstm: groupedMatmul: w must be 3-D [groups, K/groups, N/groups], got ${fmtShape(w.shape)}`);
  const [m, K] = x.shape;
  const [k, kin, kout] = w.shape;
  if (k * kin !== K) {
    throw new Error(`flstm: groupedMatmul: x has ${K} columns but w ${fmtShape(w.shape)} covers ${k} groups x ${kin} = ${k * kin}`);
  }
  const N = k * kout;
  const variant = opts.variant;
  const y = out([m, N], 'f32', 'groupedMatmul');
  // y_j = x_j · w_j: x_j starts at column j*kin (row stride K), y_j at column j*kout (row stride N).
  matmulRaw({
    a: x.buffer,
    b: w.buffer,
    c: y.buffer,
    M: m,
    N: kout,
    K: kin,
    batch: k,
    transA: false,
    transB: false,
    lda: K,
    ldb: kout,
    ldc: N,
    strideA: kin,
    strideB: kin * kout,
    strideC: kout,
    variant,
  });
  return record(y, 'groupedMatmul', [x, w], (g) => groupedMatmulBackward(x, w, g, variant));
}

/** The gradients of y = groupedMatmul(x, w) from g = dL/dy: each group's, with the groups' strides. */
function groupedMatmulBackward(x: Tensor, w: Tensor, g: Tensor, variant: MatmulVariant | undefined): [Tensor | null, Tensor | null] {
  const [m, K] = x.shape;
  const [k, kin, kout] = w.shape;
  const N = k * kout;
  let dx: Tensor | null = null;
  let dw: Tensor | null = null;
  if (x.requiresGrad) {
    // dx_j = g_j · w_j^T
    dx = out(x.shape, 'f32', 'groupedMatmul.backward');
    matmulRaw({
      a: g.buffer,
      b: w.buffer,
      c: dx.buffer,
      M: m,
      N: kin,
      K: kout,
      batch: k,
      transA: false,
      transB: true,
      lda: N,
      ldb: kout,
      ldc: K,
      strideA: kout,
      strideB: kin * kout,
      strideC: kin,
      variant,
    });
  }
  if (w.requiresGrad) {
    // dw_j = x_j^T · g_j
    dw = out(w.shape, 'f32', 'groupedMatmul.backward');
    matmulRaw({
      a: x.buffer,
      b: g.buffer,
      c: dw.buffer,
      M: kin,
      N: kout,
      K: m,
      batch: k,
      transA: true,
      transB: false,
      lda: K,
      ldb: N,
      ldc: kout,
      strideA: kin,
      strideB: kout,
      strideC: kin * kout,
      variant,
    });
  }
  return [dx, dw];
}
