// bench/matmul.ts: the matmul micro-benchmark. flstm's kernel variants (scalar, vec4, subgroup,
// shared, and the automatic choice) next to TensorFlow.js's WebGPU backend, in one process
// on one adapter, on square and LSTM-shaped products.
//
//   npm run bench                         # all shapes, ~1.5 s of timing per cell
//   node dist/bench/matmul.js --quick     # fewer shapes, ~0.3 s per cell
//   node dist/bench/matmul.js --variants vec4,scalar --no-tfjs --json out.json
//
// Every cell is first checked against a float64 reference (the whole product through
// matmulRef for small shapes, ~64 sampled elements as float64 dot products for big ones);
// a mismatch ends the run with exit code 1.
//
// Timing. We use a plain loop and the median, not the `benchmark` package: that package
// times synchronous or deferred JS calls and decides its own cycle counts, but a GPU op
// returns as soon as it is *encoded*; what we must time is encode + submit + the GPU
// finishing, which needs an explicit await of the queue. So one sample is: issue `batch`
// products back to back, then wait until the queue is idle (flstm: `fl.sync()`; tfjs: flush
// its command encoder and await `queue.onSubmittedWorkDone()`, the same thing fl.sync()
// does). Both sides therefore pay exactly one submit + one queue wait per sample and no
// readback. `batch` is 1 when one product takes longer than a few ms (always on a software
// driver) and grows on a fast GPU so the per-sample sync cost does not dominate. The median
// of the per-product times over the samples is reported (robust to the noise of a shared
// machine); GFLOP/s = 2·M·N·K / t.
//
// The whole suite (kernels, training steps, TensorFlow.js side by side, JSON and SVG) is
// bench/suite.ts: `npm run bench`, `flstm bench`.
import { writeFileSync } from 'node:fs';
import * as fl from '../src/index.js';
import { chooseVariant, subgroupCapable, vec4Eligible, type MatmulVariant } from '../src/ops/matmul_kernel.js';
import {
  aShape,
  bShape,
  buildReference,
  checkMatmul,
  dimsLabel,
  matmulFlops as flops,
  specOf,
  sq,
  LSTM_DW,
  LSTM_DX,
  LSTM_FWD,
  type Shape,
} from './matmul_lib.js';
import { describe, fmtG, fmtMs, lpad, pad, randomData, timeIt as timeLoop, type Timing } from './util.js';
import { disposeTfjs, initTfjs, type TF, type TfjsSide } from './tfjs.js';

// ---------------------------------------------------------------------------------------
// Options

type Variant = MatmulVariant | 'auto';
const ALL_VARIANTS: Variant[] = ['scalar', 'vec4', 'subgroup', 'shared', 'auto'];

interface Options {
  quick: boolean;
  json?: string;
  variants: Variant[];
  tfjs: boolean;
  /** Target timing per cell (ms); at least MIN_SAMPLES samples are taken regardless. */
  targetMs: number;
}

