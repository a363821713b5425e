// The matmul kernel family behind fl.matmul and fl.groupedMatmul: one strided, batched
// product C[z] = epilogue(A[z] · B[z]) and the choice of kernel variant per adapter.
import { rt } from '../gpu/runtime.js';
import { kernelFile, type KernelSource, type UniformSpec } from '../gpu/pipelines.js';
import type { KernelFileUniforms } from '../gpu/kernel_uniforms.js';
import { composeKernel } from '../gpu/compose.js';
import { BufferRange, type Binding } from '../gpu/recorder.js';
import type { UniformFields } from '../gpu/uniforms.js';
import scalarSrc from '../../kernels/matmul_scalar.wgsl';
import vec4Src from '../../kernels/matmul_reg_vec4.wgsl';
import sharedSrc from '../../kernels/matmul_shared.wgsl';
import subgroupSrc from '../../kernels/matmul_subgroup.wgsl';
import mathSrc from '../../kernels/math.wgsl';
import storeSrc from '../../kernels/matmul_store.wgsl';
import storeIoScalarSrc from '../../kernels/matmul_store_io_scalar.wgsl';
import storeIoVec4Src from '../../kernels/matmul_store_io_vec4.wgsl';
import contractSrc from '../../kernels/matmul_contract.wgsl';

/** The matmul cores: each calls a store hook, mm_store, that an epilogue file defines (kernels/matmul_contract.wgsl). */
export const MATMUL_CORES: Record<MatmulVariant, KernelSource<{}>> = {
  scalar: kernelFile('matmul_scalar', scalarSrc),
  vec4: kernelFile('matmul_reg_vec4', vec4Src),
  subgroup: kernelFile('matmul_subgroup', subgroupSrc),
  shared: kernelFile('matmul_shared', sharedSrc),
};

/** Element type of a matmul operand in memory: f32, or f16 (made by fl.cast; widened to f32 on load). */
export type OperandType = 'f32' | 'f16';

/** How a product reads tensor `t` (f16 tensors as f16, everything else as f32). */
export function operandType(t: { dtype: string }): OperandType {
  return t.dtype === 'f16' ? 'f16' : 'f32';
}

/**
 * Declares operand `name` at `binding` and its loader: the cores read A and B only through
 * ldA/ldB, so one core serves f32 and f16 storage; products accumulate in f32. Scalar cores
 * load one element, vec4 cores four (index in units of 4 elements either way).
 * f16 operands are read as u32 words holding two halves each (unpack2x16float), not as f16
 * values: the same bytes, but on a software driver every loaded component costs a bounds-
 * checked load per SIMD lane, so two halves per component halve the cost of the loads.
 */
function operandPrelude(name: 'a' | 'b', binding: number, vec4: boolean, type: OperandType, writable = false): string {
  const decl = (stored: string) =>
    `@group(0) @binding(${binding}) var<storage, ${writable ? 'read_write' : 'read'}> ${name}: array<${stored}>;\n`;
  const fn = `fn ld${name.toUpperCase()}(i: u32)`;
  if (type === 'f32') return decl(vec4 ? 'vec4f' : 'f32') + `${fn} -> ${vec4 ? 'vec4f' : 'f32'} { return ${name}[i]; }\n`;
  if (vec4) return decl('vec2u') + `${fn} -> vec4f { let w = ${name}[i]; return vec4f(unpack2x16float(w.x), unpack2x16float(w.y)); }\n`;
  return decl('u32') + `${fn} -> f32 { return unpack2x16float(${name}[i / 2u])[i % 2u]; }\n`;
}

/**
 * A core with the contract (Params, binding 0), its operand loaders and an epilogue appended
 * (WGSL has no includes). The core goes first: it may open with a directive (`enable subgroups`). Cached per (core, operand
 * types, epilogue object). `aWritable`: A is declared read_write, for a product whose epilogue
 * writes another range of A's buffer (WebGPU allows one buffer in a dispatch either read-only
 * everywhere, or writable in ranges that do not overlap).
 */
