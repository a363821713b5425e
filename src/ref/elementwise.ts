// Float64 references for unary, binary (suffix broadcast) and axis reductions.
import { nd, type NDArray } from './array.js';

export type UnaryRefOp = 'sigmoid' | 'tanh' | 'relu' | 'exp' | 'scale';

export function unaryFn(op: UnaryRefOp, v: number, alpha = 1, beta = 0): number {
  switch (op) {
    case 'sigmoid':
      return 1 / (1 + Math.exp(-v));
    case 'tanh':
      return Math.tanh(v);
    case 'relu':
      return Math.max(v, 0);
    case 'exp':
      return Math.exp(v);
    case 'scale':
      return alpha * v + beta;
  }
}

export function unaryRef(op: UnaryRefOp, x: NDArray, alpha = 1, beta = 0): NDArray {
  return nd(
    x.data.map((v) => unaryFn(op, v, alpha, beta)),
    x.shape,
  );
}

/** dx = dy * f'(x), written from x (not from the saved output) so it checks the kernel's formula. */
export function unaryBackwardRef(op: UnaryRefOp, x: NDArray, dy: NDArray, alpha = 1): NDArray {
  return nd(
    x.data.map((v, i) => {
      const g = dy.data[i];
      switch (op) {
        case 'sigmoid': {
          const s = 1 / (1 + Math.exp(-v));
          return g * s * (1 - s);
        }
        case 'tanh': {
          const t = Math.tanh(v);
          return g * (1 - t * t);
        }
        case 'relu':
          return v > 0 ? g : 0;
        case 'exp':
          return g * Math.exp(v);
        case 'scale':
          return g * alpha;
      }
    }),
    x.shape,
  );
}

export type BinaryRefOp = 'add' | 'sub' | 'mul';

export function binaryRef(op: BinaryRefOp, a: NDArray, b: NDArray): NDArray {
  const big = a.data.length >= b.data.length ? a : b;
  const n = big.data.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const va = a.data[i % a.data.length];
    const vb = b.data[i % b.data.length];
    out[i] = op === 'add' ? va + vb : op === 'sub' ? va - vb : va * vb;
  }
  return nd(out, big.shape);
}

/** Gradients of sum(dy * (a op b)) with respect to a and b, summed back over broadcast rows. */
export function binaryBackwardRef(op: BinaryRefOp, a: NDArray, b: NDArray, dy: NDArray): [NDArray, NDArray] {
  const ga = new Float64Array(a.data.length);
  const gb = new Float64Array(b.data.length);
  for (let i = 0; i < dy.data.length; i++) {
    const ia = i % a.data.length;
    const ib = i % b.data.length;
    const g = dy.data[i];
    ga[ia] += op === 'mul' ? g * b.data[ib] : g;
    gb[ib] += op === 'mul' ? g * a.data[ia] : op === 'sub' ? -g : g;
  }
  return [nd(ga, a.shape), nd(gb, b.shape)];
}

/** Sum (times alpha) over `axis`, or over everything when axis is undefined. */
export function sumAxisRef(x: NDArray, axis?: number, alpha = 1): NDArray {
  if (axis === undefined) return nd([alpha * x.data.reduce((s, v) => s + v, 0)], []);
  const a = axis < 0 ? axis + x.shape.length : axis;
  const outer = x.shape.slice(0, a).reduce((p, d) => p * d, 1);
  const len = x.shape[a];
  const inner = x.shape.slice(a + 1).reduce((p, d) => p * d, 1);
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++)
    for (let r = 0; r < len; r++) for (let j = 0; j < inner; j++) out[o * inner + j] += alpha * x.data[(o * len + r) * inner + j];
  return nd(
    out,
    x.shape.filter((_, i) => i !== a),
  );
}

/** The gradient of sumAxisRef: dy broadcast back over the reduced axis. */
export function sumAxisBackwardRef(xShape: number[], dy: NDArray, axis?: number, alpha = 1): NDArray {
  const n = xShape.reduce((p, d) => p * d, 1);
  const out = new Float64Array(n);
  if (axis === undefined) return nd(out.fill(alpha * dy.data[0]), xShape);
  const a = axis < 0 ? axis + xShape.length : axis;
  const len = xShape[a];
  const inner = xShape.slice(a + 1).reduce((p, d) => p * d, 1);
  for (let i = 0; i < n; i++) {
    const o = Math.floor(i / (len * inner));
    out[i] = alpha * dy.data[o * inner + (i % inner)];
  }
  return nd(out, xShape);
}
