// `flstm params`: RNN parameter counts without a GPU, and src/nn/params.ts against the
// float64 reference's shape-based count.
import { useBuiltCli } from './cli-helpers.js';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lstmStackParamCount, lstmStackParamCounts } from '../src/nn/params.js';
import { lstmStackParamCount as refStackCount, type LstmStackConfig } from '../src/ref/lstm.js';

const root = resolve(__dirname, '..');

useBuiltCli();

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['dist/cli.js', 'params', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  if (r.error) throw r.error;
  return r;
}

const PAPER = ['--layers', '2', '--hidden', '8192', '--proj', '1024', '--emb', '1024'];

function json(...args: string[]): { cell: string; layers: number; total: number; perLayer: number[] } {
  const r = cli(...args, '--json');
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]);
}

/** The one error line: exit code 2, nothing on stdout, no stack trace. */
function usageError(...args: string[]): string {
  const r = cli(...args);
  expect(r.status, r.stdout + r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('flstm'));
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  return lines[0];
}

describe('flstm params', () => {
  it("reproduces the paper's figures (2 layers, n = 8192, p = e = 1024)", () => {
    const cases: [string[], number][] = [
      [['--cell', 'lstm'], 151_060_480],
      [['--cell', 'flstm', '--factor', '512'], 52_494_336],
      [['--cell', 'glstm', '--groups', '2'], 83_951_616],
      [['--cell', 'glstm', '--groups', '4'], 50_397_184],
      [['--cell', 'glstm', '--groups', '8'], 33_619_968],
    ];
    for (const [args, total] of cases) {
      const out = json(...args, ...PAPER);
      expect(out.total, args.join(' ')).toBe(total);
      expect(out.cell).toBe(args[1]);
      expect(out.layers).toBe(2);
      expect(out.perLayer).toEqual([total / 2, total / 2]);
      expect(Object.keys(out)).toEqual(['cell', 'layers', 'total', 'perLayer']);
    }
  });

  it('hierarchical --groups 4,8: each layer its own k, the total the sum of the layers', () => {
    const out = json('--cell', 'glstm', '--groups', '4,8', ...PAPER);
    expect(out.perLayer).toEqual([50_397_184 / 2, 33_619_968 / 2]);
    expect(out.total).toBe(out.perLayer[0] + out.perLayer[1]);
  });

  it('prints a readable form with per-layer counts and millions', () => {
    const r = cli('--cell', 'lstm', ...PAPER);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^cell +lstm$/m);
    expect(r.stdout).toMatch(/^layer 1 +75530240 +\(75\.53M\)$/m);
    expect(r.stdout).toMatch(/^layer 2 +75530240 +\(75\.53M\)$/m);
    expect(r.stdout).toMatch(/^total +151060480 +\(151\.06M\)$/m);
    expect(r.stdout).toMatch(/^projection +1024$/m);
  });

  it('without --proj (or --proj 0) there is no projection: later layers read n', () => {
    // layer 1: (e + n)·4n + 4n; layer 2: (n + n)·4n + 4n
    const e = 30,
      n = 20;
    const want = [(e + n) * 4 * n + 4 * n, 2 * n * 4 * n + 4 * n];
    for (const proj of [[], ['--proj', '0']]) {
      const out = json('--cell', 'lstm', '--layers', '2', '--hidden', String(n), '--emb', String(e), ...proj);
      expect(out.perLayer).toEqual(want);
    }
    const r = cli('--cell', 'lstm', '--layers', '1', '--hidden', '20', '--emb', '30');
    expect(r.stdout).toMatch(/^projection +none$/m);
  });

  it('usage errors: one message naming the value, exit code 2', () => {
    const g = ['--layers', '2', '--hidden', '8192', '--emb', '1024'];
    expect(usageError(...g)).toBe('flstm params: --cell is required (lstm, flstm, glstm)');
    expect(usageError('--cell', 'gru', ...g)).toContain("--cell must be one of lstm, flstm, glstm, got 'gru'");
    expect(usageError('--cell', 'lstm', '--hidden', '8', '--emb', '8')).toContain('--layers is required');
    expect(usageError('--cell', 'lstm', '--layers', '2', '--emb', '8')).toContain('--hidden is required');
    expect(usageError('--cell', 'lstm', '--layers', '2', '--hidden', '8')).toContain('--emb is required');
    expect(usageError('--cell', 'lstm', '--layers', '2', '--hidden', 'abc', '--emb', '8')).toContain(
      "--hidden must be a positive integer, got 'abc'",
    );
    expect(usageError('--cell', 'lstm', '--layers', '0', '--hidden', '8', '--emb', '8')).toContain(
      "--layers must be a positive integer, got '0'",
    );
    expect(usageError('--cell', 'lstm', '--layers', '2.5', '--hidden', '8', '--emb', '8')).toContain("got '2.5'");
    expect(usageError('--cell', 'lstm', '--layers=-1', '--hidden', '8', '--emb', '8')).toContain("got '-1'");
    expect(usageError('--cell', 'lstm', ...g, '--proj', 'x')).toContain("--proj must be a non-negative integer, got 'x'");
    expect(usageError('--cell', 'flstm', ...g)).toContain('--factor is required');
    expect(usageError('--cell', 'lstm', '--factor', '512', ...g)).toContain('--factor applies only to --cell flstm, not lstm');
    expect(usageError('--cell', 'glstm', '--factor', '512', '--groups', '2', ...g)).toContain(
      '--factor applies only to --cell flstm, not glstm',
    );
    expect(usageError('--cell', 'glstm', ...g)).toContain('--cell glstm needs --groups');
    expect(usageError('--cell', 'lstm', '--groups', '2', ...g)).toContain('--groups applies only to --cell glstm, not lstm');
    expect(usageError('--cell', 'flstm', '--factor', '4', '--groups', '2', ...g)).toContain('--groups applies only to --cell glstm');
    expect(usageError('--cell', 'glstm', '--groups', '0', ...g)).toContain(
      "--groups must be a positive integer or a comma-separated list of them (one per layer), got '0'",
    );
    expect(usageError('--cell', 'glstm', '--groups', '4,x', ...g)).toContain("got '4,x'");
    expect(usageError('--cell', 'glstm', '--groups', '4,8,2', ...g)).toContain('--groups 4,8,2 gives 3 group counts for 2 layers');
    expect(usageError('--cell', 'lstm', ...g, '--bogus')).toContain('unknown option --bogus');
    expect(usageError('--cell', 'lstm', '--layers', '2', '--hidden', '-3', '--emb', '8')).toContain(
      "--hidden must be a positive integer, got '-3'",
    );
    expect(usageError('--cell', 'lstm', '--layers', '2', '--hidden', '-x', '--emb', '8')).toContain(
      'option --hidden needs a value (one that starts with a dash is written --hidden=-VALUE)',
    );
    expect(usageError('--cell', 'lstm', '--layers', '2', '--hidden=-3', '--emb', '8')).toContain(
      "--hidden must be a positive integer, got '-3'",
    );
    expect(usageError('--cell', 'lstm', ...g, '--proj')).toContain('option --proj needs a value');
  });

  it('groups that do not divide a layer name the layer and the sizes', () => {
    // k = 3 divides neither 1024 nor 8192: layer 1 is reported
    const m1 = usageError('--cell', 'glstm', '--groups', '3', ...PAPER);
    expect(m1).toContain('layer 1: glstm groups k=3');
    expect(m1).toContain('input size 1024');
    expect(m1).toContain('hidden size 8192');
    // the embedding 1000 divides by 8, the projection 1020 does not (layer 1 sees both)
    const m2 = usageError('--cell', 'glstm', '--groups', '8', '--layers', '2', '--hidden', '8192', '--proj', '1020', '--emb', '1000');
    expect(m2).toContain('layer 1: glstm groups k=8');
    expect(m2).toContain('projection size 1020');
    expect(m2).not.toContain('does not divide the input size');
    // hierarchical: layer 2's k = 3 does not divide its input (the projection 1024)
    const m3 = usageError('--cell', 'glstm', '--groups', '1,3', '--layers', '2', '--hidden', '8193', '--proj', '1024', '--emb', '1024');
    expect(m3).toContain('layer 2: glstm groups k=3');
    expect(m3).toContain('input size 1024');
    // without projection the output is n
    const m4 = usageError('--cell', 'glstm', '--groups', '3', '--layers', '1', '--hidden', '10', '--emb', '9');
    expect(m4).toContain('output size 10');
  });

  it('--help lists the options', () => {
    const r = cli('--help');
    expect(r.status).toBe(0);
    for (const o of ['--cell', '--layers', '--hidden', '--proj', '--emb', '--factor', '--groups', '--json']) expect(r.stdout).toContain(o);
  });
});