const CONTRACT = kernelFile('matmul_contract', contractSrc);
/** The uniforms of a matmul core with epilogue E: the contract's Params at 0, E's own after. */
export type MatmulUniforms<E extends UniformSpec> = KernelFileUniforms['matmul_contract'] & E;
const composed = new WeakMap<KernelSource<any>, Map<string, KernelSource<any>>>();
export function withEpilogue<E extends UniformSpec>(
  variant: MatmulVariant,
  epilogue: KernelSource<E>,
  typeA: OperandType = 'f32',
  typeB: OperandType = 'f32',
  aWritable = false,
): KernelSource<MatmulUniforms<E>> {
  const core = MATMUL_CORES[variant];
  const types = typeA === 'f32' && typeB === 'f32' ? '' : `[${typeA},${typeB}]`;
  const name = `${core.name}${types}${aWritable ? '[a rw]' : ''}+${epilogue.name}`;
  let ofEpilogue = composed.get(epilogue);
  if (!ofEpilogue) composed.set(epilogue, (ofEpilogue = new Map()));
  let k = ofEpilogue.get(name);
  if (!k) {
    const vec4 = variant === 'vec4' || variant === 'subgroup';
    const operands = operandPrelude('a', 1, vec4, typeA, aWritable) + operandPrelude('b', 2, vec4, typeB);
    k = composeKernel(name, [core, CONTRACT, { generated: `operands a ${typeA}, b ${typeB}`, code: operands }, epilogue]);
    ofEpilogue.set(name, k);
  }
  return k;
}

const MATH = kernelFile('math', mathSrc);
const STORE = kernelFile('matmul_store', storeSrc);
const MATMUL_STORE = composeKernel('matmul_store', [kernelFile('matmul_store_io_scalar', storeIoScalarSrc), MATH, STORE]);
const MATMUL_STORE_VEC4 = composeKernel('matmul_store_vec4', [kernelFile('matmul_store_io_vec4', storeIoVec4Src), MATH, STORE]);

/** Whether the store may read and write C (and the bias) four columns at a time. */
function storeVec4(s: MatmulSpec): boolean {
  return m4(s.N) && m4(s.ldc) && m4(s.strideC) && m4(s.offC ?? 0) && (!s.bias || (m4(s.offBias ?? 0) && m4(s.strideBias ?? 0)));
}

/**
 * scalar: barrier-free 4x4 register tile, scalar loads, any layout (the fallback).
 * vec4: barrier-free 4x4 register tile with vec4 loads (needs alignment).
 * subgroup: barrier-free 8x4 tile, A shared between SIMD lanes by subgroupBroadcast
 *   (software drivers with subgroups of >= 8 lanes; vec4 alignment).
 * shared: 64x64 workgroup tile staged in shared memory (real GPUs).
 */
export type MatmulVariant = 'scalar' | 'vec4' | 'subgroup' | 'shared';

export const Activation = { none: 0, sigmoid: 1, tanh: 2, relu: 3 } as const;
export type ActivationName = keyof typeof Activation;

/** Everything one strided batched product needs; element offsets and strides, not bytes. */
export interface MatmulSpec {
  /** A range of a buffer binds only that range; offA then counts from its start. A range of
   *  the buffer the epilogue writes is declared read_write (see withEpilogue). */
  a: GPUBuffer | BufferRange;
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
  /** Element offsets of the operands in their buffers (a step's slice of a sequence). */
  offA?: number;
  offB?: number;
  offC?: number;
  offBias?: number;
  alpha?: number;
  activation?: ActivationName;
  /** C += result instead of C = result. */
  accumulate?: boolean;
  /** Forces a kernel variant: it runs this product or the call fails (no silent fallback). */
  variant?: MatmulVariant;
  /** Operands stored as f16 (the adapter must have shader-f16); C is always f32. */
  typeA?: OperandType;
  typeB?: OperandType;
}

const m4 = (x: number) => x % 4 === 0;

/** Whether the vec4 kernel's alignment conditions hold for this product. */
export function vec4Eligible(s: MatmulSpec): boolean {
  const aContig = s.transA ? s.M : s.K;
  const bContig = s.transB ? s.K : s.N;
  return (
    m4(s.K) && m4(aContig) && m4(s.lda) && m4(s.strideA) && m4(s.offA ?? 0) && m4(bContig) && m4(s.ldb) && m4(s.strideB) && m4(s.offB ?? 0)
  );
}

/** Whether this adapter can run the subgroup kernel (subgroups of at least 8 lanes). */
export function subgroupCapable(): boolean {
  const info = rt().info;
  return info.features.includes('subgroups') && (info.subgroupMinSize ?? 0) >= 8;
}

/** The variant to run: the caller's forced choice (which must fit), else the adapter's family. */
export function chooseVariant(s: MatmulSpec): MatmulVariant {
  const v = s.variant;
  if (v) {
    const unfit = variantUnfit(v, s);
    if (unfit) throw new Error(`flstm: matmul variant ${v} ${unfit}`);
    return v;
  }
  if (rt().info.variant === 'gpu') return 'shared';
  if (!vec4Eligible(s)) return 'scalar';
  return subgroupCapable() ? 'subgroup' : 'vec4';
}

