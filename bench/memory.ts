// bench/memory.ts: does memory stay flat over a long run? Trains `flstm train`'s default model
// (G-LSTM k=2, 2x512/128, Brown) through the shared TrainingLoop with the CLI's cadence (a
// readback every 20 steps) and with the page's (about every 250 ms), then evaluates and
// generates over and over, recording the process's RSS, the JS heap and the buffer pool's
// bytes (in use and kept free) every `--every` steps or rounds. A leak shows as a slope: the
// report gives each phase's first, last and largest figures and the growth over its second
// half (after the pool has made the buffers a phase needs).
//
//   node dist/bench/memory.js --time 10m               # 10 minutes of training (the CLI's cadence)
//   node dist/bench/memory.js --steps 10000 --json out.json
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as fl from '../src/index.js';
import { loadCorpus } from '../src/data/corpus.js';
import type { Corpus } from '../src/data/types.js';
import { LanguageModel } from '../src/nn/lm.js';
import { defaultTrainConfig } from '../src/options/train.js';
import { corpusOptions, type TrainConfig } from '../src/train/config.js';
import { evaluate } from '../src/train/evaluate.js';
import { generate } from '../src/train/generate.js';
import { aboutEvery, everySteps, TrainingLoop, type ReadbackCadence } from '../src/train/loop.js';
import { makeOptimizer, modelOptions } from '../src/train/step.js';
import { duration } from '../src/options/declare.js';
import { describe, table } from './util.js';

const USAGE = `usage: node dist/bench/memory.js [--time LIMIT | --steps N] [--every N] [--rounds N] [--json FILE]
  --time LIMIT  training time of the CLI-cadence phase (default 2m); the page-cadence phase gets a quarter
  --steps N     or this many steps of it (a quarter for the page-cadence phase)
  --every N     steps between samples (default 50)
  --rounds N    evaluations and generations, each sampled (default 20)
  --json FILE   also write every sample as JSON`;

interface Sample {
  phase: string;
  at: number;
  rssMB: number;
  heapMB: number;
  poolInUseMB: number;
  poolFreeMB: number;
}

const MB = 1e6;
const samples: Sample[] = [];

function sample(phase: string, at: number): void {
  const m = process.memoryUsage();
  const s = fl.stats();
  samples.push({
    phase,
    at,
    rssMB: m.rss / MB,
    heapMB: m.heapUsed / MB,
    poolInUseMB: s.poolInUseBytes / MB,
    poolFreeMB: s.poolFreeBytes / MB,
  });
}

function fail(msg: string): never {
  console.error(`bench/memory: ${msg}\n${USAGE}`);
  process.exit(2);
}

/** Trains until `limit` (steps or seconds), sampling every `every` steps. */
async function trainPhase(
  phase: string,
  model: LanguageModel,
  cfg: TrainConfig,
  corpus: Corpus,
  cadence: ReadbackCadence,
  limit: { steps?: number; seconds?: number },
  every: number,
): Promise<void> {
  const opt = makeOptimizer(cfg, model);
  const loop = new TrainingLoop(model, opt, cfg, corpus.splits.train, { step: 0, epoch: 0, batchIndex: 0 });
  const t0 = performance.now();
  try {
    await loop.run({
      stopReason: () =>
        (limit.steps !== undefined && loop.pos.step >= limit.steps) ||
        (limit.seconds !== undefined && performance.now() - t0 >= limit.seconds * 1e3)
          ? 'done'
          : null,
      cadence,
      onLoss: async (r) => (Number.isFinite(r.mean) ? null : `the loss became ${r.mean}`),
      afterStep: async () => {
        if (loop.pos.step % every === 0) {
          await loop.drain();
          sample(phase, loop.pos.step);
        }
        return null;
      },
    });
  } finally {
    loop.dispose();
    opt.dispose();
  }
}

