// Float64 reference of inverted dropout (kernels/dropout.wgsl), with the kernel's integer
// hash written with Math.imul so the masks are bit-identical to the GPU's.
import { nd, type NDArray } from './array.js';

/** PCG-RXS-M-XS 32-bit hash (Jarzynski & Olano 2020), as in the kernel. */
export function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** hash(seed, i) = pcg(pcg(i) ^ pcg(seed)), a uint32. */
export function dropoutHash(seed: number, i: number): number {
  return pcgHash((pcgHash(i) ^ pcgHash(seed)) >>> 0);
}

/** Element i is kept when hash(seed, i) >= threshold: hash / 2^32 >= rate. */
export function dropoutThresholdRef(rate: number): number {
  return Math.min(Math.ceil(rate * 4294967296), 4294967295);
}

/** 1 where element i is kept, 0 where dropped. */
export function dropoutMaskRef(n: number, rate: number, seed: number): Uint8Array {
  const t = dropoutThresholdRef(rate);
  const m = new Uint8Array(n);
  for (let i = 0; i < n; i++) m[i] = dropoutHash(seed, i) >= t ? 1 : 0;
  return m;
}

/** y = x * keep / (1 - rate). */
export function dropoutRef(x: NDArray, rate: number, seed: number): NDArray {
  const m = dropoutMaskRef(x.data.length, rate, seed);
  const y = new Float64Array(x.data.length);
  for (let i = 0; i < y.length; i++) y[i] = m[i] ? x.data[i] / (1 - rate) : 0;
  return nd(y, x.shape);
}

/** dx = dy * keep / (1 - rate): the same map on the gradient. */
export function dropoutBackwardRef(dy: NDArray, rate: number, seed: number): NDArray {
  return dropoutRef(dy, rate, seed);
}
