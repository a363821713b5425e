// bench/suite.ts: flstm's benchmark suite, `npm run bench` / `flstm bench`.
//
//   flstm bench [--suite kernels|step|all] [--quick] [--json FILE] [--save | --no-save]
//               [--no-tfjs] [--out DIR] [--seconds S] [--adapter NAME]
//
//   kernels  the adapter's ceilings (bench/peak_fma.wgsl, bench/peak_copy.wgsl), then every
//            kernel checked against its float64 reference and timed (bench/kernels.ts), the
//            matmuls beside TensorFlow.js's WebGPU backend
//   step     training steps of the language model for LSTM / F-LSTM / G-LSTM, and the LSTM
//            language model beside tfjs-layers (bench/step.ts)
//   all      both (the default)
//
// Output: the tables on the terminal; --json FILE; and with the full suite (or --save) the
// results of this adapter under bench/results/<adapter-slug>-<date>.json and .svg.
// TensorFlow.js is optional: when its packages are missing the suite says so and goes on.
// Exit code 1 when a reference check failed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as fl from '../src/index.js';
import pkg from '../package.json';
import { measureCeilings, type Ceilings } from './ceilings.js';
import { runKernels } from './kernels.js';
import { runLmCompare, runStepSuite, type LmCompare, type StepSuite } from './step.js';
import { formatReport, renderSvg, summarize, type KernelRow, type SuiteContext, type SuiteResult } from './report.js';
import { disposeTfjs, initTfjs, type TfjsSide } from './tfjs.js';
import { adapterSlug, describe } from './util.js';

export type SuiteName = 'kernels' | 'step' | 'all';

export interface BenchOptions {
  suite?: SuiteName;
  quick?: boolean;
  /** Also write the JSON document here. */
  json?: string;
  /** Write bench/results/<adapter>-<date>.{json,svg}: default true for the full suite (all, not quick). */
  save?: boolean;
  tfjs?: boolean;
  /** Results folder (default bench/results). */
  out?: string;
  /** Timing target per kernel in seconds (default 1.5; quick 0.3). */
  seconds?: number;
  adapter?: string;
  log?: (line: string) => void;
}

export const USAGE = `usage: flstm bench [--suite kernels|step|all] [--quick] [--json FILE] [--save | --no-save] [--no-tfjs] [--out DIR] [--seconds S] [--adapter NAME]
  --suite S      kernels (ceilings and kernels, matmul beside tfjs), step (training steps of the
                 LSTM / F-LSTM / G-LSTM language model, LSTM LM beside tfjs-layers), or all (default)
  --quick        fewer shapes and steps, shorter timing (~2 minutes on a software driver)
  --json FILE    also write the results as JSON to FILE
  --save         write bench/results/<adapter>-<date>.json and .svg (default with the full suite)
  --no-save      do not write them
  --no-tfjs      do not run TensorFlow.js
  --out DIR      results folder (default bench/results)
  --seconds S    timing target per kernel (default 1.5; --quick 0.3)
  --adapter NAME use the adapter whose description contains NAME, or the Vulkan driver in ICD.json`;

/** TensorFlow.js's WebGPU side, or null with why (--no-tfjs, or it would not start). */
async function startTfjs(
  o: BenchOptions,
  description: string,
  log: (s: string) => void,
): Promise<{ tfs: TfjsSide | null; tfjsError: string | null }> {
  if (o.tfjs === false) return { tfs: null, tfjsError: 'disabled (--no-tfjs)' };
  try {
    const tfs = await initTfjs();
    const same = describe(tfs.adapterInfo) === description;
    log(
      `tfjs  adapter: ${describe(tfs.adapterInfo)} (tfjs-core ${tfs.tf.version_core})${same ? '' : '  <-- NOT the adapter flstm uses: the comparison is not like for like'}`,
    );
    return { tfs, tfjsError: null };
  } catch (e) {
    const tfjsError = (e as Error).message.split('\n')[0];
    log(`tfjs: not available: ${tfjsError}; continuing with flstm only`);
    return { tfs: null, tfjsError };
  }
}

/** The ceilings, or null when measuring them failed (a failure recorded); their rows go to `kernels`. */
async function firstCeilings(ctx: SuiteContext, kernels: KernelRow[]): Promise<Ceilings | null> {
  ctx.log('\nceilings');
  try {
    const c = await measureCeilings(ctx);
    kernels.push(...c.rows);
    ctx.log(`  FMA ${c.ceilings.gflops.toFixed(1)} GFLOP/s, copy ${c.ceilings.gbps.toFixed(1)} GB/s`);
    return c.ceilings;
  } catch (e) {
    ctx.failures.push(`ceilings: ${(e as Error).message}`);
    ctx.log(`  FAILED: ${(e as Error).message}`);
    return null;
  }
}

/**
 * The ceilings once more, after the kernels: the adapter's best of the two runs is its peak
 * (`ceil` and its rows in `kernels` raised where the second run beat the first), and each of
 * `rows` gets its fraction of that peak. Null when this run failed (a failure recorded).
 */
