// Gradients all-reduced in half precision (--allreduce f16): half the bytes on the links. MPI
// has no half-precision sum, so the ranks' halves are added by this user operation (MPI calls
// it with two vectors of halves); each pair is added in f32 and rounded to the nearest half,
// as a GPU would.
import { fromHalfBits, toHalfBits } from '../half.js';

let values: Float32Array | undefined;

/** The value of every half bit pattern: decoding is one lookup. */
function halfValues(): Float32Array {
  if (!values) {
    values = new Float32Array(1 << 16);
    for (let h = 0; h < values.length; h++) values[h] = fromHalfBits(h);
  }
  return values;
}

/** into[i] = into[i] + from[i], in halves. */
export function addHalves(into: Uint16Array, from: Uint16Array): void {
  const v = halfValues();
  for (let i = 0; i < into.length; i++) into[i] = toHalfBits(v[into[i]] + v[from[i]]);
}

/** The halves of `x` (round to nearest even). */
export function halvesOf(x: Float32Array): Uint16Array {
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = toHalfBits(x[i]);
  return out;
}

/** The values of halves, times `scale`, into `out`. */
export function floatsOf(h: Uint16Array, scale = 1, out = new Float32Array(h.length)): Float32Array {
  const v = halfValues();
  for (let i = 0; i < h.length; i++) out[i] = v[h[i]] * scale;
  return out;
}
