// The LSTM layer op (fl.lstmSequence) on the GPU against the float64 reference of the
// paper's equations (src/ref/lstm.ts): outputs, carried state and every gradient.
import { describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { lstmRefOutputSize } from '../src/ref/lstm.js';
import { checkLstm, type LstmCase } from '../src/selfcheck/lstm_cases.js';
import { freshSeed, useDevice } from './helpers.js';

useDevice();

type Case = Omit<LstmCase, 'label'>;

/** The self-check's runner (src/selfcheck/lstm_cases.ts), on a fresh seed; a case's label is its sizes. */
async function checkLayer(c: Case, variant?: fl.MatmulVariant, f16 = false): Promise<void> {
  const p = lstmRefOutputSize(c);
  const label = `${c.cell} T=${c.T} B=${c.B} in=${c.inputSize} n=${c.hiddenSize} p=${p}${c.projSize ? '' : ' (no proj)'} r=${c.factor ?? '-'} k=${c.groups ?? '-'}`;
  await checkLstm({ ...c, label }, freshSeed(), { variant, f16 });
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
    expect(() => fl.lstmSequence(fl.zeros([2, 2, 5]), fl.zeros([2, 3]), fl.zeros([2, 3]), w, cfg)).toThrow(
      /input has width 5 .*expected inputSize 4/,
    );
    expect(() => fl.lstmSequence(fl.zeros([2, 2, 4]), fl.zeros([3, 3]), fl.zeros([2, 3]), w, cfg)).toThrow(
      /state h has shape \[3, 3\], expected \[2, 3\]/,
    );
    expect(() => fl.lstmSequence(fl.zeros([0, 2, 4]), fl.zeros([2, 3]), fl.zeros([2, 3]), w, cfg)).toThrow(/sequence is empty/);
  });
});
