// Kernel cases of the dense and grouped matmuls: every variant and transpose, f16 operands,
// batched products, fused epilogues, at sizes that are not tile multiples.
import { matmul } from '../ops/matmul.js';
import { cast } from '../ops/cast.js';
import { groupedMatmul } from '../ops/grouped_matmul.js';
import type { MatmulVariant } from '../ops/matmul_kernel.js';
import { blockDiagonal, groupedMatmulBackwardRef, groupedMatmulRef, matmulBackwardRef, matmulRef } from '../ref/matmul.js';
import { close, Mismatch, noF16, noSubgroups, randomNd, T, type CheckCase } from './check.js';

type Activation = 'none' | 'sigmoid' | 'tanh' | 'relu';
/** One product: transposes, a forced variant, a batch (B per batch or shared), a fused epilogue, f16 operands. */
export interface MatmulCheck {
  tA?: boolean;
  tB?: boolean;
  variant?: MatmulVariant;
  batch?: number;
  sharedB?: boolean;
  bias?: boolean;
  activation?: Activation;
  f16A?: boolean;
  f16B?: boolean;
  gradients?: boolean;
}

const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];
const VARIANTS = ['scalar', 'shared', 'vec4', 'subgroup'] as const;
// vec4 / subgroup need multiples of 4 along K and the contiguous extents; their M / N edges stay ragged.
const isAligned = (v: MatmulVariant) => v === 'vec4' || v === 'subgroup';

function matmulTag(M: number, K: number, N: number, o: MatmulCheck): string {
  return `${o.variant ?? 'auto'} M=${M} K=${K} N=${N} tA=${!!o.tA} tB=${!!o.tB} batch=${o.batch ?? '-'}${o.sharedB ? ' (shared B)' : ''} act=${o.activation ?? 'none'}${o.bias ? ' +bias' : ''}${o.f16A ? ' f16 A' : ''}${o.f16B ? ' f16 B' : ''}`;
}

/**
 * C = op(A)·op(B) (+ bias, activation) and its gradients against matmulRef. This is also the
 * runner of the Node test's wider sweep (test/matmul.test.ts), so both suites judge a product alike.
 */
export async function checkMatmul(M: number, K: number, N: number, o: MatmulCheck, seed: number): Promise<void> {
  const tA = !!o.tA;
  const tB = !!o.tB;
  let sa = tA ? [K, M] : [M, K];
  let sb = tB ? [N, K] : [K, N];
  if (o.batch) {
    sa = [o.batch, ...sa];
    if (!o.sharedB) sb = [o.batch, ...sb];
  }
  let a = randomNd(sa, seed);
  let b = randomNd(sb, seed + 1);
  const bias = o.bias ? randomNd([N], seed + 2) : undefined;
  const opts = { transposeA: tA, transposeB: tB, bias, activation: o.activation };
  const grads = o.gradients ?? true;
  const at = T(a, grads);
  const bt = T(b, grads);
  const biasT = bias ? T(bias, grads) : undefined;
  // f16 operands: the product reads the GPU's f16 copies, so the reference takes exactly those
  // values; the gradients reach the f32 masters through the casts.
  const a16 = o.f16A ? cast(at, 'f16') : at;
  const b16 = o.f16B ? cast(bt, 'f16') : bt;
  if (o.f16A) a = { shape: a.shape, data: Float64Array.from(await a16.data()) };
  if (o.f16B) b = { shape: b.shape, data: Float64Array.from(await b16.data()) };
  const y = matmul(a16, b16, { transposeA: tA, transposeB: tB, bias: biasT, activation: o.activation, variant: o.variant });
  const want = matmulRef(a, b, opts);
  const tag = matmulTag(M, K, N, o);
  if (y.shape.join() !== want.shape.join()) throw new Mismatch(`C ${tag}: shape [${y.shape}], expected [${want.shape}]`);
  const tol = 2e-5 * Math.sqrt(K + 1) + 1e-5;
  close(await y.data(), want, `C ${tag}`, tol);
  if (!grads) return;
  const dy = randomNd(want.shape, seed + 3);
  y.backward(T(dy));
  const g = matmulBackwardRef(a, b, dy, opts);
  const tolB = 2e-5 * Math.sqrt(Math.max(M, N) * (o.batch ?? 1)) + 1e-5;
  close(await at.grad!.data(), g.da, `dA ${tag}`, tolB);
  close(await bt.grad!.data(), g.db, `dB ${tag}`, tolB);
  if (biasT) close(await biasT.grad!.data(), g.dbias!, `dbias ${tag}`, tolB);
}

