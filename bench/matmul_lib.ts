// bench/matmul_lib.ts: matmul shapes, their float64 references and the check, shared by
// bench/matmul.ts (every kernel variant) and the suite (bench/kernels.ts).
import type { MatmulSpec, MatmulVariant } from '../src/ops/matmul_kernel.js';
import { matmulRef } from '../src/ref/matmul.js';
import { nd } from '../src/ref/array.js';
import { checkClose, randomData } from './util.js';

/** C[M, N] = op(A) · op(B), inner size K. */
export interface Shape {
  name: string;
  M: number;
  K: number;
  N: number;
  transposeA: boolean;
  transposeB: boolean;
}

export const sq = (n: number, transposeA = false, transposeB = false): Shape => ({
  name: `${n}^3${transposeA ? ' TN' : transposeB ? ' NT' : ''}`,
  M: n,
  K: n,
  N: n,
  transposeA,
  transposeB,
});
// An LSTM layer with T·B = 640 rows (20 steps x 32 streams), [x; h] = 768, 4n = 2048: the
// input-half gate product, the gradient reaching [x; h], and the weight gradient.
export const LSTM_FWD: Shape = { name: 'lstm X·W', M: 640, K: 768, N: 2048, transposeA: false, transposeB: false };
export const LSTM_DX: Shape = { name: 'lstm dG·W^T', M: 640, K: 2048, N: 768, transposeA: false, transposeB: true };
export const LSTM_DW: Shape = { name: 'lstm X^T·dG', M: 768, K: 640, N: 2048, transposeA: true, transposeB: false };

/** Stored shapes of A and B: A is [K, M] when transposed, B is [N, K] when transposed. */
export const aShape = (s: Shape): number[] => (s.transposeA ? [s.K, s.M] : [s.M, s.K]);
export const bShape = (s: Shape): number[] => (s.transposeB ? [s.N, s.K] : [s.K, s.N]);

export function dimsLabel(s: Shape): string {
  const [ar, ac] = aShape(s);
  const [br, bc] = bShape(s);
  return `${ar}x${ac}${s.transposeA ? 'ᵀ' : ''}·${br}x${bc}${s.transposeB ? 'ᵀ' : ''}`;
}

export const matmulFlops = (s: Shape): number => 2 * s.M * s.N * s.K;

/** The MatmulSpec fl.matmul builds for a 2-D product (for vec4Eligible / chooseVariant). */
export function specOf(s: Shape, variant?: MatmulVariant): MatmulSpec {
  const none = null as unknown as GPUBuffer;
  return {
    a: none,
    b: none,
    c: none,
    M: s.M,
    N: s.N,
    K: s.K,
    batch: 1,
    transA: s.transposeA,
    transB: s.transposeB,
    lda: s.transposeA ? s.M : s.K,
    ldb: s.transposeB ? s.K : s.N,
    ldc: s.N,
    strideA: s.M * s.K,
    strideB: s.K * s.N,
    strideC: s.M * s.N,
    variant,
  };
}

/** Full products up to this many multiply-adds are checked element by element through matmulRef. */
const FULL_CHECK_MACS = 256 ** 3;
const SAMPLES = 64;

export interface Reference {
  /** Flat output indices (m * N + n) and their float64 values. */
  idx: number[];
  val: number[];
}

export function buildReference(s: Shape, a: Float32Array, b: Float32Array): Reference {
  if (s.M * s.N * s.K <= FULL_CHECK_MACS) {
    const c = matmulRef(nd(a, aShape(s)), nd(b, bShape(s)), { transposeA: s.transposeA, transposeB: s.transposeB });
    return { idx: Array.from(c.data, (_, i) => i), val: Array.from(c.data) };
  }
  // Corners plus random points, each a float64 dot product on the host.
  const pts: [number, number][] = [
    [0, 0],
    [0, s.N - 1],
    [s.M - 1, 0],
    [s.M - 1, s.N - 1],
  ];
  const r = randomData(2 * SAMPLES, 4242);
  while (pts.length < SAMPLES) {
    const i = pts.length;
    pts.push([Math.floor(((r[2 * i] + 1) / 2) * s.M), Math.floor(((r[2 * i + 1] + 1) / 2) * s.N)]);
  }
  const idx: number[] = [];
  const val: number[] = [];
  for (const [m, n] of pts) {
    let acc = 0;
    for (let k = 0; k < s.K; k++) {
      const av = s.transposeA ? a[k * s.M + m] : a[m * s.K + k];
      const bv = s.transposeB ? b[n * s.K + k] : b[k * s.N + n];
      acc += av * bv;
    }
    idx.push(m * s.N + n);
    val.push(acc);
  }
  return { idx, val };
}

/**
 * |got - ref| <= atol + rtol·|ref| with atol growing with K: float32 accumulation over K
 * terms of size ≤ 1 drifts by ~sqrt(K)·eps·|partial sums|; 1e-6·K leaves >30x headroom
 * over that, while an indexing bug is off by O(sqrt(K)). Throws a MismatchError.
 */
export function checkMatmul(label: string, s: Shape, got: Float32Array, ref: Reference): number {
  if (got.length !== s.M * s.N) throw new Error(`${label}: result has ${got.length} elements, expected ${s.M * s.N}`);
  return checkClose(
    `${label} (${s.name}, ${dimsLabel(s)})`,
    got,
    ref.idx,
    ref.val,
    1e-6 * s.K,
    1e-5,
    (i) => `C[${Math.floor(i / s.N)}, ${i % s.N}]`,
  );
}
