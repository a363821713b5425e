// Kernel cases of the LSTM layer op of each cell: outputs, final state and every gradient
// against the float64 BPTT reference.
import { lstmSequence, type LstmWeights } from '../ops/lstm.js';
import type { MatmulVariant } from '../ops/matmul_kernel.js';
import type { Tensor } from '../tensor.js';
import { nd, type NDArray } from '../ref/array.js';
import { lstmBackwardRef, lstmForwardRef, randomLstmParams, lstmRefOutputSize, type LstmRefConfig, type LstmRefParams } from '../ref/lstm.js';
import { close, randomNd, T, type CheckCase } from './check.js';

type LstmCase = LstmRefConfig & { T: number; B: number; label: string };

const LSTM_CASES: LstmCase[] = [
  { label: 'LSTM with projection', cell: 'lstm', T: 3, B: 5, inputSize: 7, hiddenSize: 9, projSize: 5 },
  { label: 'LSTM without projection', cell: 'lstm', T: 4, B: 3, inputSize: 5, hiddenSize: 7, projSize: 0 },
  { label: 'LSTM, aligned sizes', cell: 'lstm', T: 5, B: 4, inputSize: 16, hiddenSize: 12, projSize: 8 },
  { label: 'F-LSTM with projection', cell: 'flstm', T: 3, B: 5, inputSize: 7, hiddenSize: 9, projSize: 5, factor: 3 },
  { label: 'F-LSTM, aligned sizes', cell: 'flstm', T: 5, B: 4, inputSize: 16, hiddenSize: 12, projSize: 8, factor: 8 },
  { label: 'G-LSTM, 3 groups', cell: 'glstm', T: 3, B: 5, inputSize: 6, hiddenSize: 9, projSize: 6, groups: 3 },
  { label: 'G-LSTM without projection', cell: 'glstm', T: 3, B: 2, inputSize: 4, hiddenSize: 6, projSize: 0, groups: 2 },
  { label: 'G-LSTM, aligned sizes', cell: 'glstm', T: 3, B: 9, inputSize: 32, hiddenSize: 32, projSize: 0, groups: 4 },
];

const WEIGHT_NAMES = ['W', 'W1', 'W2', 'P'] as const;

/** Random weights of the case's shapes, rounded to f32 so the reference sees the GPU's values. */
function f32Params(c: LstmRefConfig, seed: number): LstmRefParams {
  const raw = randomLstmParams(c, seed, 0.4);
  const ref: LstmRefParams = { ...raw, b: nd(Float32Array.from(raw.b.data), raw.b.shape) };
  for (const k of WEIGHT_NAMES) if (raw[k]) ref[k] = nd(Float32Array.from(raw[k]!.data), raw[k]!.shape);
  return ref;
}

async function checkLstm(c: LstmCase, seed: number, variant?: MatmulVariant): Promise<void> {
  const ref = f32Params(c, seed);
  const x = randomNd([c.T, c.B, c.inputSize], seed + 1);
  const h0 = randomNd([c.B, lstmRefOutputSize(c)], seed + 2, 0.5);
  const c0 = randomNd([c.B, c.hiddenSize], seed + 3, 0.5);
  const dy = randomNd([c.T, c.B, lstmRefOutputSize(c)], seed + 4);
  const tensors: Record<string, Tensor> = {};
  const weights: LstmWeights = { b: (tensors.b = T(ref.b, true)) };
  for (const k of WEIGHT_NAMES) if (ref[k]) weights[k] = tensors[k] = T(ref[k]!, true);
  const xt = T(x, true);
  const h0t = T(h0, true);
  const c0t = T(c0, true);
  const res = lstmSequence(xt, h0t, c0t, weights, { ...c, variant });
  res.y.backward(T(dy));
  const want = lstmForwardRef(ref, x, h0, c0);
  const g = lstmBackwardRef(ref, x, h0, c0, dy);
  close(await res.y.data(), want.y, 'y', 2e-5, 2e-4);
  close(await res.h.data(), want.h, 'h_T', 2e-5, 2e-4);
  close(await res.c.data(), want.c, 'c_T', 2e-5, 2e-4);
  const grads: [Tensor | undefined, NDArray | undefined, string][] = [
    [xt, g.dx, 'dx'], [h0t, g.dh0, 'dh0'], [c0t, g.dc0, 'dc0'], [tensors.b, g.db, 'db'],
    [tensors.W, g.dW, 'dW'], [tensors.W1, g.dW1, 'dW1'], [tensors.W2, g.dW2, 'dW2'], [tensors.P, g.dP, 'dP'],
  ];
  for (const [t, r, what] of grads) if (t) close(await t.grad!.data(), r!, what, 1e-4, 5e-4);
}

export function lstmCases(): CheckCase[] {
  const cases = LSTM_CASES.map((c): CheckCase => ({ group: 'lstm', name: c.label, run: (seed) => checkLstm(c, seed) }));
  cases.push({
    group: 'lstm',
    name: 'every cell with the scalar kernels',
    run: async (seed) => {
      for (const c of LSTM_CASES.filter((x) => x.label.includes('aligned'))) await checkLstm(c, seed++, 'scalar');
    },
  });
  return cases;
}
