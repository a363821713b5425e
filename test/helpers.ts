// Shared test helpers: one device per test file, seeds that replay, and the kernel tests'
// random data and closeness check, which are those of the browser's self-check
// (src/selfcheck/check.ts) so that both suites judge a kernel alike. How the tests are laid
// out, and how to replay a random one: docs/testing.md.
import { relative, resolve } from 'node:path';
import { afterAll, beforeAll, expect, onTestFailed } from 'vitest';
import * as fl from '../src/index.js';
import { Rng } from '../src/random.js';
import type { NDArray } from '../src/ref/array.js';
import { closeness, mixSeed } from '../src/selfcheck/check.js';

export { randomNd, randomIds, f32, T as toTensor } from '../src/selfcheck/check.js';

export function useDevice(opts: fl.InitOptions = {}): void {
  beforeAll(async () => {
    await fl.init(opts);
  });
  afterAll(() => fl.dispose());
}

/** The run's base seed: FLSTM_TEST_SEED when set (a replay), else drawn from the clock. */
export const TEST_SEED = baseSeed(process.env.FLSTM_TEST_SEED);

function baseSeed(env: string | undefined): number {
  if (env === undefined || env === '') return (Date.now() ^ (process.pid << 8)) >>> 0;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 32) throw new Error(`FLSTM_TEST_SEED must be an integer in [0, 2^32), got '${env}'`);
  return n;
}

/** Seeds handed out so far, per test (by its full name). */
const drawn = new Map<string, number>();

/**
 * A seed for random test data: the k-th of a test is a function of the base seed, the test's
 * name and k, so that the same FLSTM_TEST_SEED replays a test whether its file runs whole or the
 * test alone (-t). The first seed of a test arranges for a failure to print the replay command.
 */
export function freshSeed(): number {
  const { currentTestName, testPath } = expect.getState();
  const name = currentTestName ?? '(outside a test)';
  const k = drawn.get(name) ?? 0;
  drawn.set(name, k + 1);
  if (k === 0 && currentTestName !== undefined) {
    const file = testPath ? relative(resolve(__dirname, '..'), testPath) : 'FILE';
    onTestFailed(() => console.error(`random test data: replay with FLSTM_TEST_SEED=${TEST_SEED} npx vitest run ${file}`));
  }
  return mixSeed(TEST_SEED, `${name}#${k}`);
}

/**
 * Asserts closeness (src/selfcheck/check.ts: |got - want| <= atol + rtol*|want| elementwise),
 * and equal shapes when `shape` is given; a failure lists the first mismatches.
 */
export function expectClose(
  got: ArrayLike<number>,
  want: NDArray | ArrayLike<number>,
  opts: { atol?: number; rtol?: number; what?: string; shape?: readonly number[] } = {},
): void {
  const what = opts.what ?? 'values';
  if (opts.shape && 'shape' in (want as NDArray)) {
    expect([...opts.shape], `${what}: shape`).toEqual((want as NDArray).shape);
  }
  const problem = closeness(got, want, what, opts.atol ?? 1e-5, opts.rtol ?? 1e-4);
  if (problem) throw new Error(problem);
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
