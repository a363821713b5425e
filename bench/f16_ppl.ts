// bench/f16_ppl.ts: does training with f16 storage reach the perplexity of f32?
// Trains the same model from the same seed twice, f32 then f16 (`--precision f16`: the
// matmuls read f16 copies of the LSTM and softmax weight matrices and of their inputs;
// weights, recurrent state, gradients and the optimizer stay f32), and evaluates both on the
// validation split. `flstm train` takes f16 by default where the adapter has shader-f16
// because this ratio came out 1.00 on Brown (1.0001 after 600 steps, 1.0003 after 3000).
//
//   npm run bench:f16                             # Brown, 300 steps each
//   node dist/bench/f16_ppl.js --steps 1000 --json out.json
//
// The model is `flstm train`'s default (G-LSTM k=2, 2 layers, n 512, p 128, sampled softmax
// 512, Adagrad 0.2, dropout 0.1, batch 32 x 20 steps). The two runs go one after the other,
// so their words/s are only indicative; `flstm bench` times the f16 step by turns with f32.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as fl from '../src/index.js';
import type { TrainSummary } from '../src/train/trainer.js';
import type { TrainConfig } from '../src/train/config.js';
import { describe } from './util.js';

const USAGE = `usage: node dist/bench/f16_ppl.js [--steps N] [--data SPEC] [--eval-tokens N] [--json FILE]
  --steps N        training steps per run (default 300)
  --data SPEC      corpus, as flstm train --data (default brown)
  --eval-tokens N  validation tokens evaluated after training (default 50000)
  --json FILE      also write the results as JSON`;

function fail(msg: string): never {
  console.error(msg);
  process.exit(2);
}

function positiveInt(raw: string | undefined, name: string, def: number): number {
  if (raw === undefined) return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v <= 0) fail(`bench/f16_ppl: --${name} must be a positive integer, got "${raw}"\n${USAGE}`);
  return v;
}

/** The command line's options (a usage error ends the process). */
function options(): Record<string, string | boolean | undefined> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        steps: { type: 'string' },
        data: { type: 'string' },
        'eval-tokens': { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    fail(`bench/f16_ppl: ${(e as Error).message}\n${USAGE}`);
  }
  return values;
}

async function main(): Promise<void> {
  const values = options();
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const steps = positiveInt(values.steps as string | undefined, 'steps', 300);
  const evalTokens = positiveInt(values['eval-tokens'] as string | undefined, 'eval-tokens', 50000);
  const data = (values.data as string | undefined) ?? 'brown';
  await fl.init();
  const info = fl.info();
  console.log(`adapter: ${describe(info)}`);
  if (!info.features.includes('shader-f16')) fail('bench/f16_ppl: this adapter has no shader-f16, so f16 storage cannot run here');

  const base: TrainConfig = {
    data,
    batch: 32,
    bptt: 20,
    optimizer: 'adagrad',
    lr: 0.2,
    clip: 1,
    sampled: 512,
    seed: 1,
    model: { cell: 'glstm', layers: 2, emb: 128, hidden: 512, proj: 128, groups: 2, dropout: 0.1 },
  };
  const dir = mkdtempSync(join(tmpdir(), 'flstm-f16-'));
  const runs: { precision: 'f32' | 'f16'; summary: TrainSummary }[] = [];
  try {
    for (const precision of ['f32', 'f16'] as const) {
      const cfg: TrainConfig = { ...base, model: { ...base.model, ...(precision === 'f16' ? { precision } : {}) } };
      const summary = await fl.train.train(cfg, {
        out: join(dir, precision),
        steps,
        evalTokens,
        logEvery: Math.max(1, Math.floor(steps / 4)),
        saveEvery: steps,
        onLog: (e) => {
          if (e.type === 'progress') console.log(`  ${precision} ${e.line}`);
        },
      });
      console.log(
        `${precision}: step ${summary.step}, train loss ${summary.trainLoss.toFixed(4)}, valid perplexity ${summary.valid?.ppl.toFixed(2)} (${summary.valid?.tokens} tokens), ${summary.wordsPerSec.toFixed(0)} words/s`,
      );
      runs.push({ precision, summary });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const [a, b] = runs.map((r) => r.summary.valid!.ppl);
  console.log(`\nvalid perplexity f16 / f32: ${(b / a).toFixed(4)} (${b.toFixed(2)} vs ${a.toFixed(2)}) after ${steps} steps on ${data}`);
  if (values.json) {
    const out = {
      adapter: info.description,
      date: new Date().toISOString(),
      data,
      steps,
      evalTokens,
      config: base,
      runs: runs.map((r) => ({
        precision: r.precision,
        trainLoss: r.summary.trainLoss,
        validPpl: r.summary.valid!.ppl,
        validTokens: r.summary.valid!.tokens,
        wordsPerSec: r.summary.wordsPerSec,
      })),
      pplRatio: b / a,
    };
    writeFileSync(values.json as string, JSON.stringify(out, null, 2) + '\n');
    console.log(`wrote ${values.json}`);
  }
}

main().then(
  () => fl.dispose(),
  (e) => {
    console.error((e as Error).message);
    fl.dispose();
    process.exit(1);
  },
);