/** `rounds` evaluations of 2,000 validation tokens and generations of 50 words, each sampled. */
async function useRounds(model: LanguageModel, corpus: Corpus, cfg: TrainConfig, rounds: number): Promise<void> {
  for (let i = 1; i <= rounds; i++) {
    await evaluate(model, corpus.splits.valid!, { batchSize: cfg.batch, bptt: cfg.bptt, maxTokens: 2000 });
    sample('evaluate', i);
  }
  for (let i = 1; i <= rounds; i++) {
    await generate(model, corpus.vocab, 'The', { tokens: 50, seed: i });
    sample('generate', i);
  }
}

/** Each phase's first, last and largest RSS and pool bytes, and the RSS growth over its second half. */
function report(): void {
  const phases = [...new Set(samples.map((s) => s.phase))];
  const rows = phases.map((phase) => {
    const ps = samples.filter((s) => s.phase === phase);
    const [first, last] = [ps[0], ps[ps.length - 1]];
    const mid = ps[Math.floor(ps.length / 2)];
    const max = (k: keyof Sample) => Math.max(...ps.map((s) => s[k] as number));
    return [
      phase,
      String(ps.length),
      `${first.at}..${last.at}`,
      first.rssMB.toFixed(0),
      last.rssMB.toFixed(0),
      max('rssMB').toFixed(0),
      (last.rssMB - mid.rssMB).toFixed(1),
      last.heapMB.toFixed(1),
      `${first.poolInUseMB.toFixed(1)} / ${last.poolInUseMB.toFixed(1)}`,
      max('poolFreeMB').toFixed(1),
    ];
  });
  console.log(
    table(
      [
        'phase',
        'samples',
        'steps or rounds',
        'RSS first MB',
        'RSS last MB',
        'RSS max MB',
        'RSS growth, 2nd half MB',
        'heap last MB',
        'pool in use first / last MB',
        'pool free max MB',
      ],
      rows,
    ),
  );
}

function readArgs(): { limit: { steps?: number; seconds?: number }; every: number; rounds: number; json?: string } {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        time: { type: 'string' },
        steps: { type: 'string' },
        every: { type: 'string' },
        rounds: { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, def: number) => {
    const v = values[name] === undefined ? def : Number(values[name]);
    if (!Number.isInteger(v) || v < 1) fail(`--${name} must be a positive integer, got ${JSON.stringify(values[name])}`);
    return v;
  };
  if (values.time !== undefined && values.steps !== undefined) fail('give --time or --steps, not both');
  const seconds = values.time === undefined ? undefined : duration.read(values.time as string);
  if (seconds !== undefined && typeof seconds !== 'number') fail(`--time must be ${seconds.expected}, got ${JSON.stringify(values.time)}`);
  const limit = values.steps !== undefined ? { steps: int('steps', 1) } : { seconds: seconds ?? 120 };
  return { limit, every: int('every', 50), rounds: int('rounds', 20), json: values.json as string | undefined };
}

async function main(): Promise<void> {
  const args = readArgs();
  await fl.init();
  console.log(`adapter: ${describe(fl.info())}`);
  const cfg = defaultTrainConfig();
  const corpus = await loadCorpus(cfg.data, corpusOptions(cfg));
  const model = new LanguageModel(modelOptions(cfg, corpus.vocab.size));
  const quarter =
    args.limit.steps !== undefined
      ? { steps: Math.max(args.every, Math.round(args.limit.steps / 4)) }
      : { seconds: args.limit.seconds! / 4 };
  sample('start', 0);
  try {
    await trainPhase('train (CLI cadence)', model, cfg, corpus, everySteps(20), args.limit, args.every);
    await trainPhase('train (page cadence)', model, cfg, corpus, aboutEvery(250), quarter, args.every);
    await useRounds(model, corpus, cfg, args.rounds);
  } finally {
    model.dispose();
  }
  report();
  if (args.json) {
    writeFileSync(
      args.json,
      JSON.stringify({ adapter: fl.info().description, date: new Date().toISOString(), config: cfg, limit: args.limit, samples }, null, 1) +
        '\n',
    );
    console.log(`wrote ${args.json}`);
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
