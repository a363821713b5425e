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
import { writeFileSync } from 'node:fs';
import * as fl from '../src/index.js';
import { chooseVariant, subgroupCapable, vec4Eligible, type MatmulSpec, type MatmulVariant } from '../src/ops/matmul_kernel.js';
import { matmulRef } from '../src/ref/matmul.js';
import { nd } from '../src/ref/array.js';

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
      const list = value(i++, a).split(',').map((s) => s.trim()).filter(Boolean);
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

// ---------------------------------------------------------------------------------------
// Shapes: C[M, N] = op(A) · op(B), inner size K.

interface Shape {
  name: string;
  M: number;
  K: number;
  N: number;
  transposeA: boolean;
  transposeB: boolean;
}

const sq = (n: number): Shape => ({ name: `${n}^3`, M: n, K: n, N: n, transposeA: false, transposeB: false });
// LSTM layer with T·B = 640 rows (e.g. 20 steps x 32 streams), [x; h] = 768, 4n = 2048.
const LSTM_FWD: Shape = { name: 'lstm X·W', M: 640, K: 768, N: 2048, transposeA: false, transposeB: false };
const LSTM_DX: Shape = { name: 'lstm dG·W^T', M: 640, K: 2048, N: 768, transposeA: false, transposeB: true };
const LSTM_DW: Shape = { name: 'lstm X^T·dG', M: 768, K: 640, N: 2048, transposeA: true, transposeB: false };

const SHAPES_FULL = [sq(256), sq(512), sq(1024), LSTM_FWD, LSTM_DX, LSTM_DW];
const SHAPES_QUICK = [sq(256), LSTM_FWD, LSTM_DW];

/** Stored shapes of A and B: A is [K, M] when transposed, B is [N, K] when transposed. */
const aShape = (s: Shape) => (s.transposeA ? [s.K, s.M] : [s.M, s.K]);
const bShape = (s: Shape) => (s.transposeB ? [s.N, s.K] : [s.K, s.N]);

function dimsLabel(s: Shape): string {
  const [ar, ac] = aShape(s);
  const [br, bc] = bShape(s);
  return `${ar}x${ac}${s.transposeA ? 'ᵀ' : ''}·${br}x${bc}${s.transposeB ? 'ᵀ' : ''}`;
}

const flops = (s: Shape) => 2 * s.M * s.N * s.K;

/** The MatmulSpec fl.matmul builds for a 2-D product (for vec4Eligible / chooseVariant). */
function specOf(s: Shape, variant?: MatmulVariant): MatmulSpec {
  const none = null as unknown as GPUBuffer;
  return {
    a: none, b: none, c: none, M: s.M, N: s.N, K: s.K, batch: 1,
    transA: s.transposeA, transB: s.transposeB,
    lda: s.transposeA ? s.M : s.K, ldb: s.transposeB ? s.K : s.N, ldc: s.N,
    strideA: s.M * s.K, strideB: s.K * s.N, strideC: s.M * s.N, variant, strictVariant: true,
  };
}

// ---------------------------------------------------------------------------------------
// Data and the float64 check