describe('src/nn/params.ts', () => {
  it('agrees with the float64 reference (which counts its weight shapes)', () => {
    const configs: LstmStackConfig[] = [];
    for (const layers of [1, 2, 3])
      for (const [inputSize, hiddenSize, projSize] of [
        [12, 24, 6],
        [6, 12, 12],
        [24, 48, 12],
      ])
        for (const hasProj of [true, false]) {
          const base = { layers, inputSize, hiddenSize, projSize: hasProj ? projSize : 0 };
          configs.push({ ...base, cell: 'lstm' });
          configs.push({ ...base, cell: 'flstm', factor: 5 });
          for (const k of [1, 2, 3, 6]) configs.push({ ...base, cell: 'glstm', groups: k });
          configs.push({ ...base, cell: 'glstm', groups: Array.from({ length: layers }, (_, l) => [2, 3, 6][l]) });
        }
    for (const c of configs) {
      expect(lstmStackParamCount(c), JSON.stringify(c)).toBe(refStackCount(c));
      expect(lstmStackParamCounts(c).length).toBe(c.layers);
    }
  });

  it("the paper's table", () => {
    const base = { layers: 2, inputSize: 1024, hiddenSize: 8192, projSize: 1024 };
    expect(lstmStackParamCount({ ...base, cell: 'lstm' })).toBe(151_060_480);
    expect(lstmStackParamCount({ ...base, cell: 'flstm', factor: 512 })).toBe(52_494_336);
    expect(lstmStackParamCount({ ...base, cell: 'glstm', groups: [4, 8] })).toBe((50_397_184 + 33_619_968) / 2);
    expect(() => lstmStackParamCount({ ...base, cell: 'glstm', groups: [2] })).toThrow(/1 group counts \(2\) given for 2 layers/);
    expect(() => lstmStackParamCount({ ...base, cell: 'lstm', factor: 2 })).toThrow(
      /layer 1: a factor \(r = 2\) applies only to the flstm cell, not lstm/,
    );
  });
});
