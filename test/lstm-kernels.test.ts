// The LSTM layer op (fl.lstmSequence) on the GPU against the float64 reference of the
// paper's equations (src/ref/lstm.ts): outputs, carried state and every gradient.
import { describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { lstmBackwardRef, lstmForwardRef, randomLstmParams, lstmRefOutputSize, type LstmRefConfig, type LstmRefParams } from '../src/ref/lstm.js';
import type { NDArray } from '../src/ref/array.js';
import { roundHalf } from '../src/half.js';
import { rt } from '../src/gpu/runtime.js';
import { MATMUL_CORES } from '../src/ops/matmul_kernel.js';
import { expectClose, f32, freshSeed, randomNd, toTensor, useDevice } from './helpers.js';

useDevice();

interface Case extends LstmRefConfig { T: number; B: number }

function f32Params(p: LstmRefParams): LstmRefParams {
  const q = { ...p, b: f32(p.b) };
  for (const k of ['W', 'W1', 'W2', 'P'] as const) if (p[k]) q[k] = f32(p[k]!);
  return q;
}

async function checkLayer(c: Case, variant?: fl.MatmulVariant, f16 = false) {
  const seed = freshSeed();
  const ref = f32Params(randomLstmParams(c, seed, 0.4));
  // f16 weights: the layer reads f16 copies of W, W1, W2, P; the reference takes their
  // values, and the gradients reach the f32 masters through the casts.
  if (f16) for (const k of ['W', 'W1', 'W2', 'P'] as const) if (ref[k]) ref[k] = { shape: ref[k]!.shape, data: ref[k]!.data.map(roundHalf) };
  const p = lstmRefOutputSize(c);
  let x = f32(randomNd([c.T, c.B, c.inputSize], seed + 1));
  const h0 = f32(randomNd([c.B, p], seed + 2, 0.5));
  const c0 = f32(randomNd([c.B, c.hiddenSize], seed + 3, 0.5));
  const dy = f32(randomNd([c.T, c.B, p], seed + 4));
  const tensors: Record<string, fl.Tensor> = {};
  const weights: fl.LstmWeights = { b: (tensors.b = toTensor(ref.b, true)) };
  for (const k of ['W', 'W1', 'W2', 'P'] as const) {
    if (!ref[k]) continue;
    tensors[k] = toTensor(ref[k]!, true);
    weights[k] = f16 ? fl.cast(tensors[k], 'f16') : tensors[k];
  }
  const xt = toTensor(x, true);
  const h0t = toTensor(h0, true);
  const c0t = toTensor(c0, true);
  // f16: the input x is read as an f16 copy too (what nn.LSTM does with precision 'f16').
  const x16 = f16 ? fl.cast(xt, 'f16') : xt;
  if (f16) x = { shape: x.shape, data: Float64Array.from(await x16.data()) };
  rt().dispatchLog = [];
  const res = fl.lstmSequence(x16, h0t, c0t, weights, { ...c, variant });
  res.y.backward(toTensor(dy));
  const ran = rt().dispatchLog!.filter((k) => k.startsWith('matmul_'));
  rt().dispatchLog = null;
  // A forced variant runs every product of the layer, forward and backward (or the call fails).
  if (variant) expect(new Set(ran.map((k) => k.split(/[[+]/)[0]))).toEqual(new Set([MATMUL_CORES[variant].name]));
  const want = lstmForwardRef(ref, x, h0, c0);
  const g = lstmBackwardRef(ref, x, h0, c0, dy);
  const tag = `${c.cell} T=${c.T} B=${c.B} in=${c.inputSize} n=${c.hiddenSize} p=${p}${c.projSize ? '' : ' (no proj)'} r=${c.factor ?? '-'} k=${c.groups ?? '-'} variant=${variant ?? 'auto'}${f16 ? ' f16 weights' : ''} seed=${seed}`;
  const tol = { atol: 2e-5, rtol: 2e-4 };
  expectClose(await res.y.data(), want.y, { ...tol, what: `y ${tag}`, shape: res.y.shape });
  expectClose(await res.h.data(), want.h, { ...tol, what: `h_T ${tag}` });
  expectClose(await res.c.data(), want.c, { ...tol, what: `c_T ${tag}` });
  const gtol = { atol: 1e-4, rtol: 5e-4 };
  const check = async (t: fl.Tensor, r: NDArray | undefined, what: string) => expectClose(await t.grad!.data(), r!, { ...gtol, what: `${what} ${tag}` });
  await check(xt, g.dx, 'dx');
  await check(h0t, g.dh0, 'dh0');
  await check(c0t, g.dc0, 'dc0');
  await check(tensors.b, g.db, 'db');
  if (tensors.W) await check(tensors.W, g.dW, 'dW');
  if (tensors.W1) await check(tensors.W1, g.dW1, 'dW1');
  if (tensors.W2) await check(tensors.W2, g.dW2, 'dW2');
  if (tensors.P) await check(tensors.P, g.dP, 'dP');
}

const AWKWARD: Case[] = [
  { cell: 'lstm', T: 3, B: 5, inputSize: 7, hiddenSize: 9, projSize: 5 },
  { cell: 'lstm', T: 4, B: 3, inputSize: 5, hiddenSize: 7, projSize: 0 },
  { cell: 'lstm', T: 1, B: 1, inputSize: 1, hiddenSize: 1, projSize: 0 },
  { cell: 'flstm', T: 3, B: 5, inputSize: 7, hiddenSize: 9, projSize: 5, factor: 3 },
  { cell: 'flstm', T: 2, B: 3, inputSize: 6, hiddenSize: 5, projSize: 0, factor: 2 },
  { cell: 'glstm', T: 3, B: 5, inputSize: 6, hiddenSize: 9, projSize: 6, groups: 3 },
  { cell: 'glstm', T: 3, B: 2, inputSize: 4, hiddenSize: 6, projSize: 0, groups: 2 },
  { cell: 'glstm', T: 2, B: 3, inputSize: 5, hiddenSize: 7, projSize: 3, groups: 1 },
];
// Sizes where every product meets the vec4 alignment (B, T·B, the widths and each group's
// widths are multiples of 4), so a forced vec4 or subgroup variant runs every product.
const ALIGNED: Case[] = [
  { cell: 'lstm', T: 5, B: 4, inputSize: 16, hiddenSize: 12, projSize: 8 },
  { cell: 'flstm', T: 5, B: 4, inputSize: 16, hiddenSize: 12, projSize: 8, factor: 8 },
  { cell: 'glstm', T: 5, B: 4, inputSize: 16, hiddenSize: 16, projSize: 8, groups: 2 },
  { cell: 'glstm', T: 3, B: 8, inputSize: 32, hiddenSize: 32, projSize: 0, groups: 4 },
  // Without projection the cell backward rides on the recurrent product (LSTM and G-LSTM read
  // dG_{t+1} and write dG_t through two ranges of one buffer).
  { cell: 'flstm', T: 4, B: 4, inputSize: 8, hiddenSize: 8, projSize: 0, factor: 4 },
  { cell: 'lstm', T: 3, B: 4, inputSize: 4, hiddenSize: 8, projSize: 0 },
  { cell: 'lstm', T: 1, B: 4, inputSize: 8, hiddenSize: 4, projSize: 4 },
];
// G-LSTM with 6 units per group: the cell backward falls back to the standalone kernel, and
// its per-group products (K = 2 or 6) are beyond the vec4 kernels, so forcing vec4 must fail.
const GROUPS_OF_6: Case = { cell: 'glstm', T: 3, B: 3, inputSize: 8, hiddenSize: 24, projSize: 0, groups: 4 };

describe('LSTM layer kernels against the float64 reference (forward, state, all gradients)', () => {
  for (const c of AWKWARD) {
    it(`${c.cell} ${c.projSize ? 'with' : 'without'} projection, awkward sizes (T=${c.T}, B=${c.B}, in=${c.inputSize}, n=${c.hiddenSize}, p=${c.projSize})`, async () => {
      await checkLayer(c);
    });
  }
  for (const variant of [undefined, 'scalar', 'vec4', 'subgroup', 'shared'] as const) {
    it(`aligned sizes, every cell, ${variant ?? 'auto'} kernels`, async () => {
      for (const c of ALIGNED) await checkLayer(c, variant);
      if (variant !== 'vec4' && variant !== 'subgroup') await checkLayer(GROUPS_OF_6, variant);
    });
  }

  it('a forced vec4 variant that cannot run a product fails, naming the product (no silent fallback)', async () => {
    await expect(checkLayer(GROUPS_OF_6, 'vec4')).rejects.toThrow(/matmul variant vec4 needs K .* multiples of 4 \(M=\d+, N=\d+, K=\d+\)/);
    rt().dispatchLog = null;
  });

  for (const variant of [undefined, 'scalar', 'shared'] as const) {
    it(`f16 weight matrices and input (${variant ?? 'auto'} kernels): every cell against the reference on the f16 values`, async () => {
      for (const c of [...ALIGNED, GROUPS_OF_6]) await checkLayer(c, variant, true);
      await checkLayer(AWKWARD[0], variant, true);
    });
  }

  it('rejects a wrong input width, a state of the wrong shape, an empty sequence', () => {
    const cfg = { cell: 'lstm' as const, inputSize: 4, hiddenSize: 3, projSize: 0 };
    const w = { W: fl.zeros([7, 12]), b: fl.zeros([12]) };
    expect(() => fl.lstmSequence(fl.zeros([2, 2, 5]), fl.zeros([2, 3]), fl.zeros([2, 3]), w, cfg)).toThrow(/input has width 5 .*expected inputSize 4/);
    expect(() => fl.lstmSequence(fl.zeros([2, 2, 4]), fl.zeros([3, 3]), fl.zeros([2, 3]), w, cfg)).toThrow(/state h has shape \[3, 3\], expected \[2, 3\]/);
    expect(() => fl.lstmSequence(fl.zeros([0, 2, 4]), fl.zeros([2, 3]), fl.zeros([2, 3]), w, cfg)).toThrow(/sequence is empty/);
  });
});
