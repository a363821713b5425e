// Runs the case table, one result per case, on the open device.
import { popScope, pushScope } from '../tensor.js';
import { Mismatch, mixSeed, type CheckCase, type CheckResult } from './check.js';
import { selfCheckCases } from './cases.js';

/** Runs one case in a scope that frees its tensors afterwards (nothing else runs meanwhile). */
export async function runCase(c: CheckCase, seed: number): Promise<CheckResult> {
  const t0 = performance.now();
  const r: CheckResult = { group: c.group, name: c.name, status: 'pass', ms: 0 };
  const skip = c.skip?.() ?? null;
  if (skip) {
    r.status = 'skip';
    r.message = skip;
  } else {
    pushScope();
    try {
      await c.run(seed);
    } catch (e) {
      r.status = 'fail';
      r.message = `${e instanceof Mismatch ? '' : `${(e as Error).name}: `}${(e as Error).message} (seed ${seed})`;
    } finally {
      popScope(new Set());
    }
  }
  r.ms = Math.round(performance.now() - t0);
  return r;
}

/** Runs the cases (those whose `group/name` matches `filter`), one result each; `seed`: the run's base seed (default: from the clock). */
export async function runSelfCheck(
  o: { filter?: RegExp; seed?: number; onResult?: (r: CheckResult, i: number, total: number) => void } = {},
): Promise<CheckResult[]> {
  const cases = selfCheckCases().filter((c) => !o.filter || o.filter.test(`${c.group}/${c.name}`));
  const results: CheckResult[] = [];
  const base = o.seed ?? ((Date.now() % 100000) * 97) >>> 0;
  for (const [i, c] of cases.entries()) {
    // Each case's seed depends on the base and its name only: a filter does not change it.
    const r = await runCase(c, mixSeed(base, `${c.group}/${c.name}`));
    if (r.status === 'fail') r.message += `; the run's seed ${base} replays it (selfcheck.html?seed=${base})`;
    results.push(r);
    o.onResult?.(r, i, cases.length);
  }
  return results;
}
