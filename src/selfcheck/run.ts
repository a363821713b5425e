// Runs the case table, one result per case, on the open device.
import { popScope, pushScope } from '../tensor.js';
import { Mismatch, type CheckCase, type CheckResult } from './check.js';
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

/** Runs the cases (those whose `group/name` matches `filter`), one result each. */
export async function runSelfCheck(o: { filter?: RegExp; seed?: number; onResult?: (r: CheckResult, i: number, total: number) => void } = {}): Promise<CheckResult[]> {
  const cases = selfCheckCases().filter((c) => !o.filter || o.filter.test(`${c.group}/${c.name}`));
  const results: CheckResult[] = [];
  let seed = o.seed ?? ((Date.now() % 100000) * 97) >>> 0;
  for (const [i, c] of cases.entries()) {
    const r = await runCase(c, seed);
    seed += 1000;
    results.push(r);
    o.onResult?.(r, i, cases.length);
  }
  return results;
}
