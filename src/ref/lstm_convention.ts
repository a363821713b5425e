// The one constant of the LSTM cell that is a convention rather than a weight: the GPU kernels
// (composed into kernels/lstm_cell_store.wgsl by src/ops/lstm_kernels.ts) and the float64
// reference (src/ref/lstm.ts) both read it from here; docs/model.md describes it.

/** Added to the forget gate's pre-activation inside its sigmoid, f = sigmoid(pre_f + FORGET_BIAS);
 *  not stored in the bias b (which starts at zero). */
export const FORGET_BIAS = 1;
