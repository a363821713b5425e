// Shared test helpers: one device per test file, random host data, and closeness checks
// that print the first mismatches.
import { afterAll, beforeAll, expect } from 'vitest';
import * as fl from '../src/index.js';
import { Rng } from '../src/random.js';
import { nd, type NDArray } from '../src/ref/array.js';

export function useDevice(opts: fl.InitOptions = {}): void {
  beforeAll(async () => {
    await fl.init(opts);
  });
  afterAll(() => fl.dispose());
}

/** A fresh seed per call (printed on failure through the messages that use it). */
let seedCounter = (Date.now() ^ (process.pid << 8)) >>> 0;
export function freshSeed(): number {
  seedCounter = (seedCounter * 1664525 + 1013904223) >>> 0;
  return seedCounter;
}

export function randomNd(shape: number[], seed: number, scale = 1): NDArray {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = scale * (2 * rng.uniform() - 1);
  return nd(d, shape);
}

/** The float32 tensor for a float64 array (values rounded to f32, as the GPU sees them). */
export function toTensor(a: NDArray, requiresGrad = false): fl.Tensor {
  return fl.tensor(Float32Array.from(a.data), a.shape, { requiresGrad });
}

/** The f32-rounded copy of a reference input, so references see exactly the GPU's inputs. */
export function f32(a: NDArray): NDArray {
  return nd(Float32Array.from(a.data), a.shape);
}

/**
 * Asserts |got - want| <= atol + rtol*|want| elementwise, and equal shapes. On failure the
 * message lists the first mismatches with their indices.
 */
export function expectClose(
  got: ArrayLike<number>,
  want: NDArray | ArrayLike<number>,
  opts: { atol?: number; rtol?: number; what?: string; shape?: readonly number[] } = {},
): void {
  const w = 'data' in (want as NDArray) ? (want as NDArray).data : (want as ArrayLike<number>);
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-4;
  const what = opts.what ?? 'values';
  if (opts.shape && 'shape' in (want as NDArray)) {
    expect([...opts.shape], `${what}: shape`).toEqual((want as NDArray).shape);
  }
  expect(got.length, `${what}: length`).toBe(w.length);
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < w.length; i++) {
    const g = got[i];
    const r = w[i];
    if (!(Math.abs(g - r) <= atol + rtol * Math.abs(r))) {
      count++;
      if (bad.length < 8) bad.push(`  [${i}] got ${g} want ${r} (diff ${Math.abs(g - r).toExponential(2)})`);
    }
  }
  if (count) {
    throw new Error(`${what}: ${count} of ${w.length} elements differ beyond atol ${atol} + rtol ${rtol}:\n${bad.join('\n')}`);
  }
}

export const CORPUS_WORDS = 'the cat sat on a mat and dog ran to big red house with blue door in old town'.split(' ');

/** Seeded sentences over a 20-word vocabulary, frequent words first (a Zipf-like skew), one per line. */
export function corpusText(lines: number, seed: number): string {
  const rng = new Rng(seed);
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const n = 3 + Math.floor(rng.uniform() * 8);
    out.push(Array.from({ length: n }, () => CORPUS_WORDS[Math.floor(rng.uniform() * rng.uniform() * CORPUS_WORDS.length)]).join(' '));
  }
  return out.join('\n') + '\n';
}
