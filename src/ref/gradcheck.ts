// Central finite differences, to check the float64 references' own gradients.
import type { NDArray } from './array.js';

/** d f / d x[i] for every i, by (f(x + h e_i) - f(x - h e_i)) / 2h. f returns a scalar. */
export function numericGrad(f: () => number, x: NDArray, h = 1e-6): Float64Array {
  const g = new Float64Array(x.data.length);
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i];
    x.data[i] = v + h;
    const fp = f();
    x.data[i] = v - h;
    const fm = f();
    x.data[i] = v;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

/** sum(w * y): a scalar whose gradient with respect to y is w, to test any op's backward. */
export function dot(w: NDArray, y: NDArray): number {
  let s = 0;
  for (let i = 0; i < y.data.length; i++) s += w.data[i] * y.data[i];
  return s;
}
