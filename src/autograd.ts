// Autograd for the ops and the package: grad mode and recording from the tape (src/tape.ts,
// which sits below the tensors), and backward() as a function of a tensor.
import type { BackwardOptions, Tensor } from './tensor.js';

export { isGradEnabled, noGrad, record, type GradNode } from './tape.js';
export type { BackwardOptions } from './tensor.js';

/** Backpropagates from root (a scalar, or pass the output gradient): root.backward(grad, opts). */
export function backward(root: Tensor, grad?: Tensor, opts: BackwardOptions = {}): void {
  root.backward(grad, opts);
}
