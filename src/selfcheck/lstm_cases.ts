// Kernel cases of the LSTM layer op of each cell: outputs, final state and every gradient
// against the float64 BPTT reference. checkLstm is also the runner of the Node test's wider
// sweep (test/lstm-kernels.test.ts), so the two suites judge a layer alike.
import { lstmSequence, type LstmWeights } from '../ops/lstm.js';
import { cast } from '../ops/cast.js';
import { MATMUL_CORES, type MatmulVariant } from '../ops/matmul_kernel.js';
import { rt } from '../gpu/runtime.js';
import { roundHalf } from '../half.js';
import type { Tensor } from '../tensor.js';
import type { NDArray } from '../ref/array.js';
import {
  lstmBackwardRef,
  lstmForwardRef,
  randomLstmParams,
  lstmRefOutputSize,
  type LstmRefConfig,
  type LstmRefParams,
} from '../ref/lstm.js';
import { close, f32, Mismatch, randomNd, T, type CheckCase } from './check.js';

/** A layer's configuration and sizes; `label` names it in messages. */
export type LstmCase = LstmRefConfig & { T: number; B: number; label: string };

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

/** Random weights of the case's shapes, rounded to f32 (or to f16: the layer's f16 copies) as the GPU sees them. */
function roundedParams(c: LstmRefConfig, seed: number, f16: boolean): LstmRefParams {
  const raw = randomLstmParams(c, seed, 0.4);
  const ref: LstmRefParams = { ...raw, b: f32(raw.b) };
  for (const k of WEIGHT_NAMES) if (raw[k]) ref[k] = f16 ? { shape: raw[k]!.shape, data: f32(raw[k]!).data.map(roundHalf) } : f32(raw[k]!);
  return ref;
}

export interface LstmCheckOptions {
  /** Force this matmul variant; every product of the layer, forward and backward, must run it. */
  variant?: MatmulVariant;
  /** The weight matrices and the input read as f16 copies (what nn.LSTM does with precision 'f16'). */
  f16?: boolean;
}

/** Runs the layer forward and backward, the matmul kernels it dispatched recorded. */
function runLayer(xt: Tensor, h0: Tensor, c0: Tensor, weights: LstmWeights, c: LstmCase, dy: NDArray, variant?: MatmulVariant) {
  rt().dispatchLog = [];
  try {
    const res = lstmSequence(xt, h0, c0, weights, { ...c, variant });
    res.y.backward(T(dy));
    return { res, ran: rt().dispatchLog!.filter((k) => k.startsWith('matmul_')) };
  } finally {
    rt().dispatchLog = null;
  }
}

/** The layer op of case `c`: outputs, final state and every gradient against the float64 BPTT reference. */
export async function checkLstm(c: LstmCase, seed: number, o: LstmCheckOptions = {}): Promise<void> {
  const ref = roundedParams(c, seed, !!o.f16);
  let x = randomNd([c.T, c.B, c.inputSize], seed + 1);
  const h0 = randomNd([c.B, lstmRefOutputSize(c)], seed + 2, 0.5);
  const c0 = randomNd([c.B, c.hiddenSize], seed + 3, 0.5);
  const dy = randomNd([c.T, c.B, lstmRefOutputSize(c)], seed + 4);
  const tensors: Record<string, Tensor> = {};
  const weights: LstmWeights = { b: (tensors.b = T(ref.b, true)) };
  for (const k of WEIGHT_NAMES)
    if (ref[k]) weights[k] = o.f16 ? cast((tensors[k] = T(ref[k]!, true)), 'f16') : (tensors[k] = T(ref[k]!, true));
  const [xt, h0t, c0t] = [T(x, true), T(h0, true), T(c0, true)];
  // f16: the reference takes the values of the f16 copy of x; the gradients reach the f32 masters through the casts.
  const x16 = o.f16 ? cast(xt, 'f16') : xt;
  if (o.f16) x = { shape: x.shape, data: Float64Array.from(await x16.data()) };
  const { res, ran } = runLayer(x16, h0t, c0t, weights, c, dy, o.variant);
  const tag = `${c.label}${o.variant ? `, ${o.variant} kernels` : ''}${o.f16 ? ', f16 weights' : ''}`;
  const names = [...new Set(ran.map((k) => k.split(/[[+]/)[0]))];
  if (o.variant && names.join() !== MATMUL_CORES[o.variant].name)
    throw new Mismatch(`${tag}: the products ran ${names.join(', ')}, not only ${MATMUL_CORES[o.variant].name}`);
  const want = lstmForwardRef(ref, x, h0, c0);
  const g = lstmBackwardRef(ref, x, h0, c0, dy);
  if (res.y.shape.join() !== want.y.shape.join()) throw new Mismatch(`${tag}: y has shape [${res.y.shape}], expected [${want.y.shape}]`);
  close(await res.y.data(), want.y, `y ${tag}`, 2e-5, 2e-4);
  close(await res.h.data(), want.h, `h_T ${tag}`, 2e-5, 2e-4);
  close(await res.c.data(), want.c, `c_T ${tag}`, 2e-5, 2e-4);
  const grads: [Tensor | undefined, NDArray | undefined, string][] = [
    [xt, g.dx, 'dx'],
    [h0t, g.dh0, 'dh0'],
    [c0t, g.dc0, 'dc0'],
    [tensors.b, g.db, 'db'],
    [tensors.W, g.dW, 'dW'],
    [tensors.W1, g.dW1, 'dW1'],
    [tensors.W2, g.dW2, 'dW2'],
    [tensors.P, g.dP, 'dP'],
  ];
  for (const [t, r, what] of grads) if (t) close(await t.grad!.data(), r!, `${what} ${tag}`, 1e-4, 5e-4);
}

export function lstmCases(): CheckCase[] {
  const cases = LSTM_CASES.map((c): CheckCase => ({ group: 'lstm', name: c.label, run: (seed) => checkLstm(c, seed) }));
  cases.push({
    group: 'lstm',
    name: 'every cell with the scalar kernels',
    run: async (seed) => {
      for (const c of LSTM_CASES.filter((x) => x.label.includes('aligned'))) await checkLstm(c, seed++, { variant: 'scalar' });
    },
  });
  return cases;
}