function variantUnfit(v: MatmulVariant, s: MatmulSpec): string | null {
  if (v === 'subgroup' && !subgroupCapable()) return 'needs the adapter feature "subgroups" with at least 8 lanes';
  if ((v === 'vec4' || v === 'subgroup') && !vec4Eligible(s)) {
    return `needs K and the contiguous extents of A and B to be multiples of 4 (M=${s.M}, N=${s.N}, K=${s.K})`;
  }
  return null;
}

/**
 * Rows of C per subgroup-kernel workgroup: 16 halves the B loads per multiply-add (the cost
 * that bounds this kernel on lavapipe), and is used whenever M is a multiple of 16 (the
 * per-step recurrent products with batch 32) or large; 8 for a short ragged M, where the
 * last 16-row block could leave most of its rows idle.
 */
export function subgroupRows(M: number): 8 | 16 {
  return M % 16 === 0 || M > 64 ? 16 : 8;
}

/** Workgroup shape and the block of C one workgroup covers, per variant. */
const GEOMETRY: Record<MatmulVariant, { wg: [number, number]; tileM: number; tileN: number }> = {
  scalar: { wg: [8, 8], tileM: 32, tileN: 32 },
  vec4: { wg: [8, 8], tileM: 32, tileN: 32 },
  subgroup: { wg: [32, 1], tileM: 16, tileN: 128 }, // tileM and wg[0] are set per product below
  shared: { wg: [16, 16], tileM: 64, tileN: 64 },
};

/** C = epilogue(A · B) with the plain store epilogue (alpha, bias, activation, accumulate). */
export function matmulRaw(s: MatmulSpec): void {
  runMatmulCore(
    s,
    storeVec4(s) ? MATMUL_STORE_VEC4 : MATMUL_STORE,
    {
      HAS_BIAS: !!s.bias,
      ACT: Activation[s.activation ?? 'none'],
      ACCUM: !!s.accumulate,
    },
    [s.bias ?? rt().dummy, s.c],
  );
}

/**
 * Dispatches a matmul core with any store epilogue: `buffers` are bound from binding 3 on
 * (storage buffers, or a uniform the epilogue declares), `overrides` are the epilogue's.
 */
export function runMatmulCore<E extends UniformSpec>(
  s: Omit<MatmulSpec, 'c' | 'bias' | 'activation' | 'accumulate'>,
  epilogue: KernelSource<E>,
  overrides: Record<string, number | boolean>,
  buffers: (Binding | UniformFields)[],
): void {
  const variant = chooseVariant(s as MatmulSpec);
  let g = GEOMETRY[variant];
  const all: Record<string, number | boolean> = { TRANS_A: s.transA, TRANS_B: s.transB, ...overrides };
  if (variant === 'scalar' || variant === 'vec4') {
    all.WG_X = g.wg[0];
    all.WG_Y = g.wg[1];
  } else if (variant === 'subgroup') {
    // Narrow products (a G-LSTM group's 64 columns, say) would leave lanes of a 32-wide
    // workgroup idle: shrink it to the columns there are, in whole subgroups of 8.
    const wgX = Math.min(g.wg[0], Math.max(8, Math.ceil(s.N / 32) * 8));
    const rows = subgroupRows(s.M);
    g = { wg: [wgX, 1], tileM: rows, tileN: 4 * wgX };
    all.WG_X = wgX;
    all.ROWS = rows;
  }
  rt().run(withEpilogue(variant, epilogue, s.typeA, s.typeB, s.a instanceof BufferRange), {
    overrides: all,
    params: {
      M: s.M,
      N: s.N,
      K: s.K,
      lda: s.lda,
      ldb: s.ldb,
      ldc: s.ldc,
      strideA: s.strideA,
      strideB: s.strideB,
      strideC: s.strideC,
      strideBias: s.strideBias ?? 0,
      alpha: s.alpha ?? 1,
      offA: s.offA ?? 0,
      offB: s.offB ?? 0,
      offC: s.offC ?? 0,
      offBias: s.offBias ?? 0,
    },
    buffers: [s.a, s.b, ...buffers],
    workgroups: [Math.ceil(s.N / g.tileN), Math.ceil(s.M / g.tileM), s.batch],
  });
}
