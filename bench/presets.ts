// bench/presets.ts: training steps of the named configurations (--preset) on a corpus, as
// `flstm train --preset NAME` runs them (the trainer's TrainingLoop: batches, seeded steps,
// the carried state, the moving average), without validation or checkpoints (the paper's
// models hold gigabytes). Per preset: the memory plan, the time of each step after the first
// two (kernel compilation), words/s beside f-lm's on 4 V100s, and the process's peak memory
// (on a software driver the GPU's memory is the process's).
//
//   node dist/bench/presets.js --data lm1b:DIR --presets biglstm,f512,g4 --steps 8
//   node dist/bench/presets.js --data lm1b:DIR --presets mini --steps 50 --json out.json
//
// The presets run one after another in one process: their words/s are comparable only on
// a quiet machine; a steady GPU gives them to a few percent.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as fl from '../src/index.js';
import { loadCorpus } from '../src/data/corpus.js';
import { LanguageModel } from '../src/nn/lm.js';
import { PRESETS } from '../src/options/presets.js';
import { trainConfigFrom } from '../src/options/train.js';
import { corpusOptions, type TrainConfig } from '../src/train/config.js';
import { checkedMemoryPlan } from '../src/train/plan_fit.js';
import { formatBytes, type MemoryPlan } from '../src/train/memory_plan.js';
import { makeMovingAverage, makeOptimizer, modelOptions } from '../src/train/step.js';
import { everySteps, TrainingLoop } from '../src/train/loop.js';
import type { Corpus } from '../src/data/types.js';
import { describe, median, table } from './util.js';

const USAGE = `usage: node dist/bench/presets.js --data SPEC [--presets A,B] [--steps N] [--precision auto|f32|f16] [--json FILE]
  --data SPEC      the corpus, as flstm train --data (lm1b:DIR for the paper's vocabulary)
  --presets A,B    the presets to time (default biglstm,f512,g4; all: ${PRESETS.map((p) => p.name).join(', ')})
  --steps N        steps per preset, the first two not timed (default 8)
  --precision P    as flstm train --precision (default auto: f16 where the adapter has shader-f16)
  --json FILE      also write the results as JSON`;

/** f-lm's words/s on 4 V100s (its README), for the presets it reports. */
const F_LM_WORDS_PER_SEC: Record<string, number> = { biglstm: 33_800, f512: 56_500, g4: 56_000 };
const UNTIMED_STEPS = 2;

function fail(msg: string): never {
  console.error(`bench/presets: ${msg}\n${USAGE}`);
  process.exit(2);
}

interface PresetResult {
  preset: string;
  rnnParams: number;
  params: number;
  vocab: number;
  batch: number;
  bptt: number;
  memoryPlan: number;
  /** Milliseconds of each timed step (wall time, the loss read back after each). */
  stepMs: number[];
  medianMs: number;
  wordsPerSec: number;
  peakRssBytes: number;
}

/** `steps` steps of `cfg` on `corpus`, each read back, as the trainer takes them. */
async function timeSteps(
  cfg: TrainConfig,
  corpus: Corpus,
  steps: number,
): Promise<{ stepMs: number[]; model: { params: number; rnnParams: number } }> {
  const model = new LanguageModel(modelOptions(cfg, corpus.vocab.size));
  const opt = makeOptimizer(cfg, model);
  const average = makeMovingAverage(cfg, model);
  const loop = new TrainingLoop(model, opt, cfg, corpus.splits.train, { step: 0, epoch: 0, batchIndex: 0 }, undefined, average);
  const stepMs: number[] = [];
  try {
    await loop.run({
      stopReason: () => (loop.pos.step >= steps ? 'steps' : null),
      lastStep: steps,
      cadence: everySteps(1),
      onLoss: async (r) => {
        if (!Number.isFinite(r.mean)) return `the loss became ${r.mean}`;
        if (loop.pos.step > UNTIMED_STEPS) stepMs.push(r.ms);
        return null;
      },
    });
    return { stepMs, model: { params: model.numParams(), rnnParams: model.rnn.numParams() } };
  } finally {
    loop.dispose();
    average?.dispose();
    opt.dispose();
    model.dispose();
  }
}