const USAGE = `usage: node dist/bench/matmul.js [--quick] [--json FILE] [--variants LIST] [--no-tfjs] [--seconds S]
  --quick          fewer shapes and ~0.3 s of timing per cell (default ~1.5 s)
  --json FILE      also write the results as JSON to FILE
  --variants LIST  comma-separated flstm variants among ${ALL_VARIANTS.join(',')} (default: all)
  --no-tfjs        do not run TensorFlow.js
  --seconds S      timing target per cell in seconds`;

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, variants: [...ALL_VARIANTS], tfjs: true, targetMs: NaN };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) fail(`bench/matmul: ${flag} needs a value\n${USAGE}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--no-tfjs') o.tfjs = false;
    else if (a === '--json') o.json = value(i++, a);
    else if (a === '--variants') {
      const list = value(i++, a)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const v of list) {
        if (!ALL_VARIANTS.includes(v as Variant)) fail(`bench/matmul: unknown variant "${v}"; expected some of ${ALL_VARIANTS.join(', ')}`);
      }
      o.variants = list as Variant[];
    } else if (a === '--seconds') {
      const s = Number(value(i++, a));
      if (!(s > 0)) fail(`bench/matmul: --seconds must be a positive number, got "${argv[i]}"`);
      o.targetMs = s * 1000;
    } else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else fail(`bench/matmul: unknown argument "${a}"\n${USAGE}`);
  }
  if (Number.isNaN(o.targetMs)) o.targetMs = o.quick ? 300 : 1500;
  return o;
}

function fail(msg: string): never {
  console.error(msg);
  process.exit(1);
}

const SHAPES_FULL = [sq(256), sq(512), sq(1024), LSTM_FWD, LSTM_DX, LSTM_DW];
const SHAPES_QUICK = [sq(256), LSTM_FWD, LSTM_DW];

const MIN_SAMPLES = 3;

function check(label: string, s: Shape, got: Float32Array, ref: ReturnType<typeof buildReference>): number {
  try {
    return checkMatmul(label, s, got, ref);
  } catch (e) {
    fail(`bench/matmul: ${(e as Error).message}`);
  }
}

const timeIt = (run: () => void, sync: () => Promise<void>, targetMs: number): Promise<Timing> =>
  timeLoop(run, sync, { targetMs, minSamples: MIN_SAMPLES });

// ---------------------------------------------------------------------------------------
// Main

interface Row {
  shape: string;
  dims: string;
  M: number;
  K: number;
  N: number;
  transposeA: boolean;
  transposeB: boolean;
  gflop: number;
  /** flstm variant asked for ('auto' = none). */
  variant: Variant | 'tfjs';
  /** The kernel that ran (auto resolves to one of the variants). */
  kernel: string;
  ms: number;
  minMs: number;
  gflops: number;
  reps: number;
  batch: number;
  maxAbsErr: number;
  checked: number;
}

/** TensorFlow.js's WebGPU side, or null with why (a failure to start it is no reason to stop). */
async function startTfjs(info: fl.AdapterInfoSummary): Promise<{ tfs: TfjsSide | null; tfjsError: string | null }> {
  try {
    const tfs = await initTfjs();
    const same = describe(tfs.adapterInfo) === describe(info);
    console.log(
      `tfjs  adapter: ${describe(tfs.adapterInfo)} (tfjs-core ${tfs.tf.version_core}, backend ${tfs.tf.getBackend()})${same ? '' : '  <-- NOT the adapter flstm uses'}`,
    );
    if (!same) console.log('bench/matmul: warning: flstm and tfjs run on different adapters; the comparison is not like for like');
    return { tfs, tfjsError: null };
  } catch (e) {
    const tfjsError = (e as Error).message;
    console.log(`tfjs: could not initialize the WebGPU backend: ${tfjsError}; continuing with flstm only`);
    return { tfs: null, tfjsError };
  }
}

/** One shape's operands, reference and the fields every row of it shares. */
interface Cell {
  s: Shape;
  aData: Float32Array;
  bData: Float32Array;
  ref: ReturnType<typeof buildReference>;
  base: Omit<Row, 'variant' | 'kernel' | 'ms' | 'minMs' | 'gflops' | 'reps' | 'batch' | 'maxAbsErr' | 'checked'>;
}

function progress(s: Shape, r: Row): void {
  console.log(
    `  ${pad(s.name, 12)} ${pad(r.variant === 'auto' ? `auto=${r.kernel}` : r.variant, 12)} ${lpad(fmtMs(r.ms), 8)} ms ${lpad(fmtG(r.gflops), 7)} GFLOP/s  (${r.reps} reps, batch ${r.batch}, checked ${r.checked} elts, max |err| ${r.maxAbsErr.toExponential(1)})`,
  );
}

/** Why variant `forced` cannot run shape `s` here, or null. */
function ineligible(s: Shape, forced: MatmulVariant | undefined): string | null {
  if ((forced === 'vec4' || forced === 'subgroup') && !vec4Eligible(specOf(s, forced)))
    return `${forced}: not eligible (alignment), skipped`;
  if (forced === 'subgroup' && !subgroupCapable()) return 'subgroup: this adapter has no subgroups of >= 8 lanes, skipped';
  return null;
}

/** flstm's rows of one shape: each variant checked, then timed. */
async function benchFlstm(c: Cell, opts: Options): Promise<Row[]> {
  const { s, ref, base } = c;
  const rows: Row[] = [];
  const a = fl.tensor(c.aData, aShape(s));
  const b = fl.tensor(c.bData, bShape(s));
  for (const v of opts.variants) {
    const forced = v === 'auto' ? undefined : v;
    const why = ineligible(s, forced);
    if (why) {
      console.log(`  ${pad(s.name, 12)} ${why}`);
      continue;
    }
    const kernel = chooseVariant(specOf(s, forced));
    const mmOpts = { transposeA: s.transposeA, transposeB: s.transposeB, variant: forced };
    let out: fl.Tensor | null = null;
    const run = () => {
      out?.dispose();
      out = fl.matmul(a, b, mmOpts);
    };
    run(); // the checked run; it also compiles the pipeline
    const label = `flstm ${v}${v === 'auto' ? `(=${kernel})` : ''}`;
    const maxAbsErr = check(label, s, (await out!.data()) as Float32Array, ref);
    const t = await timeIt(run, () => fl.sync(), opts.targetMs);
    (out as fl.Tensor | null)?.dispose();
    const row: Row = {
      ...base,
      variant: v,
      kernel,
      ms: t.medianMs,
      minMs: t.minMs,
      gflops: base.gflop / (t.medianMs / 1000),
      reps: t.reps,
      batch: t.batch,
      maxAbsErr,
      checked: ref.idx.length,
    };
    rows.push(row);
    progress(s, row);
  }
  a.dispose();
  b.dispose();
  return rows;
}

/** TensorFlow.js's row of one shape, checked, then timed. */
async function benchTfjs(c: Cell, tfs: TfjsSide, opts: Options): Promise<Row> {
  const { s, ref, base } = c;
  const { tf } = tfs;
  const ta = tf.tensor(c.aData, aShape(s), 'float32');
  const tb = tf.tensor(c.bData, bShape(s), 'float32');
  let out: ReturnType<TF['matMul']> | null = null;
  const run = () => {
    out?.dispose();
    out = tf.matMul(ta, tb, s.transposeA, s.transposeB);
  };
  run();
  const maxAbsErr = check('tfjs webgpu', s, (await out!.data()) as Float32Array, ref);
  const t = await timeIt(run, () => tfs.sync(), opts.targetMs);
  (out as ReturnType<TF['matMul']> | null)?.dispose();
  ta.dispose();
  tb.dispose();
  const row: Row = {
    ...base,
    variant: 'tfjs',
    kernel: 'tfjs-webgpu',
    ms: t.medianMs,
    minMs: t.minMs,
    gflops: base.gflop / (t.medianMs / 1000),
    reps: t.reps,
    batch: t.batch,
    maxAbsErr,
    checked: ref.idx.length,
  };
  progress(s, row);
  return row;
}

/** Every shape's rows, flstm's variants then tfjs's; operands seeded 1, 2, 3, ... in order. */
async function benchShapes(shapes: Shape[], tfs: TfjsSide | null, opts: Options): Promise<Row[]> {
  const rows: Row[] = [];
  let seed = 1;
  for (const s of shapes) {
    const aData = randomData(s.M * s.K, seed++);
    const bData = randomData(s.K * s.N, seed++);
    const ref = buildReference(s, aData, bData);
    const base = {
      shape: s.name,
      dims: dimsLabel(s),
      M: s.M,
      K: s.K,
      N: s.N,
      transposeA: s.transposeA,
      transposeB: s.transposeB,
      gflop: flops(s) / 1e9,
    };
    const cell: Cell = { s, aData, bData, ref, base };
    rows.push(...(await benchFlstm(cell, opts)));
    if (tfs) rows.push(await benchTfjs(cell, tfs, opts));
  }
  return rows;
}

type Summary = { shape: string; dims: string; bestVariant: string; bestMs: number; tfjsMs: number | null; ratio: number | null };

/** One shape's lines of the table; its fastest flstm variant, if any ran. */
function shapeLines(s: Shape, rows: Row[]): Summary | null {
  const mine = rows.filter((r) => r.shape === s.name && r.variant !== 'tfjs');
  const tfr = rows.find((r) => r.shape === s.name && r.variant === 'tfjs');
  const best = mine.length ? mine.reduce((x, y) => (y.ms < x.ms ? y : x)) : null;
  for (const r of mine) {
    const name = r.variant === 'auto' ? `auto=${r.kernel}` : r.variant;
    console.log(
      [
        pad(s.name, 12),
        pad(dimsLabel(s), 22),
        pad(name + (r === best ? ' *' : ''), 13),
        lpad(fmtMs(r.ms), 8),
        lpad(fmtG(r.gflops), 8),
        lpad(tfr ? fmtMs(tfr.ms) : '-', 8),
        lpad(tfr ? fmtG(tfr.gflops) : '-', 9),
        lpad(tfr ? (tfr.ms / r.ms).toFixed(2) : '-', 6),
      ].join('  '),
    );
  }
  if (!mine.length && tfr) {
    console.log(
      [
        pad(s.name, 12),
        pad(dimsLabel(s), 22),
        pad('-', 13),
        lpad('-', 8),
        lpad('-', 8),
        lpad(fmtMs(tfr.ms), 8),
        lpad(fmtG(tfr.gflops), 9),
        lpad('-', 6),
      ].join('  '),
    );
  }
  if (!best) return null;
  return {
    shape: s.name,
    dims: dimsLabel(s),
    bestVariant: best.variant === 'auto' ? `auto=${best.kernel}` : best.variant,
    bestMs: best.ms,
    tfjsMs: tfr?.ms ?? null,
    ratio: tfr ? tfr.ms / best.ms : null,
  };
}

/**
 * The table: one line per flstm variant, tfjs alongside; ratio = flstm GFLOP/s / tfjs GFLOP/s
 * (> 1: flstm faster). '*' marks the shape's fastest flstm variant.
 */
function printTable(shapes: Shape[], rows: Row[]): Summary[] {
  const head = [
    pad('shape', 12),
    pad('dims', 22),
    pad('variant', 13),
    lpad('ms', 8),
    lpad('GFLOP/s', 8),
    lpad('tfjs ms', 8),
    lpad('tfjs GF/s', 9),
    lpad('ratio', 6),
  ];
  console.log(head.join('  '));
  console.log('-'.repeat(head.join('  ').length));
  const summary = shapes.map((s) => shapeLines(s, rows)).filter((x): x is Summary => x !== null);
  console.log(`ratio = tfjs ms / flstm ms (> 1: flstm faster); * = the shape's fastest flstm variant; ms = median per product`);
  const ratios = summary.filter((x) => x.ratio !== null).map((x) => x.ratio!);
  if (ratios.length) {
    const geo = Math.exp(ratios.reduce((acc, r) => acc + Math.log(r), 0) / ratios.length);
    console.log(`\nflstm best vs tfjs (GFLOP/s ratio, geometric mean over ${ratios.length} shapes): ${geo.toFixed(2)}x`);
  }
  return summary;
}