/** Seeded uniform [-1, 1) (mulberry32). */
function randomData(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** Full products up to this many multiply-adds are checked element by element through matmulRef. */
const FULL_CHECK_MACS = 256 ** 3;
const SAMPLES = 64;

interface Reference {
  /** Flat output indices (m * N + n) and their float64 values. */
  idx: number[];
  val: number[];
}

function buildReference(s: Shape, a: Float32Array, b: Float32Array): Reference {
  if (s.M * s.N * s.K <= FULL_CHECK_MACS) {
    const c = matmulRef(nd(a, aShape(s)), nd(b, bShape(s)), { transposeA: s.transposeA, transposeB: s.transposeB });
    return { idx: Array.from(c.data, (_, i) => i), val: Array.from(c.data) };
  }
  // Corners plus random points, each a float64 dot product on the host.
  const pts: [number, number][] = [[0, 0], [0, s.N - 1], [s.M - 1, 0], [s.M - 1, s.N - 1]];
  const r = randomData(2 * SAMPLES, 4242);
  while (pts.length < SAMPLES) {
    const i = pts.length;
    pts.push([Math.floor(((r[2 * i] + 1) / 2) * s.M), Math.floor(((r[2 * i + 1] + 1) / 2) * s.N)]);
  }
  const idx: number[] = [];
  const val: number[] = [];
  for (const [m, n] of pts) {
    let acc = 0;
    for (let k = 0; k < s.K; k++) {
      const av = s.transposeA ? a[k * s.M + m] : a[m * s.K + k];
      const bv = s.transposeB ? b[n * s.K + k] : b[k * s.N + n];
      acc += av * bv;
    }
    idx.push(m * s.N + n);
    val.push(acc);
  }
  return { idx, val };
}

/**
 * |got - ref| <= atol + rtol·|ref| with atol growing with K: float32 accumulation over K
 * terms of size ≤ 1 drifts by ~sqrt(K)·eps·|partial sums|; 1e-6·K leaves >30x headroom
 * over that, while an indexing bug is off by O(sqrt(K)).
 */
function check(label: string, s: Shape, got: Float32Array, ref: Reference): number {
  const atol = 1e-6 * s.K;
  const rtol = 1e-5;
  let maxErr = 0;
  const bad: string[] = [];
  if (got.length !== s.M * s.N) fail(`bench/matmul: ${label}: result has ${got.length} elements, expected ${s.M * s.N}`);
  for (let i = 0; i < ref.idx.length; i++) {
    const g = got[ref.idx[i]];
    const r = ref.val[i];
    const err = Math.abs(g - r);
    if (!(err <= atol + rtol * Math.abs(r))) {
      if (bad.length < 8) bad.push(`  C[${Math.floor(ref.idx[i] / s.N)}, ${ref.idx[i] % s.N}] = ${g}, float64 reference ${r} (|diff| ${err.toExponential(2)})`);
      maxErr = Math.max(maxErr, Number.isNaN(err) ? Infinity : err);
    } else maxErr = Math.max(maxErr, err);
  }
  if (bad.length) {
    fail(`bench/matmul: MISMATCH in ${label} (${s.name}, ${dimsLabel(s)}); tolerance ${atol.toExponential(1)} + ${rtol}·|ref|; first mismatches:\n${bad.join('\n')}`);
  }
  return maxErr;
}

// ---------------------------------------------------------------------------------------
// Timing

interface Timing {
  medianMs: number;
  minMs: number;
  /** Products timed in all (samples x batch). */
  reps: number;
  samples: number;
  batch: number;
}

const MIN_SAMPLES = 3;
const MAX_SAMPLES = 200;
/** A sample should last at least this long, so a fast GPU is not timed by its sync latency. */
const MIN_SAMPLE_MS = 5;

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

/** `run` issues one product; `sync` waits until the GPU has finished all of them. */
async function timeIt(run: () => void, sync: () => Promise<void>, targetMs: number): Promise<Timing> {
  run(); // warm-up (pipelines are already compiled by the checked run)
  await sync();
  // Calibration: one product alone; it is the first sample when the batch stays 1.
  let t0 = performance.now();
  run();
  await sync();
  const t1 = performance.now() - t0;
  const batch = Math.max(1, Math.ceil(MIN_SAMPLE_MS / Math.max(t1, 1e-3)));
  const samples: number[] = batch === 1 ? [t1] : [];
  // Sample until the time target is spent (at least MIN_SAMPLES, at most MAX_SAMPLES).
  const start = performance.now() - (batch === 1 ? t1 : 0);
  while (samples.length < MIN_SAMPLES || (performance.now() - start < targetMs && samples.length < MAX_SAMPLES)) {
    t0 = performance.now();
    for (let i = 0; i < batch; i++) run();
    await sync();
    samples.push((performance.now() - t0) / batch);
  }
  return { medianMs: median(samples), minMs: Math.min(...samples), reps: samples.length * batch, samples: samples.length, batch };
}

// ---------------------------------------------------------------------------------------
// TensorFlow.js (WebGPU backend) on the same adapter

type TF = typeof import('@tensorflow/tfjs-core');

interface TfjsBackendLike {
  device: GPUDevice;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

interface TfjsSide {
  tf: TF;
  backend: TfjsBackendLike;
  adapterInfo: GPUAdapterInfo | null;
  sync(): Promise<void>;
}

function describe(info: { vendor?: string; architecture?: string; device?: string; description?: string } | null): string {
  if (!info) return '(unknown)';
  return [info.description, info.vendor, info.architecture, info.device].filter((x) => x).join(' | ');
}

async function initTfjs(): Promise<TfjsSide> {
  // flstm has already found the adapter (and, on a machine without a GPU, pointed the Vulkan
  // loader at a software driver via VK_ICD_FILENAMES); a new Dawn instance made now sees the
  // same drivers, and tfjs asks it with the same powerPreference flstm uses.
  const wg = (await import('webgpu')) as unknown as { create(o: string[]): GPU; globals: Record<string, unknown>; default?: unknown };
  const webgpu = typeof wg.create === 'function' ? wg : (wg.default as typeof wg);
  for (const [k, v] of Object.entries(webgpu.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const gpu = webgpu.create([]);
  let adapterInfo: GPUAdapterInfo | null = null;
  // A thin wrapper so we see the adapter tfjs gets (tfjs only calls requestAdapter).
  const gpuShim = {
    requestAdapter: async (o?: GPURequestAdapterOptions) => {
      const a = await gpu.requestAdapter(o);
      adapterInfo = a?.info ?? null;
      return a;
    },
    getPreferredCanvasFormat: () => gpu.getPreferredCanvasFormat(),
    get wgslLanguageFeatures() {
      return gpu.wgslLanguageFeatures;
    },
  };
  // Node 20 has no global navigator; Node 21+ has one without gpu.
  const g = globalThis as { navigator?: object };
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpuShim, configurable: true, writable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu: gpuShim }, configurable: true, writable: true });

  // Imported only now: the backend registers itself at load time only if navigator.gpu exists.
  const core = (await import('@tensorflow/tfjs-core')) as TF & { default?: TF };
  const tf: TF = typeof core.matMul === 'function' ? core : core.default!;
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!tf.findBackendFactory('webgpu')) throw new Error('the webgpu backend did not register (navigator.gpu not seen)');
  const ok = await tf.setBackend('webgpu');
  if (!ok) throw new Error('tf.setBackend("webgpu") returned false (see the messages above)');
  await tf.ready();
  const backend = tf.backend() as unknown as TfjsBackendLike;
  if (typeof backend.submitQueue !== 'function' || !backend.device) {
    throw new Error('unexpected tfjs webgpu backend (no device / submitQueue)');
  }
  return {
    tf,
    backend,
    adapterInfo,
    // What fl.sync() does: submit the pending encoder, wait for the queue.
    async sync() {
      backend.ensureCommandEncoderReady();
      backend.endComputePassEncoder();
      backend.submitQueue();
      await backend.device.queue.onSubmittedWorkDone();
    },
  };
}