function configOf(preset: string, data: string, precision: string): TrainConfig {
  const cfg = trainConfigFrom({ preset, data });
  const f16 = precision === 'f16' || (precision === 'auto' && fl.info().features.includes('shader-f16'));
  if (f16) cfg.model.precision = 'f16';
  return cfg;
}

async function runPreset(preset: string, data: string, corpus: Corpus, steps: number, precision: string): Promise<PresetResult> {
  const cfg = configOf(preset, data, precision);
  const plan: MemoryPlan = checkedMemoryPlan(cfg, corpus.vocab.size);
  console.log(
    `${preset}: memory plan ${formatBytes(plan.total)} (${plan.tables.map((t) => `${t.name} ${t.shards} shard${t.shards > 1 ? 's' : ''}`).join(', ')})`,
  );
  const { stepMs, model } = await timeSteps(cfg, corpus, steps);
  const medianMs = median(stepMs);
  const words = cfg.batch * cfg.bptt;
  return {
    preset,
    rnnParams: model.rnnParams,
    params: model.params,
    vocab: corpus.vocab.size,
    batch: cfg.batch,
    bptt: cfg.bptt,
    memoryPlan: plan.total,
    stepMs,
    medianMs,
    wordsPerSec: (words / medianMs) * 1e3,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

function report(results: PresetResult[]): void {
  const rows = results.map((r) => [
    r.preset,
    `${(r.rnnParams / 1e6).toFixed(1)}M`,
    `${r.batch}x${r.bptt}`,
    r.medianMs.toFixed(0),
    r.wordsPerSec.toFixed(0),
    F_LM_WORDS_PER_SEC[r.preset] ? String(F_LM_WORDS_PER_SEC[r.preset]) : '-',
    formatBytes(r.memoryPlan),
    formatBytes(r.peakRssBytes),
  ]);
  console.log(table(['preset', 'RNN params', 'batch', 'ms/step', 'words/s', 'f-lm 4xV100 words/s', 'memory plan', 'peak RSS'], rows));
  console.log(
    "(ms/step: the median of the timed steps, each read back; peak RSS: the process's, after the preset, which on a software driver includes the GPU's buffers)",
  );
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        data: { type: 'string' },
        presets: { type: 'string' },
        steps: { type: 'string' },
        precision: { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) return void console.log(USAGE);
  const data = values.data as string | undefined;
  if (!data) fail('--data SPEC is required');
  const names = ((values.presets as string | undefined) ?? 'biglstm,f512,g4').split(',').map((s) => s.trim());
  for (const n of names)
    if (!PRESETS.some((p) => p.name === n))
      fail(`--presets: ${JSON.stringify(n)} is not a preset (${PRESETS.map((p) => p.name).join(', ')})`);
  const steps = Number(values.steps ?? 8);
  if (!Number.isInteger(steps) || steps <= UNTIMED_STEPS)
    fail(
      `--steps must be an integer above ${UNTIMED_STEPS} (the first ${UNTIMED_STEPS} are not timed), got ${JSON.stringify(values.steps)}`,
    );
  const precision = (values.precision as string | undefined) ?? 'auto';
  if (!['auto', 'f32', 'f16'].includes(precision)) fail(`--precision must be auto, f32 or f16, got ${JSON.stringify(precision)}`);

  await fl.init();
  console.log(`adapter: ${describe(fl.info())}`);
  const t = performance.now();
  const corpus = await loadCorpus(data, corpusOptions(trainConfigFrom({ preset: names[0], data })));
  console.log(`corpus ${corpus.spec}: vocabulary ${corpus.vocab.size} (loaded in ${((performance.now() - t) / 1e3).toFixed(1)} s)`);
  const results: PresetResult[] = [];
  for (const name of names) results.push(await runPreset(name, data, corpus, steps, precision));
  report(results);
  if (values.json) {
    writeFileSync(
      values.json as string,
      JSON.stringify({ adapter: fl.info().description, date: new Date().toISOString(), data, steps, precision, results }, null, 2) + '\n',
    );
    console.log(`wrote ${values.json}`);
  }
}

main().then(
  () => fl.dispose(),
  (e) => {
    console.error((e as Error).stack ?? (e as Error).message);
    fl.dispose();
    process.exit(1);
  },
);