function variantCases(): CheckCase[] {
  const cases: CheckCase[] = [];
  for (const variant of VARIANTS) {
    for (const [tA, tB] of TRANSPOSES) {
      cases.push({
        group: 'matmul',
        name: `${variant} ${tA ? 'Aᵀ' : 'A'}·${tB ? 'Bᵀ' : 'B'}`,
        skip: variant === 'subgroup' ? noSubgroups : undefined,
        run: async (seed) => {
          if (isAligned(variant)) {
            await checkMatmul(36, 36, 68, { tA, tB, variant }, seed);
            // A ragged edge: the forward product only (its gradient products have K = 33, which
            // a forced vec4 variant refuses).
            await checkMatmul(tA ? 36 : 33, 40, tB ? 33 : 36, { tA, tB, variant, gradients: false }, seed + 10);
          } else {
            await checkMatmul(7, 33, 129, { tA, tB, variant }, seed);
            await checkMatmul(65, 17, 70, { tA, tB, variant }, seed + 10);
            await checkMatmul(1, 1, 1, { tA, tB, variant }, seed + 20);
          }
        },
      });
    }
  }
  return cases;
}

function f16Cases(): CheckCase[] {
  return VARIANTS.map((variant) => ({
    group: 'matmul',
    name: `${variant}, f16 A and B, each transpose`,
    skip: () => noF16() ?? (variant === 'subgroup' ? noSubgroups() : null),
    run: async (seed: number) => {
      const [M, K, N] = isAligned(variant) ? [36, 40, 68] : [33, 37, 29];
      for (const [tA, tB] of TRANSPOSES)
        await checkMatmul(M, K, N, { tA, tB, variant, f16A: true, f16B: true }, seed + (tA ? 2 : 0) + (tB ? 1 : 0));
    },
  }));
}

function batchedAndEpilogueCases(): CheckCase[] {
  const batched: CheckCase = {
    group: 'matmul',
    name: 'batched 3-D, per-batch and shared B, each transpose',
    run: async (seed) => {
      for (const [tA, tB] of TRANSPOSES) {
        await checkMatmul(7, 12, 9, { tA, tB, batch: 3 }, seed);
        await checkMatmul(5, 33, 8, { tA, tB, batch: 4, sharedB: true }, seed + 10);
      }
    },
  };
  const epilogues = (['none', 'sigmoid', 'tanh', 'relu'] as const).map(
    (activation): CheckCase => ({
      group: 'matmul',
      name: `fused bias + ${activation}`,
      run: async (seed) => {
        await checkMatmul(36, 36, 68, { bias: true, activation }, seed);
        await checkMatmul(33, 7, 17, { bias: true, activation, variant: 'scalar' }, seed + 10);
      },
    }),
  );
  return [batched, ...epilogues];
}

/** [m, K, N, k]: rows, input and output width, groups. */
const GROUPED_SIZES = [
  [1, 4, 8, 1],
  [7, 12, 8, 2],
  [33, 36, 132, 4],
  [5, 21, 14, 7],
];

/** Grouped (block-diagonal) matmul, G-LSTM's product, against its reference and the dense product. */
function groupedCases(): CheckCase[] {
  return ([undefined, 'scalar', 'shared'] as const).map(
    (variant): CheckCase => ({
      group: 'groupedMatmul',
      name: `${variant ?? 'auto'} kernel`,
      run: async (seed) => {
        for (const [m, K, N, k] of GROUPED_SIZES) {
          const x = randomNd([m, K], seed);
          const w = randomNd([k, K / k, N / k], seed + 1);
          const xt = T(x, true);
          const wt = T(w, true);
          const y = groupedMatmul(xt, wt, { variant });
          const dy = randomNd([m, N], seed + 2);
          y.backward(T(dy));
          const got = await y.data();
          close(got, groupedMatmulRef(x, w), `y (m=${m} K=${K} N=${N} k=${k})`);
          close(got, await matmul(T(x), T(blockDiagonal(w))).data(), 'y vs the dense block-diagonal product');
          const g = groupedMatmulBackwardRef(x, w, dy);
          close(await xt.grad!.data(), g.dx, 'dx', 1e-4);
          close(await wt.grad!.data(), g.dw, 'dw', 1e-4);
          seed += 10;
        }
      },
    }),
  );
}

export function matmulCases(): CheckCase[] {
  return [...variantCases(), ...f16Cases(), ...batchedAndEpilogueCases(), ...groupedCases()];
}
