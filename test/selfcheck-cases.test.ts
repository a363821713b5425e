// The kernel case table of src/selfcheck/ (the browser self-check page's) run in Node, one
// test per case, so that every row of the table is proved here as well as in Chromium.
import { describe, expect, it } from 'vitest';
import { selfCheckCases } from '../src/selfcheck/cases.js';
import { runCase } from '../src/selfcheck/run.js';
import { freshSeed, useDevice } from './helpers.js';

useDevice();

const cases = selfCheckCases();

describe('the kernel case table', () => {
  it('names every case once, in the groups the self-check page reports', () => {
    const names = cases.map((c) => `${c.group}/${c.name}`);
    expect(new Set(names).size).toBe(names.length);
    expect([...new Set(cases.map((c) => c.group))]).toEqual([
      'matmul',
      'groupedMatmul',
      'elementwise',
      'reduce',
      'embedding',
      'softmaxCrossEntropy',
      'dropout',
      'lstm',
    ]);
  });

  for (const c of cases) {
    it(`${c.group} / ${c.name}`, async () => {
      const r = await runCase(c, freshSeed());
      // A skip only for a feature the adapter lacks: subgroups of >= 8 lanes, or shader-f16.
      if (r.status === 'skip') expect(r.message).toMatch(/no subgroups|no shader-f16/);
      else expect(r.message ?? '').toBe('');
      expect(r.status).not.toBe('fail');
    });
  }
});
