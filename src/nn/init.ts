// Parameter initialisation. Seeded host generators (src/random.ts), so the same seed gives
// the same weights on every adapter.
//
// The default for the LSTM layers (every weight matrix W, W1, W2, P and the biases) is
// uniform(-1/sqrt(fanIn), 1/sqrt(fanIn)), fanIn being the number of inputs of the matmul
// the weight takes part in (the rows of W: p_in + p for W and W1, r for W2, n for P).
import { rand } from '../ops/create.js';
import { checkShape, type Shape, type Tensor } from '../tensor.js';

/** Uniform values in [-scale, scale), from the seeded generator (a fresh draw when no seed). */
export function uniform(shape: Shape, scale: number, seed?: number): Tensor {
  checkShape(shape, 'nn.init.uniform: shape');
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale < 0) {
    throw new Error(`flstm: nn.init.uniform: scale must be a finite number >= 0, got ${scale}`);
  }
  return rand(shape, { scale, seed });
}

/** 1/sqrt(fanIn): the half-width of the default uniform initialisation. */
export function defaultScale(fanIn: number): number {
  if (!Number.isSafeInteger(fanIn) || fanIn < 1) throw new Error(`flstm: nn.init: fanIn must be a positive integer, got ${fanIn}`);
  return 1 / Math.sqrt(fanIn);
}

/** The LSTM layers' default: uniform(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
export function uniformFanIn(shape: Shape, fanIn: number, seed?: number): Tensor {
  return uniform(shape, defaultScale(fanIn), seed);
}
