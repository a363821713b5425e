// bench/allreduce_f16.ts: does an f16 all-reduce of the LSTM gradients keep the loss curve?
//
// The same model is trained on Brown by two processes (mpirun -np 2) three times: the
// gradients summed in f32, the same in f16 (--allreduce f16), and in f32 from another seed.
// The f16 run keeps the curve when it stays as close to the f32 run as the choice of a seed
// moves it, or closer: the table gives the training loss at each logged step and the
// validation perplexity of the three runs, and the largest gaps.
//
//   node dist/bench/allreduce_f16.js [--steps N] [--json FILE]
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { table } from './util.js';
import { trainEvents } from './mpi.js';

const USAGE = `usage: node dist/bench/allreduce_f16.js [--steps N] [--json FILE]
  --steps N    steps per run, validated every N/3 (default 1500)
  --json FILE  also write the curves as JSON`;

interface Curve {
  losses: [number, number][];
  validations: [number, number][];
  denseBytes: number;
}

function curve(args: string[]): Curve {
  const events = trainEvents(2, args);
  const progress = events.filter((e) => e.type === 'progress');
  const start = events.find((e) => e.type === 'start');
  return {
    losses: progress.map((e) => [e.step, e.loss]),
    validations: events.filter((e) => e.type === 'eval').map((e) => [e.step, e.ppl]),
    denseBytes: start?.world?.denseBytes ?? NaN,
  };
}

/** The largest |a - b| over the steps both curves have, and the mean. */
function gap(a: [number, number][], b: [number, number][]): { max: number; mean: number } {
  const bs = new Map(b);
  const d = a.filter(([s]) => bs.has(s)).map(([s, v]) => Math.abs(v - bs.get(s)!));
  return { max: Math.max(...d), mean: d.reduce((x, y) => x + y, 0) / Math.max(d.length, 1) };
}

function main(steps: number, jsonFile?: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'flstm-bench-f16-'));
  try {
    const every = Math.max(1, Math.floor(steps / 3));
    const common = [
      '--data',
      'brown',
      '--emb',
      '128',
      '--hidden',
      '512',
      '--proj',
      '128',
      '--bptt',
      '20',
      '--batch',
      '16',
      '--sampled',
      '1024',
      '--steps',
      String(steps),
      '--log-every',
      '25',
      '--eval-every',
      String(every),
      '--eval-tokens',
      '40000',
      '--sample',
      '0',
      '--precision',
      'f32',
    ];
    const runs = {
      f32: curve([...common, '--allreduce', 'f32', '--out', join(dir, 'f32')]),
      f16: curve([...common, '--allreduce', 'f16', '--out', join(dir, 'f16')]),
      f32OtherSeed: curve([...common, '--allreduce', 'f32', '--seed', '2', '--out', join(dir, 'seed2')]),
    };
    const at = (c: Curve, s: number) => c.losses.find(([x]) => x === s)?.[1]?.toFixed(4) ?? '';
    const shown = runs.f32.losses.map(([s]) => s).filter((s, i, all) => i % Math.ceil(all.length / 12) === 0 || i === all.length - 1);
    console.log(
      table(
        ['step', 'loss, f32 sum', 'loss, f16 sum', 'loss, f32, seed 2'],
        shown.map((s) => [String(s), at(runs.f32, s), at(runs.f16, s), at(runs.f32OtherSeed, s)]),
      ),
    );
    const ppl = (c: Curve) => c.validations.map(([s, p]) => `${s}: ${p.toFixed(2)}`).join(', ');
    console.log(`validation perplexity: f32 ${ppl(runs.f32)}; f16 ${ppl(runs.f16)}; f32 seed 2 ${ppl(runs.f32OtherSeed)}`);
    const gaps = { f16VsF32: gap(runs.f16.losses, runs.f32.losses), seedVsSeed: gap(runs.f32OtherSeed.losses, runs.f32.losses) };
    console.log(
      `training-loss gap to the f32 run: f16 max ${gaps.f16VsF32.max.toFixed(4)}, mean ${gaps.f16VsF32.mean.toFixed(4)}; another seed max ${gaps.seedVsSeed.max.toFixed(4)}, mean ${gaps.seedVsSeed.mean.toFixed(4)}`,
    );
    console.log(
      `all-reduced per step: f32 ${(runs.f32.denseBytes / 2 ** 20).toFixed(2)} MiB, f16 ${(runs.f16.denseBytes / 2 ** 20).toFixed(2)} MiB`,
    );
    if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ model: common.join(' '), processes: 2, runs, gaps }, null, 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { values } = parseArgs({ options: { steps: { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean' } } });
if (values.help) console.log(USAGE);
else {
  const steps = Number(values.steps ?? 1500);
  if (!(Number.isInteger(steps) && steps >= 3))
    throw new Error(`bench/allreduce_f16: --steps must be an integer of at least 3, got ${values.steps}\n${USAGE}`);
  main(steps, values.json);
}
