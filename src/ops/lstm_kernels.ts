// The kernels of the LSTM layer (src/ops/lstm.ts) and how they are composed: the fused cell
// as the store epilogue of each step's recurrent product, and the cell backward in its two
// forms, both built on the one cell gradient (cellGrad). Each is composed behind the shared
// activations (kernels/math.wgsl); the cell forward also behind the forget bias, declared in
// WGSL from the one constant the float64 reference uses (src/ref/lstm_convention.ts).
import { kernelFile } from '../gpu/pipelines.js';
import { composeKernel } from '../gpu/compose.js';
import { FORGET_BIAS } from '../ref/lstm_convention.js';
import mathSrc from '../../kernels/math.wgsl';
import cellStoreSrc from '../../kernels/lstm_cell_store.wgsl';
import cellGradSrc from '../../kernels/lstm_cell_grad.wgsl';
import cellBackwardSrc from '../../kernels/lstm_cell_backward.wgsl';
import cellBackwardStoreSrc from '../../kernels/lstm_cell_backward_store.wgsl';

const MATH = kernelFile('math', mathSrc);
const FORGET_BIAS_WGSL = {
  generated: 'FORGET_BIAS of src/ref/lstm_convention.ts',
  code: `const FORGET_BIAS: f32 = ${Number.isInteger(FORGET_BIAS) ? FORGET_BIAS.toFixed(1) : FORGET_BIAS};\n`,
};

/** The cell forward: the store epilogue of a step's recurrent product. */
export const CELL_STORE = composeKernel('lstm_cell_store', [MATH, FORGET_BIAS_WGSL, kernelFile('lstm_cell_store', cellStoreSrc)]);
// The cell backward's math (cellGrad) goes with both of its forms.
const CELL_GRAD = kernelFile('lstm_cell_grad', cellGradSrc);
/** The cell backward as a kernel of its own. */
export const CELL_BACKWARD = composeKernel('lstm_cell_backward', [MATH, CELL_GRAD, kernelFile('lstm_cell_backward', cellBackwardSrc)]);
/** The cell backward as the store epilogue of the product that gives dm. */
export const CELL_BACKWARD_STORE = composeKernel('lstm_cell_backward_store', [
  MATH,
  CELL_GRAD,
  kernelFile('lstm_cell_backward_store', cellBackwardStoreSrc),
]);
