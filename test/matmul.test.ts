import { describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { blockDiagonal, groupedMatmulBackwardRef, groupedMatmulRef } from '../src/ref/matmul.js';
import { checkMatmul as checkProduct, type MatmulCheck } from '../src/selfcheck/matmul_cases.js';
import { vec4Eligible } from '../src/ops/matmul_kernel.js';
import { expectClose, f32, freshSeed, randomNd, toTensor, useDevice } from './helpers.js';

useDevice();

type Case = [number, number, number]; // M, K, N
const ANY_SIZES: Case[] = [
  [1, 1, 1],
  [7, 33, 129],
  [129, 7, 33],
  [1000, 7, 33],
  [33, 129, 1],
  [65, 17, 70],
];
// vec4 needs K and the contiguous extents to be multiples of 4; M and N edges stay ragged.
// 76 and 132 take the 16-row subgroup blocks with a partly and a wholly empty second half.
const VEC4_SIZES: Case[] = [
  [4, 4, 4],
  [36, 36, 68],
  [132, 64, 36],
  [76, 20, 40],
  [36, 132, 12],
  [4, 4, 100],
];
/** vec4 sizes with a ragged edge where the layout allows one (M when A is not transposed, N when B is). */
const raggedVec4 = (tA: boolean, tB: boolean): Case => [tA ? 36 : 33, 40, tB ? 33 : 36];
const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

type CheckOptions = Omit<MatmulCheck, 'tA' | 'tB' | 'bias'> & { transposeA?: boolean; transposeB?: boolean; bias?: boolean };

/** The self-check's runner (src/selfcheck/matmul_cases.ts) on a fresh seed. */
async function checkMatmul(M: number, K: number, N: number, o: CheckOptions): Promise<void> {
  const { transposeA, transposeB, ...rest } = o;
  await checkProduct(M, K, N, { ...rest, tA: transposeA, tB: transposeB }, freshSeed());
}

describe('matmul forward and backward against the float64 reference', () => {
  for (const variant of ['scalar', 'shared', 'vec4', 'subgroup'] as const) {
    for (const [tA, tB] of TRANSPOSES) {
      it(`${variant}, transposeA=${tA}, transposeB=${tB}`, async () => {
        const aligned = variant === 'vec4' || variant === 'subgroup';
        for (const [M, K, N] of aligned ? VEC4_SIZES : ANY_SIZES) {
          await checkMatmul(M, K, N, { transposeA: tA, transposeB: tB, variant });
        }
        if (aligned) await checkMatmul(...raggedVec4(tA, tB), { transposeA: tA, transposeB: tB, variant, gradients: false });
      });
    }
  }

  for (const variant of [undefined, 'scalar', 'vec4', 'subgroup', 'shared'] as const) {
    it(`batched 3-D operands (${variant ?? 'auto'}), each transpose, with a per-batch and a shared b`, async () => {
      const aligned = variant === 'vec4' || variant === 'subgroup';
      for (const [tA, tB] of TRANSPOSES) {
        if (!aligned) await checkMatmul(7, 12, 9, { transposeA: tA, transposeB: tB, batch: 3, variant });
        await checkMatmul(8, 12, 20, { transposeA: tA, transposeB: tB, batch: 3, variant });
        if (aligned) await checkMatmul(12, 16, 8, { transposeA: tA, transposeB: tB, batch: 4, sharedB: true, variant });
        else await checkMatmul(5, 33, 8, { transposeA: tA, transposeB: tB, batch: 4, sharedB: true, variant });
      }
    });
  }

  for (const variant of ['scalar', 'shared', 'vec4', 'subgroup'] as const) {
    it(`f16 operands (${variant}): A, B or both stored as f16, each transpose, batched; f32 accumulation and gradients`, async () => {
      const aligned = variant === 'vec4' || variant === 'subgroup';
      for (const [tA, tB] of TRANSPOSES) {
        // Each combination compiles its own pipelines: one operand alone untransposed only.
        for (const [f16A, f16B] of tA || tB
          ? [[true, true]]
          : [
              [true, false],
              [false, true],
              [true, true],
            ]) {
          const o = { transposeA: tA, transposeB: tB, variant, f16A, f16B };
          if (!aligned) await checkMatmul(33, 37, 29, o);
          else {
            await checkMatmul(36, 40, 36, o);
            await checkMatmul(...raggedVec4(tA, tB), { ...o, gradients: false });
          }
        }
      }
      await checkMatmul(8, 12, 20, { batch: 3, variant, f16B: true });
      await checkMatmul(12, 16, 8, { batch: 4, sharedB: true, variant, f16A: true, f16B: true, transposeB: true });
    });
  }

  it('fused epilogue: bias and each activation, with the bias gradient', async () => {
    // N = 68: the store reads and writes four columns at a time; 66: one at a time, the
    // row's last block cut short (with the cores that take unaligned products).
    for (const N of [68, 66]) {
      for (const variant of N % 4 === 0 ? (['scalar', 'vec4', 'subgroup', 'shared'] as const) : (['scalar', 'shared'] as const)) {
        for (const activation of ['none', 'sigmoid', 'tanh', 'relu'] as const) {
          await checkMatmul(36, 36, N, { variant, activation, bias: true });
        }
      }
    }
  });

  it('the automatic choice: subgroup (or vec4) on a software adapter for aligned shapes, scalar otherwise', async () => {
    const { chooseVariant, subgroupCapable } = await import('../src/ops/matmul_kernel.js');
    const base = {
      M: 64,
      N: 64,
      K: 64,
      lda: 64,
      ldb: 64,
      ldc: 64,
      strideA: 0,
      strideB: 0,
      strideC: 0,
      batch: 1,
      transA: false,
      transB: false,
    } as Parameters<typeof chooseVariant>[0];
    if (fl.info().software) {
      expect(chooseVariant(base)).toBe(subgroupCapable() ? 'subgroup' : 'vec4');
      expect(chooseVariant({ ...base, K: 63, lda: 63 })).toBe('scalar');
    } else expect(chooseVariant(base)).toBe('shared');
    // lavapipe reports subgroups of 8 lanes: the fast kernel must be the one chosen there.
    if (/llvmpipe/.test(fl.info().description)) expect(subgroupCapable()).toBe(true);
    const spec = { M: 64, N: 64, K: 64, lda: 64, ldb: 64, strideA: 0, strideB: 0, transA: false, transB: false } as Parameters<
      typeof vec4Eligible
    >[0];
    expect(vec4Eligible(spec)).toBe(true);
    expect(vec4Eligible({ ...spec, K: 63, lda: 63 })).toBe(false);
    expect(fl.info().variant).toBe(fl.info().software ? 'software' : 'gpu');
    await checkMatmul(64, 64, 64, {});
    await checkMatmul(63, 63, 65, {});
  });

  it('large dispatch: 1024 x 1024 x 1024 against a sampled reference', async () => {
    const seed = freshSeed();
    const a = f32(randomNd([1024, 1024], seed));
    const b = f32(randomNd([1024, 1024], seed + 1));
    const y = await fl.matmul(toTensor(a), toTensor(b)).data();
    for (let s = 0; s < 64; s++) {
      const i = (s * 131) % 1024;
      const j = (s * 977 + 5) % 1024;
      let want = 0;
      for (let k = 0; k < 1024; k++) want += a.data[i * 1024 + k] * b.data[k * 1024 + j];
      expect(Math.abs(y[i * 1024 + j] - want), `C[${i}, ${j}] seed=${seed}`).toBeLessThan(1e-3);
    }
  });

  it('rejects mismatched inner sizes, bad ranks, a bias of the wrong shape, an unaligned forced vec4', () => {
    const a = fl.zeros([3, 4]);
    const b = fl.zeros([5, 6]);
    expect(() => fl.matmul(a, b)).toThrow(/inner sizes differ: a \[3, 4\] has 4, b \[5, 6\] has 5/);
    expect(() => fl.matmul(fl.zeros([4]), b)).toThrow(/a must be 2-D or 3-D, got shape \[4\]/);
    expect(() => fl.matmul(a, fl.zeros([4, 6]), { bias: fl.zeros([5]) })).toThrow(/bias must have shape \[6\], got \[5\]/);
    expect(() => fl.matmul(fl.zeros([3, 5]), fl.zeros([5, 6]), { variant: 'vec4' })).toThrow(/vec4 needs K/);
    expect(() => fl.matmul(fl.zeros([2, 3, 4]), fl.zeros([3, 4, 5]))).toThrow(/batch sizes differ/);
  });
});

describe('groupedMatmul (block-diagonal, G-LSTM)', () => {
  const cases: [number, number, number, number][] = [
    // m, K, N, groups
    [1, 4, 8, 1],
    [7, 12, 8, 2],
    [33, 36, 132, 4],
    [129, 16, 64, 4],
    [5, 21, 14, 7],
    [1000, 8, 8, 2],
  ];
  for (const variant of [undefined, 'scalar', 'shared'] as const) {
    it(`forward and backward against the reference and the dense block-diagonal product (${variant ?? 'auto'})`, async () => {
      for (const [m, K, N, k] of cases) {
        const seed = freshSeed();
        const x = f32(randomNd([m, K], seed));
        const w = f32(randomNd([k, K / k, N / k], seed + 1));
        const xt = toTensor(x, true);
        const wt = toTensor(w, true);
        const y = fl.groupedMatmul(xt, wt, { variant });
        const dy = f32(randomNd([m, N], seed + 2));
        y.backward(toTensor(dy));
        const tag = `m=${m} K=${K} N=${N} groups=${k} seed=${seed}`;
        const yData = await y.data();
        expectClose(yData, groupedMatmulRef(x, w), { what: `grouped ${tag}`, shape: y.shape });
        // Structural: equals the dense product with the block-diagonal matrix.
        const dense = await fl.matmul(toTensor(x), toTensor(blockDiagonal(w))).data();
        expectClose(yData, dense, { what: `grouped vs dense ${tag}` });
        const g = groupedMatmulBackwardRef(x, w, dy);
        expectClose(await xt.grad!.data(), g.dx, { what: `grouped dx ${tag}`, atol: 1e-4 });
        expectClose(await wt.grad!.data(), g.dw, { what: `grouped dw ${tag}`, atol: 1e-4 });
      }
    });
  }

  it('rejects groups that do not cover x', () => {
    expect(() => fl.groupedMatmul(fl.zeros([2, 10]), fl.zeros([4, 3, 2]))).toThrow(
      /x has 10 columns but w \[4, 3, 2\] covers 4 groups x 3 = 12/,
    );
    expect(() => fl.groupedMatmul(fl.zeros([2, 10]), fl.zeros([10, 2]))).toThrow(/w must be 3-D/);
  });
});