function writeJson(
  file: string,
  o: {
    opts: Options;
    info: fl.AdapterInfoSummary;
    tfs: TfjsSide | null;
    tfjsError: string | null;
    rows: Row[];
    summary: Summary[];
    totalS: number;
  },
): void {
  const doc = {
    bench: 'matmul',
    date: new Date().toISOString(),
    node: process.version,
    options: { quick: o.opts.quick, variants: o.opts.variants, tfjs: o.opts.tfjs, targetMs: o.opts.targetMs },
    adapter: {
      flstm: { ...o.info, limits: undefined },
      tfjs: o.tfs ? o.tfs.adapterInfo && describe(o.tfs.adapterInfo) : null,
      tfjsError: o.tfjsError,
    },
    timing: 'median per-product ms over samples; one sample = batch products + one submit + queue wait (no readback)',
    results: o.rows,
    summary: o.summary,
    totalSeconds: o.totalS,
  };
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  console.log(`wrote ${file}`);
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const info = await fl.init();
  console.log(
    `flstm adapter: ${describe(info)} (backend ${info.backend}, ${info.software ? 'software' : 'hardware'}, kernel family ${info.variant}${info.icd ? `, ICD ${info.icd}` : ''})`,
  );
  const { tfs, tfjsError } = opts.tfjs ? await startTfjs(info) : { tfs: null, tfjsError: null };
  const shapes = opts.quick ? SHAPES_QUICK : SHAPES_FULL;
  console.log(
    `${shapes.length} shapes, variants ${opts.variants.join(',')}${tfs ? ',tfjs' : ''}, ~${(opts.targetMs / 1000).toFixed(1)} s per cell, median of >= ${MIN_SAMPLES} samples\n`,
  );
  const rows = await benchShapes(shapes, tfs, opts);
  console.log(`\nadapter: ${describe(info)}${tfs ? '' : opts.tfjs ? `   (tfjs unavailable: ${tfjsError})` : '   (tfjs not run)'}`);
  const summary = printTable(shapes, rows);
  const totalS = (performance.now() - started) / 1000;
  console.log(`total ${totalS.toFixed(1)} s`);
  if (opts.json) writeJson(opts.json, { opts, info, tfs, tfjsError, rows, summary, totalS });
  if (tfs) disposeTfjs(tfs);
  fl.dispose();
}

main().then(
  // Dawn instances can keep the event loop alive even after their devices are destroyed.
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
