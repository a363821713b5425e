// The matmul kernel family behind fl.matmul and fl.groupedMatmul: one strided, batched
// product C[z] = epilogue(A[z] · B[z]) and the choice of kernel variant per adapter.
import { rt } from '../gpu/runtime.js';
import type { KernelSource } from '../gpu/pipelines.js';
import scalarSrc from '../../kernels/matmul_scalar.wgsl';
import vec4Src from '../../kernels/matmul_reg_vec4.wgsl';
import sharedSrc from '../../kernels/matmul_shared.wgsl';

export const MATMUL_KERNELS: Record<MatmulVariant, KernelSource> = {
  scalar: { name: 'matmul_scalar', code: scalarSrc },
  vec4: { name: 'matmul_reg_vec4', code: vec4Src },
  shared: { name: 'matmul_shared', code: sharedSrc },
};

/**
 * scalar: barrier-free 4x4 register tile, scalar loads, any layout (the fallback).
 * vec4: barrier-free 4x4 register tile with vec4 loads (software drivers; needs alignment).
 * shared: 64x64 workgroup tile staged in shared memory (real GPUs).
 */
export type MatmulVariant = 'scalar' | 'vec4' | 'shared';

export const Activation = { none: 0, sigmoid: 1, tanh: 2, relu: 3 } as const;
export type ActivationName = keyof typeof Activation;

/** Everything one strided batched product needs; element offsets and strides, not bytes. */
export interface MatmulSpec {
  a: GPUBuffer;
  b: GPUBuffer;
  c: GPUBuffer;
  bias?: GPUBuffer;
  M: number;
  N: number;
  K: number;
  batch: number;
  transA: boolean;
  transB: boolean;
  lda: number;
  ldb: number;
  ldc: number;
  strideA: number;
  strideB: number;
  strideC: number;
  strideBias?: number;
  alpha?: number;
  activation?: ActivationName;
  /** C += result instead of C = result. */
  accumulate?: boolean;
  variant?: MatmulVariant;
  /** With a forced variant: fail when it cannot run this product (else fall back to scalar). */
  strictVariant?: boolean;
}

const m4 = (x: number) => x % 4 === 0;

/** Whether the vec4 kernel's alignment conditions hold for this product. */
export function vec4Eligible(s: MatmulSpec): boolean {
  const aContig = s.transA ? s.M : s.K;
  const bContig = s.transB ? s.K : s.N;
  return m4(s.K) && m4(aContig) && m4(s.lda) && m4(s.strideA) && m4(bContig) && m4(s.ldb) && m4(s.strideB);
}

/** The variant to run: the caller's choice when it is valid, else the adapter's family. */
export function chooseVariant(s: MatmulSpec): MatmulVariant {
  if (s.variant === 'vec4' && !vec4Eligible(s)) {
    if (!s.strictVariant) return 'scalar';
    throw new Error(`flstm: matmul variant vec4 needs K and the contiguous extents of A and B to be multiples of 4 (M=${s.M}, N=${s.N}, K=${s.K})`);
  }
  if (s.variant) return s.variant;
  if (rt().info.variant === 'gpu') return 'shared';
  return vec4Eligible(s) ? 'vec4' : 'scalar';
}

const WG = 8; // register kernels: 8x8 invocations, a 32x32 block of C per workgroup

export function matmulRaw(s: MatmulSpec): void {
  const variant = chooseVariant(s);
  const r = rt();
  const tile = variant === 'shared' ? 64 : 4 * WG;
  const overrides: Record<string, number | boolean> = {
    TRANS_A: s.transA,
    TRANS_B: s.transB,
    HAS_BIAS: !!s.bias,
    ACT: Activation[s.activation ?? 'none'],
    ACCUM: !!s.accumulate,
  };
  if (variant !== 'shared') {
    overrides.WG_X = WG;
    overrides.WG_Y = WG;
  }
  r.run(MATMUL_KERNELS[variant], {
    overrides,
    params: [s.M, s.N, s.K, s.lda, s.ldb, s.ldc, s.strideA, s.strideB, s.strideC, s.strideBias ?? 0, s.alpha ?? 1, 0],
    f32Mask: 1 << 10,
    buffers: [s.a, s.b, s.bias ?? r.dummy, s.c],
    workgroups: [Math.ceil(s.N / tile), Math.ceil(s.M / tile), s.batch],
  });
}