async function secondCeilings(ctx: SuiteContext, ceil: Ceilings, kernels: KernelRow[], rows: KernelRow[]): Promise<Ceilings | null> {
  try {
    const again = await measureCeilings(ctx);
    ctx.log(`\nceilings again: FMA ${again.ceilings.gflops.toFixed(1)} GFLOP/s, copy ${again.ceilings.gbps.toFixed(1)} GB/s`);
    for (const [i, key] of (['gflops', 'gbps'] as const).entries()) {
      if (!(again.ceilings[key] <= ceil[key])) {
        ceil[key] = again.ceilings[key];
        const k = kernels.findIndex((r) => r.group === 'ceiling' && r.unit === again.rows[i].unit);
        if (k >= 0) kernels[k] = again.rows[i];
        else kernels.push(again.rows[i]);
      }
    }
    for (const r of rows) r.ofPeak = r.rate / (r.unit === 'GFLOP/s' ? ceil.gflops : ceil.gbps);
    return ceil;
  } catch (e) {
    ctx.failures.push(`ceilings: ${(e as Error).message}`);
    return null;
  }
}

/** The kernels suite: ceilings, every kernel, the ceilings again; its rows go to `kernels`. */
async function kernelsSuite(ctx: SuiteContext, kernels: KernelRow[]): Promise<Ceilings | null> {
  let t0 = performance.now();
  let ceilings = await firstCeilings(ctx, kernels);
  ctx.timings.ceilings = (performance.now() - t0) / 1e3;
  ctx.log('\nkernels');
  const ceil = ceilings ?? { gflops: NaN, gbps: NaN };
  const rows = await runKernels(ctx, ceil);
  t0 = performance.now();
  // A failed second run keeps what the first measured.
  ceilings = (await secondCeilings(ctx, ceil, kernels, rows)) ?? ceilings;
  ctx.timings.ceilings += (performance.now() - t0) / 1e3;
  kernels.push(...rows);
  return ceilings;
}

interface Measured {
  ceilings: Ceilings | null;
  kernels: KernelRow[];
  step: StepSuite | null;
  compare: LmCompare | null;
}

function resultOf(
  o: BenchOptions,
  ctx: SuiteContext,
  m: Measured,
  info: fl.AdapterInfoSummary,
  tfs: TfjsSide | null,
  date: Date,
  started: number,
): SuiteResult {
  const suite: SuiteName = o.suite ?? 'all';
  return {
    bench: 'flstm-suite',
    version: pkg.version,
    date: date.toISOString(),
    node: process.version,
    adapter: {
      description: describe(info),
      slug: adapterSlug(info),
      flstm: { ...info },
      tfjs: tfs ? describe(tfs.adapterInfo) : null,
      tfjsVersion: tfs ? tfs.tf.version_core : null,
      tfjsError: ctx.tfjsError,
    },
    options: { suite, quick: ctx.quick, targetMs: ctx.targetMs, tfjs: o.tfjs !== false },
    timing:
      'kernels: median per run over samples; one sample = a batch of runs + one submit + queue wait (no readback); "gpu" rows: profiler time per call. steps: median wall time of a step (encode + submit + GPU, synced per step); GPU ms from one separate profiled step',
    ...m,
    summary: summarize(m.kernels, m.step, m.compare),
    failures: ctx.failures,
    profiles: ctx.profiles,
    seconds: ctx.timings,
    totalSeconds: (performance.now() - started) / 1e3,
  };
}

/** The JSON to --json, and with --save (or the full suite) the JSON and SVG to the results folder. */
function writeResult(o: BenchOptions, result: SuiteResult, date: Date, log: (s: string) => void): void {
  const suite: SuiteName = o.suite ?? 'all';
  const quick = !!o.quick;
  const write = (file: string, text: string) => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    log(`wrote ${file}`);
  };
  const doc = JSON.stringify(result, null, 2) + '\n';
  if (o.json) write(o.json, doc);
  const save = o.save ?? (suite === 'all' && !quick);
  if (save) {
    const day = date.toISOString().slice(0, 10);
    const base = join(
      o.out ?? join('bench', 'results'),
      `${result.adapter.slug}-${day}${quick ? '-quick' : ''}${suite !== 'all' ? `-${suite}` : ''}`,
    );
    write(`${base}.json`, doc);
    write(`${base}.svg`, renderSvg(result));
  }
}

/** Runs the suite; returns the process exit code (1 when a check failed). */
export async function runSuite(o: BenchOptions = {}): Promise<number> {
  const started = performance.now();
  const suite: SuiteName = o.suite ?? 'all';
  const quick = !!o.quick;
  const log = o.log ?? ((s: string) => console.log(s));
  const info = await fl.init(o.adapter ? { adapter: o.adapter } : {});
  const description = describe(info);
  log(
    `flstm adapter: ${description} (${info.software ? 'software' : 'hardware'}, kernel family ${info.variant}${info.icd ? `, ICD ${info.icd}` : ''})`,
  );
  const { tfs, tfjsError } = await startTfjs(o, description, log);
  const ctx: SuiteContext = {
    quick,
    targetMs: (o.seconds ?? (quick ? 0.3 : 1.5)) * 1000,
    tfs,
    tfjsError,
    log,
    failures: [],
    timings: {},
    profiles: {},
  };
  const m: Measured = { ceilings: null, kernels: [], step: null, compare: null };
  try {
    if (suite !== 'step') m.ceilings = await kernelsSuite(ctx, m.kernels);
    if (suite !== 'kernels') {
      log('\ntraining step (cells)');
      m.step = await runStepSuite(ctx);
      log('\nLM training step, flstm vs tfjs-layers');
      m.compare = await runLmCompare(ctx);
    }
  } finally {
    if (tfs) disposeTfjs(tfs);
  }
  const date = new Date();
  const result = resultOf(o, ctx, m, info, tfs, date, started);
  log('\n' + formatReport(result));
  writeResult(o, result, date, log);
  fl.dispose();
  return ctx.failures.length ? 1 : 0;
}
