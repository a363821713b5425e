// Float64 references for matmul (2-D / batched, transposes, bias, activation) and the
// grouped (block-diagonal) product, forward and backward.
import { nd, type NDArray } from './array.js';

export interface MatmulRefOptions {
  transposeA?: boolean;
  transposeB?: boolean;
  bias?: NDArray;
  activation?: 'none' | 'sigmoid' | 'tanh' | 'relu';
}

function act(name: MatmulRefOptions['activation'], v: number): number {
  switch (name) {
    case 'sigmoid':
      return 1 / (1 + Math.exp(-v));
    case 'tanh':
      return Math.tanh(v);
    case 'relu':
      return Math.max(0, v);
    default:
      return v;
  }
}

function actGrad(name: MatmulRefOptions['activation'], z: number): number {
  switch (name) {
    case 'sigmoid': {
      const s = 1 / (1 + Math.exp(-z));
      return s * (1 - s);
    }
    case 'tanh': {
      const t = Math.tanh(z);
      return 1 - t * t;
    }
    case 'relu':
      return z > 0 ? 1 : 0;
    default:
      return 1;
  }
}

interface Geometry {
  batch: number;
  M: number;
  K: number;
  N: number;
  bShared: boolean;
}

function geometry(a: NDArray, b: NDArray, o: MatmulRefOptions): Geometry {
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  return {
    batch: a.shape.length === 3 ? a.shape[0] : 1,
    M: o.transposeA ? ac : ar,
    K: o.transposeA ? ar : ac,
    N: o.transposeB ? br : bc,
    bShared: b.shape.length === 2,
  };
}

const getA = (a: NDArray, g: Geometry, t: boolean, z: number, m: number, k: number) =>
  a.data[z * g.M * g.K + (t ? k * g.M + m : m * g.K + k)];
const getB = (b: NDArray, g: Geometry, t: boolean, z: number, k: number, n: number) =>
  b.data[(g.bShared ? 0 : z * g.K * g.N) + (t ? n * g.K + k : k * g.N + n)];

/** Pre-activation Z = op(A)·op(B) + bias. */
function preActivation(a: NDArray, b: NDArray, o: MatmulRefOptions, g: Geometry): Float64Array {
  const z = new Float64Array(g.batch * g.M * g.N);
  for (let s = 0; s < g.batch; s++)
    for (let m = 0; m < g.M; m++)
      for (let n = 0; n < g.N; n++) {
        let acc = o.bias ? o.bias.data[n] : 0;
        for (let k = 0; k < g.K; k++) acc += getA(a, g, !!o.transposeA, s, m, k) * getB(b, g, !!o.transposeB, s, k, n);
        z[(s * g.M + m) * g.N + n] = acc;
      }
  return z;
}

export function matmulRef(a: NDArray, b: NDArray, o: MatmulRefOptions = {}): NDArray {
  const g = geometry(a, b, o);
  const z = preActivation(a, b, o, g);
  const shape = a.shape.length === 3 ? [g.batch, g.M, g.N] : [g.M, g.N];
  return nd(
    z.map((v) => act(o.activation, v)),
    shape,
  );
}

/** Gradients of sum(dy * matmul(a, b, o)) with respect to a, b and the bias. */
export function matmulBackwardRef(
  a: NDArray,
  b: NDArray,
  dy: NDArray,
  o: MatmulRefOptions = {},
): { da: NDArray; db: NDArray; dbias?: NDArray } {
  const g = geometry(a, b, o);
  const z = preActivation(a, b, o, g);
  const dz = z.map((v, i) => dy.data[i] * actGrad(o.activation, v));
  const da = new Float64Array(a.data.length);
  const db = new Float64Array(b.data.length);
  const dbias = new Float64Array(g.N);
  for (let s = 0; s < g.batch; s++)
    for (let m = 0; m < g.M; m++)
      for (let n = 0; n < g.N; n++) {
        const d = dz[(s * g.M + m) * g.N + n];
        dbias[n] += d;
        for (let k = 0; k < g.K; k++) {
          da[s * g.M * g.K + (o.transposeA ? k * g.M + m : m * g.K + k)] += d * getB(b, g, !!o.transposeB, s, k, n);
          db[(g.bShared ? 0 : s * g.K * g.N) + (o.transposeB ? n * g.K + k : k * g.N + n)] += d * getA(a, g, !!o.transposeA, s, m, k);
        }
      }
  return { da: nd(da, a.shape), db: nd(db, b.shape), dbias: o.bias ? nd(dbias, [g.N]) : undefined };
}

/** The dense block-diagonal matrix [K, N] of grouped weights w [k, K/k, N/k]. */
export function blockDiagonal(w: NDArray): NDArray {
  const [k, kin, kout] = w.shape;
  const K = k * kin;
  const N = k * kout;
  const d = new Float64Array(K * N);
  for (let j = 0; j < k; j++)
    for (let r = 0; r < kin; r++) for (let c = 0; c < kout; c++) d[(j * kin + r) * N + j * kout + c] = w.data[(j * kin + r) * kout + c];
  return nd(d, [K, N]);
}

/** y = x · blockDiagonal(w), written group by group (not through blockDiagonal). */
export function groupedMatmulRef(x: NDArray, w: NDArray): NDArray {
  const [m, K] = x.shape;
  const [k, kin, kout] = w.shape;
  const N = k * kout;
  const y = new Float64Array(m * N);
  for (let j = 0; j < k; j++)
    for (let i = 0; i < m; i++)
      for (let c = 0; c < kout; c++) {
        let s = 0;
        for (let r = 0; r < kin; r++) s += x.data[i * K + j * kin + r] * w.data[(j * kin + r) * kout + c];
        y[i * N + j * kout + c] = s;
      }
  return nd(y, [m, N]);
}

export function groupedMatmulBackwardRef(x: NDArray, w: NDArray, dy: NDArray): { dx: NDArray; dw: NDArray } {
  const [m, K] = x.shape;
  const [k, kin, kout] = w.shape;
  const N = k * kout;
  const dx = new Float64Array(x.data.length);
  const dw = new Float64Array(w.data.length);
  for (let j = 0; j < k; j++)
    for (let i = 0; i < m; i++)
      for (let c = 0; c < kout; c++) {
        const g = dy.data[i * N + j * kout + c];
        for (let r = 0; r < kin; r++) {
          dx[i * K + j * kin + r] += g * w.data[(j * kin + r) * kout + c];
          dw[(j * kin + r) * kout + c] += g * x.data[i * K + j * kin + r];
        }
      }
  return { dx: nd(dx, x.shape), dw: nd(dw, w.shape) };
}
