// The kernel test cases: one table, run by the browser's self-check page (selfcheck.html,
// since Chrome's WGSL compiler is not the Dawn of the `webgpu` package) and by vitest in Node
// (test/selfcheck-cases.test.ts). Every kernel forward and backward against the float64
// references of src/ref/, on random data of sizes that are not tile multiples. Which kernel
// cases belong in this table and which in a Node test only: docs/testing.md.
import type { CheckCase } from './check.js';
import { matmulCases } from './matmul_cases.js';
import { elementwiseCases } from './elementwise_cases.js';
import { rowCases } from './rows_cases.js';
import { lstmCases } from './lstm_cases.js';

export type { CheckCase, CheckResult, CheckStatus } from './check.js';

/** Every case, in order (building the table touches no device; running a case or its skip check needs one open). */
export function selfCheckCases(): CheckCase[] {
  return [...matmulCases(), ...elementwiseCases(), ...rowCases(), ...lstmCases()];
}
