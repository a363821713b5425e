// Shape-only ops: reshape is a view (shared, reference-counted storage), its backward a view too.
import { record } from '../autograd.js';
import { Tensor, registerReshape } from '../tensor.js';

registerReshape((t: Tensor, shape: number[]): Tensor => {
  const v = new Tensor(shape, t.dtype, t.sharedStorage, { origin: 'reshape' });
  return record(v, 'reshape', [t], (g) => [g.reshape(t.shape)]);
});

export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  return t.reshape(shape);
}