function disposeTfjs(t: TfjsSide): void {
  const device = t.backend.device;
  t.tf.disposeVariables();
  t.tf.engine().reset(); // disposes every tensor and the backend
  device.destroy(); // a Dawn device keeps Node alive
}

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

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
const fmtMs = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const fmtG = (g: number) => (g >= 100 ? g.toFixed(0) : g.toFixed(1));

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const info = await fl.init();
  console.log(`flstm adapter: ${describe(info)} (backend ${info.backend}, ${info.software ? 'software' : 'hardware'}, kernel family ${info.variant}${info.icd ? `, ICD ${info.icd}` : ''})`);

  let tfs: TfjsSide | null = null;
  let tfjsError: string | null = null;
  if (opts.tfjs) {
    try {
      tfs = await initTfjs();
      const same = describe(tfs.adapterInfo) === describe(info);
      console.log(`tfjs  adapter: ${describe(tfs.adapterInfo)} (tfjs-core ${tfs.tf.version_core}, backend ${tfs.tf.getBackend()})${same ? '' : '  <-- NOT the adapter flstm uses'}`);
      if (!same) console.log('bench/matmul: warning: flstm and tfjs run on different adapters; the comparison is not like for like');
    } catch (e) {
      tfjsError = (e as Error).message;
      console.log(`tfjs: could not initialize the WebGPU backend: ${tfjsError}; continuing with flstm only`);
      tfs = null;
    }
  }
  const shapes = opts.quick ? SHAPES_QUICK : SHAPES_FULL;
  console.log(`${shapes.length} shapes, variants ${opts.variants.join(',')}${tfs ? ',tfjs' : ''}, ~${(opts.targetMs / 1000).toFixed(1)} s per cell, median of >= ${MIN_SAMPLES} samples\n`);

  const rows: Row[] = [];
  let seed = 1;
  for (const s of shapes) {
    const aData = randomData(s.M * s.K, seed++);
    const bData = randomData(s.K * s.N, seed++);
    const ref = buildReference(s, aData, bData);
    const gflop = flops(s) / 1e9;
    const base = { shape: s.name, dims: dimsLabel(s), M: s.M, K: s.K, N: s.N, transposeA: s.transposeA, transposeB: s.transposeB, gflop };
    const progress = (r: Row) =>
      console.log(`  ${pad(s.name, 12)} ${pad(r.variant === 'auto' ? `auto=${r.kernel}` : r.variant, 12)} ${lpad(fmtMs(r.ms), 8)} ms ${lpad(fmtG(r.gflops), 7)} GFLOP/s  (${r.reps} reps, batch ${r.batch}, checked ${r.checked} elts, max |err| ${r.maxAbsErr.toExponential(1)})`);

    // flstm
    const a = fl.tensor(aData, aShape(s));
    const b = fl.tensor(bData, bShape(s));
    for (const v of opts.variants) {
      const forced = v === 'auto' ? undefined : v;
      if ((forced === 'vec4' || forced === 'subgroup') && !vec4Eligible(specOf(s, forced))) {
        console.log(`  ${pad(s.name, 12)} ${forced}: not eligible (alignment), skipped`);
        continue;
      }
      if (forced === 'subgroup' && !subgroupCapable()) {
        console.log(`  ${pad(s.name, 12)} subgroup: this adapter has no subgroups of >= 8 lanes, skipped`);
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
      const row: Row = { ...base, variant: v, kernel, ms: t.medianMs, minMs: t.minMs, gflops: gflop / (t.medianMs / 1000), reps: t.reps, batch: t.batch, maxAbsErr, checked: ref.idx.length };
      rows.push(row);
      progress(row);
    }
    a.dispose();
    b.dispose();

    // tfjs
    if (tfs) {
      const { tf } = tfs;
      const ta = tf.tensor(aData, aShape(s), 'float32');
      const tb = tf.tensor(bData, bShape(s), 'float32');
      let out: ReturnType<TF['matMul']> | null = null;
      const run = () => {
        out?.dispose();
        out = tf.matMul(ta, tb, s.transposeA, s.transposeB);
      };
      run();
      const maxAbsErr = check('tfjs webgpu', s, (await out!.data()) as Float32Array, ref);
      const t = await timeIt(run, () => tfs!.sync(), opts.targetMs);
      (out as ReturnType<TF['matMul']> | null)?.dispose();
      ta.dispose();
      tb.dispose();
      const row: Row = { ...base, variant: 'tfjs', kernel: 'tfjs-webgpu', ms: t.medianMs, minMs: t.minMs, gflops: gflop / (t.medianMs / 1000), reps: t.reps, batch: t.batch, maxAbsErr, checked: ref.idx.length };
      rows.push(row);
      progress(row);
    }
  }

  // The table: one line per flstm variant, tfjs alongside; ratio = flstm GFLOP/s / tfjs GFLOP/s
  // (> 1: flstm faster). '*' marks the shape's fastest flstm variant.
  console.log(`\nadapter: ${describe(info)}${tfs ? '' : opts.tfjs ? `   (tfjs unavailable: ${tfjsError})` : '   (tfjs not run)'}`);
  const head = [pad('shape', 12), pad('dims', 22), pad('variant', 13), lpad('ms', 8), lpad('GFLOP/s', 8), lpad('tfjs ms', 8), lpad('tfjs GF/s', 9), lpad('ratio', 6)];
  console.log(head.join('  '));
  console.log('-'.repeat(head.join('  ').length));
  const summary: { shape: string; dims: string; bestVariant: string; bestMs: number; tfjsMs: number | null; ratio: number | null }[] = [];
  for (const s of shapes) {
    const mine = rows.filter((r) => r.shape === s.name && r.variant !== 'tfjs');
    const tfr = rows.find((r) => r.shape === s.name && r.variant === 'tfjs');
    const best = mine.length ? mine.reduce((x, y) => (y.ms < x.ms ? y : x)) : null;
    const lines = mine.length ? mine : [];
    for (const r of lines) {
      const name = r.variant === 'auto' ? `auto=${r.kernel}` : r.variant;
      console.log([
        pad(s.name, 12), pad(dimsLabel(s), 22), pad(name + (r === best ? ' *' : ''), 13),
        lpad(fmtMs(r.ms), 8), lpad(fmtG(r.gflops), 8),
        lpad(tfr ? fmtMs(tfr.ms) : '-', 8), lpad(tfr ? fmtG(tfr.gflops) : '-', 9),
        lpad(tfr ? (tfr.ms / r.ms).toFixed(2) : '-', 6),
      ].join('  '));
    }
    if (!lines.length && tfr) {
      console.log([pad(s.name, 12), pad(dimsLabel(s), 22), pad('-', 13), lpad('-', 8), lpad('-', 8), lpad(fmtMs(tfr.ms), 8), lpad(fmtG(tfr.gflops), 9), lpad('-', 6)].join('  '));
    }
    if (best) {
      summary.push({
        shape: s.name, dims: dimsLabel(s), bestVariant: best.variant === 'auto' ? `auto=${best.kernel}` : best.variant, bestMs: best.ms,
        tfjsMs: tfr?.ms ?? null, ratio: tfr ? tfr.ms / best.ms : null,
      });
    }
  }
  console.log(`ratio = tfjs ms / flstm ms (> 1: flstm faster); * = the shape's fastest flstm variant; ms = median per product`);
  const ratios = summary.filter((x) => x.ratio !== null).map((x) => x.ratio!);
  if (ratios.length) {
    const geo = Math.exp(ratios.reduce((acc, r) => acc + Math.log(r), 0) / ratios.length);
    console.log(`\nflstm best vs tfjs (GFLOP/s ratio, geometric mean over ${ratios.length} shapes): ${geo.toFixed(2)}x`);
  }
  const totalS = (performance.now() - started) / 1000;
  console.log(`total ${totalS.toFixed(1)} s`);

  if (opts.json) {
    const doc = {
      bench: 'matmul',
      date: new Date().toISOString(),
      node: process.version,
      options: { quick: opts.quick, variants: opts.variants, tfjs: opts.tfjs, targetMs: opts.targetMs },
      adapter: { flstm: { ...info, limits: undefined }, tfjs: tfs ? tfs.adapterInfo && describe(tfs.adapterInfo) : null, tfjsError },
      timing: 'median per-product ms over samples; one sample = batch products + one submit + queue wait (no readback)',
      results: rows,
      summary,
      totalSeconds: totalS,
    };
    writeFileSync(opts.json, JSON.stringify(doc, null, 2) + '\n');
    console.log(`wrote ${opts.json}`);
  }

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
