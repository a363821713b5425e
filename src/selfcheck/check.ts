// What every kernel test shares, the browser's self-check and the Node tests alike (test/helpers.ts
// re-exports these rather than keeping copies): the case and result types, seeded f32-rounded
// inputs, and the closeness check whose failure lists the first mismatches. Which suite a
// kernel case belongs to: docs/testing.md.
import { Rng } from '../random.js';
import { tensor } from '../ops/create.js';
import { rt } from '../gpu/runtime.js';
import { subgroupCapable } from '../ops/matmul_kernel.js';
import type { Tensor } from '../tensor.js';
import { nd, type NDArray } from '../ref/array.js';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  group: string;
  name: string;
  status: CheckStatus;
  ms: number;
  /** The first mismatches (fail), or why the case does not apply to this adapter (skip). */
  message?: string;
}

/**
 * One row of the case table: `run` generates the inputs from `seed`, runs the op under test
 * forward and backward, and compares both with the float64 reference within the case's
 * tolerance, throwing a Mismatch when they differ.
 */
export interface CheckCase {
  group: string;
  name: string;
  /** Why this adapter cannot run the case, or null. */
  skip?: () => string | null;
  run(seed: number): Promise<void>;
}

/** A value outside the tolerance (as opposed to an error of the op itself). */
export class Mismatch extends Error {}

/** Seeded uniform values in [-scale, scale), f32-rounded: the reference sees the GPU's inputs. */
export function randomNd(shape: number[], seed: number, scale = 1): NDArray {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = scale * (2 * rng.uniform() - 1);
  return f32(nd(d, shape));
}

/**
 * A seed derived from a run's base seed and a name (FNV-1a of the name, folded into the seed):
 * a case's or a test's data then depends on what it is, not on what ran before it, so that the
 * base seed replays it alone or within its whole run.
 */
export function mixSeed(seed: number, name: string): number {
  let h = (2166136261 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** The f32-rounded copy of a reference input, so references see exactly the GPU's inputs. */
export function f32(a: NDArray): NDArray {
  return nd(Float32Array.from(a.data), a.shape);
}

export function randomIds(n: number, limit: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(rng.uniform() * limit));
}

/** The f32 tensor holding `a`'s values. */
export const T = (a: NDArray, grad = false): Tensor => tensor(Float32Array.from(a.data), a.shape, { requiresGrad: grad });

/**
 * Null when |got - want| <= atol + rtol*|want| elementwise (NaN is never close) and the lengths
 * agree; else what differs, with the first few mismatches and their indices.
 */
export function closeness(
  got: ArrayLike<number>,
  want: NDArray | ArrayLike<number>,
  what: string,
  atol = 1e-5,
  rtol = 1e-4,
): string | null {
  const w = 'data' in (want as NDArray) ? (want as NDArray).data : (want as ArrayLike<number>);
  if (got.length !== w.length) return `${what}: ${got.length} values, expected ${w.length}`;
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < w.length; i++) {
    if (!(Math.abs(got[i] - w[i]) <= atol + rtol * Math.abs(w[i]))) {
      count++;
      if (bad.length < 8) bad.push(`[${i}] got ${got[i]} want ${w[i]} (diff ${Math.abs(got[i] - w[i]).toExponential(2)})`);
    }
  }
  return count ? `${what}: ${count} of ${w.length} differ beyond atol ${atol} + rtol ${rtol}: ${bad.join('; ')}` : null;
}

/** closeness(), thrown as a Mismatch when the values differ. */
export function close(got: ArrayLike<number>, want: NDArray | ArrayLike<number>, what: string, atol = 1e-5, rtol = 1e-4): void {
  const problem = closeness(got, want, what, atol, rtol);
  if (problem) throw new Mismatch(problem);
}

export const noSubgroups = (): string | null =>
  subgroupCapable() ? null : 'the adapter has no subgroups of >= 8 lanes (the subgroup kernel is not used here)';

export const noF16 = (): string | null =>
  rt().info.features.includes('shader-f16') ? null : 'the adapter has no shader-f16 (f16 storage is not available here)';
