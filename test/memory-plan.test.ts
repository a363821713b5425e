// The memory plan: exact for the weights, the optimizer state and the tables' shard layout (as
// the model then builds them), an estimate for the activations that stays near what a real
// step holds, and `flstm train --dry-run` prints it without training or writing anything.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { formatBytes, memoryPlan } from '../src/train/memory_plan.js';
import { LanguageModel } from '../src/nn/lm.js';
import type { TrainConfig } from '../src/train/config.js';
import { makeOptimizer, modelOptions, stepOptions, trainStep } from '../src/train/step.js';
import type { LSTMState } from '../src/nn/lstm.js';
import { runCli, useBuiltCli } from './cli-helpers.js';
import { useDevice } from './helpers.js';

const CAP = 256 * 1024;
useDevice({ maxBindingBytes: CAP });
useBuiltCli();

const tmp = mkdtempSync(join(tmpdir(), 'flstm-plan-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const base: TrainConfig = {
  data: 'x',
  model: { cell: 'lstm', layers: 2, emb: 64, hidden: 128, proj: 64, dropout: 0.1 },
  batch: 8,
  bptt: 10,
  optimizer: 'adagrad',
  lr: 0.2,
  clip: 1,
  sampled: 64,
  seed: 1,
};
const configs: TrainConfig[] = [
  base,
  { ...base, model: { ...base.model, cell: 'glstm', groups: 2, proj: 0 }, optimizer: 'adam' },
  { ...base, model: { ...base.model, cell: 'flstm', factor: 16, layers: 1 }, optimizer: 'sgd' },
];
const V = 3001;

/** Three training steps of `cfg`; the bytes the buffer pool holds for them (in use and cached). */
async function poolBytesOfSteps(cfg: TrainConfig): Promise<{ model: LanguageModel; held: number }> {
  const before = fl.stats();
  const model = new LanguageModel(modelOptions(cfg, V));
  const opt = makeOptimizer(cfg, model);
  let state: LSTMState[] | undefined;
  for (let s = 0; s < 3; s++) {
    const ids = (k: number) => Int32Array.from({ length: cfg.batch * cfg.bptt }, (_, i) => (i * k + s) % V);
    fl.tidy(() => {
      const r = trainStep(
        model,
        opt,
        { inputs: ids(7919), targets: ids(104729), steps: cfg.bptt, batchSize: cfg.batch },
        state,
        stepOptions(cfg, s),
      );
      state?.forEach((x) => {
        x.h.dispose();
        x.c.dispose();
      });
      state = r.state.map((x) => ({ h: x.h.keep(), c: x.c.keep() }));
    });
  }
  await fl.sync();
  const after = fl.stats();
  state?.forEach((x) => {
    x.h.dispose();
    x.c.dispose();
  });
  opt.dispose();
  return { model, held: after.poolInUseBytes + after.poolFreeBytes - before.poolInUseBytes - before.poolFreeBytes };
}

describe('formatBytes', () => {
  it('prints binary units, whole when exact', () => {
    expect(
      [1, 512, 1024, 1536, 262_144, 127_936, 134_217_728, 268_435_456 + 1_048_576 / 2, 4_294_967_295, 160_012_800_000].map(formatBytes),
    ).toEqual(['1 byte', '512 bytes', '1 KiB', '1.5 KiB', '256 KiB', '124.9 KiB', '128 MiB', '256.5 MiB', '4.00 GiB', '149.02 GiB']);
  });
});

describe('the memory plan', () => {
  for (const cfg of configs) {
    it(`${cfg.model.cell} with ${cfg.optimizer}: the weights, state and shards exactly (and, on a fresh pool, the total near a real step's)`, async () => {
      const plan = memoryPlan(cfg, V, fl.info().maxBindingBytes);
      const { model, held } = await poolBytesOfSteps(cfg);
      try {
        expect(plan.weights).toBe(4 * model.numParams());
        expect(plan.optimizer).toBe({ adagrad: 1, adam: 2, sgd: 0 }[cfg.optimizer] * plan.weights);
        expect(plan.tables.map((t) => [t.name, t.shards, t.rowsPerShard])).toEqual(
          model.tables.map((t) => [t.name, t.shards.length, t.shards[0].rows]),
        );
        expect(
          plan.tables.some((t) => t.shards > 1),
          'the cap shards the softmax',
        ).toBe(true);
        // --ema: the LSTM's averages and the weights set aside while validating.
        const withAverage = memoryPlan({ ...cfg, ema: 0.999 }, V, fl.info().maxBindingBytes);
        expect(plan.averages).toBe(0);
        expect(withAverage.averages).toBe(2 * 4 * model.rnn.numParams());
        expect(withAverage.total - plan.total).toBe(withAverage.averages);
        // The pool's bytes measure a step only while it is fresh (later cases reuse its cached buffers).
        if (cfg === configs[0]) {
          const ratio = plan.total / held;
          expect(ratio, `plan ${plan.total} bytes, the pool held ${held}`).toBeGreaterThan(0.8);
          expect(ratio, `plan ${plan.total} bytes, the pool held ${held}`).toBeLessThan(1.6);
        }
      } finally {
        model.dispose();
      }
    });
  }

  it('train --dry-run prints the plan with the shards and trains nothing', () => {
    const text = Array.from({ length: 400 }, (_, i) => Array.from({ length: 12 }, (_, j) => `w${(i * 31 + j * 17) % 2500}`).join(' ')).join(
      '\n',
    );
    writeFileSync(join(tmp, 'train.txt'), text);
    const out = join(tmp, 'run');
    process.env.FLSTM_MAX_BINDING_BYTES = '256KiB';
    let r;
    try {
      r = runCli(
        [
          'train',
          '--data',
          `text:${join(tmp, 'train.txt')}`,
          '--emb',
          '64',
          '--hidden',
          '128',
          '--proj',
          '64',
          '--layers',
          '1',
          '--batch',
          '4',
          '--bptt',
          '5',
          '--sampled',
          '64',
          '--dry-run',
          '--out',
          out,
        ],
        120_000,
      );
    } finally {
      delete process.env.FLSTM_MAX_BINDING_BYTES;
    }
    expect(r.status, r.stderr).toBe(0);
    // The cap given as 256KiB reads 256 KiB: every size in binary units, none in kB or MB.
    expect(r.stdout).toMatch(/^memory plan \(bindings of up to 256 KiB\)$/m);
    expect(r.stdout).not.toMatch(/\d (kB|MB|GB)\b/);
    // 262144 bytes hold 1024 rows of 64 floats.
    expect(r.stdout).toMatch(/^ {2}embedding \[(\d+), 64\] +\d+(\.\d)? KiB in 2 shards of 1024 rows$/m);
    expect(r.stdout).toMatch(/^ {2}softmax_b \[\d+\] +\d+(\.\d)? KiB in 2 shards of 1024 rows$/m);
    expect(r.stdout).toMatch(/^ {2}total +\d/m);
    expect(r.stdout).toMatch(/nothing was trained/);
    expect(existsSync(out)).toBe(false);
  }, 120_000);

  it('refuses, before anything is allocated, a tensor that is not sharded and does not fit a binding, naming it', () => {
    const text = 'a b c d e f g h\n'.repeat(50);
    writeFileSync(join(tmp, 'small.txt'), text);
    const r = runCli(
      [
        'train',
        '--data',
        `text:${join(tmp, 'small.txt')}`,
        '--cell',
        'lstm',
        '--hidden',
        '100000',
        '--proj',
        '0',
        '--layers',
        '1',
        '--emb',
        '8',
        '--sampled',
        '0',
        '--dry-run',
      ],
      120_000,
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /rnn\.layers\.0\.W \[100008, 400000\] needs 149\.02 GiB.*over this adapter's 128 MiB binding \(only the embedding and softmax tables are stored in shards\)/,
    );
    expect(r.stderr).not.toMatch(/Invalid typed array length|at \w+ \(/);
    // The dry run plans first: the whole plan, then what a GPU needs for it.
    expect(r.stdout).toMatch(/^memory plan \(bindings of up to 128 MiB\)$/m);
    expect(r.stdout).toMatch(/^needs: bindings of 149\.02 GiB, [\d.]+ GiB of memory$/m);
    expect(r.stderr).toMatch(/a GPU with bindings of at least 149\.02 GiB and [\d.]+ GiB of memory would run it/);
  }, 120_000);

  it('train --dry-run --json gives the plan as JSON, with what does not fit and what would, and checks what the run checks', () => {
    writeFileSync(join(tmp, 'small.txt'), 'a b c d e f g h\n'.repeat(50));
    const data = `text:${join(tmp, 'small.txt')}`;
    const r = runCli(
      [
        'train',
        '--data',
        data,
        '--cell',
        'lstm',
        '--hidden',
        '100000',
        '--proj',
        '0',
        '--layers',
        '1',
        '--emb',
        '8',
        '--sampled',
        '0',
        '--batch',
        '2',
        '--bptt',
        '3',
        '--dry-run',
        '--json',
      ],
      120_000,
    );
    expect(r.status).toBe(1);
    const plan = JSON.parse(r.stdout.trim());
    const W = 4 * 100_008 * 400_000;
    expect(plan).toMatchObject({ type: 'memory-plan', fits: false, needs: { bindingBytes: W, memoryBytes: plan.total } });
    // Over a binding, and (at about 300 GiB) over any machine's memory this suite runs on.
    expect(plan.problems).toHaveLength(2);
    expect(plan.problems[0]).toMatch(/^rnn\.layers\.0\.W \[100008, 400000\] needs 149\.02 GiB/);
    expect(plan.problems[1]).toMatch(/^the model needs about [\d.]+ GiB, more than this machine's [\d.]+ GiB of memory$/);
    const fits = runCli(
      [
        'train',
        '--data',
        data,
        '--cell',
        'lstm',
        '--hidden',
        '16',
        '--layers',
        '1',
        '--emb',
        '8',
        '--sampled',
        '0',
        '--batch',
        '2',
        '--bptt',
        '3',
        '--dry-run',
        '--json',
      ],
      120_000,
    );
    expect(fits.status, fits.stderr).toBe(0);
    expect(JSON.parse(fits.stdout.trim())).toMatchObject({ fits: true, problems: [] });
    // A --sampled the vocabulary cannot give is refused by the dry run as by the run.
    const sampled = runCli(['train', '--data', data, '--sampled', '99999', '--batch', '2', '--bptt', '3', '--dry-run'], 120_000);
    expect(sampled.status).toBe(1);
    expect(sampled.stderr).toMatch(/--sampled 99999 needs a vocabulary of more than 99999 words/);
  }, 120_000);
});
