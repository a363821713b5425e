// Shape-only ops: reshape is a view (shared, reference-counted storage), its backward a view
// too (Tensor.reshape).
import type { Tensor } from '../tensor.js';

export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  return t.reshape(shape);
}
