// The kernel self-check as the browser page runs it: the case table of src/selfcheck/
// (the kernel test cases of test/*.test.ts in a form that runs anywhere, no vitest) and its
// runner. test/browser-node.test.ts runs the same in Node. Needs the device open first.
export { runSelfCheck, runCase } from '../selfcheck/run.js';
export { selfCheckCases } from '../selfcheck/cases.js';
export type { CheckCase, CheckResult, CheckStatus } from '../selfcheck/check.js';
