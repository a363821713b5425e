// fl.lstmSequence: one LSTM layer over a whole sequence as one autograd node, run the way
// cuDNN runs it (docs/model.md), for the three cells of the paper:
//   lstm  (LSTMP) and glstm (groups): one code path; an LSTM is a G-LSTM with k = 1.
//   flstm: gates = W2·(W1·[x; h]) + b.
// The layer is a plan and two lists of steps:
//   lstm_plan.ts     the inputs checked, the sizes, the gate product by kind, and where the
//                    cell backward runs (and why);
//   lstm_forward.ts  the input half of every step's gates in one large product (U = X·Wx + b,
//                    or Z = X·W1x for F-LSTM), then per step one fused dispatch (the recurrent
//                    product with the cell as its epilogue, kernels/lstm_cell_store.wgsl) and
//                    the projection;
//   lstm_backward.ts per step in reverse, the recurrent gradient and the projection's, the cell
//                    backward as the epilogue of the product that gives dm
//                    (kernels/lstm_cell_backward_store.wgsl; a kernel of its own where that
//                    cannot apply, lstm_cell_backward.wgsl); then every weight gradient as one
//                    large product over all T·B rows;
//   lstm_kernels.ts  the kernels and their composition.
// Everything is encoded into the current command encoder: no host round trip.
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { planLayer, type LstmConfig, type LstmResult, type LstmWeights } from './lstm_plan.js';
import { carriedState, lstmForward, type LayerForward } from './lstm_forward.js';
import { lstmBackward } from './lstm_backward.js';

export type { LstmConfig, LstmResult, LstmWeights } from './lstm_plan.js';

/** The layer's parameters in the order of its autograd inputs (after x, h0, c0). */
function parameters(w: LstmWeights, f: LayerForward): Tensor[] {
  const params = f.gate.kind === 'factored' ? [f.gate.W1, f.gate.W2, w.b] : [f.gate.W, w.b];
  if (f.projection) params.push(f.projection.P);
  return params;
}

/** The forward's buffers the backward reads (y is the output and stays). */
function savedForBackward(f: LayerForward): Tensor[] {
  return [f.gates, f.C, ...(f.projection ? [f.projection.M] : []), ...(f.gate.kind === 'factored' ? [f.gate.Z] : [])];
}

export function lstmSequence(x: Tensor, h0: Tensor, c0: Tensor, w: LstmWeights, cfg: LstmConfig): LstmResult {
  const plan = planLayer(x, h0, c0, w, cfg);
  const f = lstmForward(plan, x, h0, c0);
  const { h, c } = carriedState(plan, f);
  const saved = savedForBackward(f);
  const y = record(f.y, `lstm.${cfg.cell}`, [x, h0, c0, ...parameters(w, f)], (dy) => {
    const grads = lstmBackward(plan, f, x, h0, c0, dy);
    for (const s of saved) s.dispose();
    return grads;
  });
  if (!y.node) for (const s of saved) s.dispose(); // nothing will call backward
  return { y, h, c };
}
