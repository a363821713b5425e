// bench/step.ts: full training steps of the language model (forward, backward, the optimizer's
// update), through the trainer's own trainStep (src/train/step.ts), so the bench times
// exactly what `flstm train` runs.
//
// Cells: LSTM, F-LSTM and G-LSTM at the same n and p (STEP_MODEL below): words/s, the step
// split into host encoding and GPU time (timestamp-query profiler), dispatches per step, and
// each cell's speed-up over LSTM beside its ideal ratio (the ratio of the step's matmul FLOPs:
// the layers as bench/lstm.ts counts them, plus the softmax).
//
// TensorFlow.js: one training step of the same LSTM language model in tfjs-layers
// (embedding -> lstm(returnSequences) -> dense softmax, Adagrad, sparse categorical
// cross-entropy, trainOnBatch) on the same adapter, against flstm's same model (lstm cell, no
// projection, full softmax, Adagrad).
//
// One step = encode (the synchronous calls) + fl.sync(); steps carry the LSTM state as the
// trainer does; the cells take turns step by step, so a shared machine's load falls on all alike. Word ids are seeded and Zipf-like (bench/util.ts zipfIds), so a batch touches
// about as many embedding rows as text does.
import * as fl from '../src/index.js';
import { LanguageModel } from '../src/nn/lm.js';
import type { LSTMState } from '../src/nn/lstm.js';
import { sampleCandidates } from '../src/ops/sampled_softmax.js';
import { makeOptimizer, stepOptions, stepSeed, trainStep } from '../src/train/step.js';
import type { TrainConfig } from '../src/train/config.js';
import type { KernelTime } from '../src/gpu/profiler.js';
import { fmtMs, median, zipfIds } from './util.js';
import { loadLayers } from './tfjs.js';
import type { SuiteContext } from './report.js';

export interface LmConfig {
  vocab: number;
  emb: number;
  layers: number;
  hidden: number;
  /** 0: no projection. */
  proj: number;
  T: number;
  B: number;
  /** 0: full softmax. */
  sampled: number;
  optimizer: 'adagrad';
  lr: number;
  /** Global-norm clip of the LSTM weights (0: none), as the trainer does. */
  clip: number;
}

export interface CellSpec {
  label: string;
  cell: fl.CellKind;
  factor?: number;
  groups?: number;
  /** 'f16': the matmuls read f16 copies of the weight matrices and their inputs. */
  precision?: 'f16';
}

/** The cell comparison: the paper's setting in small (2 layers with projection, sampled softmax). */
export const STEP_MODEL: LmConfig = {
  vocab: 10000,
  emb: 256,
  layers: 2,
  hidden: 512,
  proj: 256,
  T: 20,
  B: 32,
  sampled: 1024,
  optimizer: 'adagrad',
  lr: 0.2,
  clip: 1.0,
};
export const STEP_CELLS: CellSpec[] = [
  { label: 'LSTM', cell: 'lstm' },
  { label: 'F-LSTM r=128', cell: 'flstm', factor: 128 },
  { label: 'G-LSTM k=2', cell: 'glstm', groups: 2 },
  { label: 'G-LSTM k=4', cell: 'glstm', groups: 4 },
];
/** Measured beside the cells where the adapter has shader-f16: the same LSTM with --precision f16. */
export const F16_CELL: CellSpec = { label: 'LSTM f16', cell: 'lstm', precision: 'f16' };
/** The TensorFlow.js comparison: an LSTM language model of one layer of 512, no projection, full softmax. */
export const COMPARE_MODEL: LmConfig = {
  vocab: 10000,
  emb: 256,
  layers: 1,
  hidden: 512,
  proj: 0,
  T: 20,
  B: 32,
  sampled: 0,
  optimizer: 'adagrad',
  lr: 0.2,
  clip: 0,
};

export interface StepResult {
  label: string;
  cell: fl.CellKind;
  factor?: number;
  groups?: number;
  precision?: 'f16';
  params: number;
  /** Matmul FLOPs of one step (forward + backward), and of its softmax alone. */
  gflop: number;
  softmaxGflop: number;
  /** Median wall time of a step (encode + submit + GPU), and its parts. */
  ms: number;
  minMs: number;
  encodeMs: number;
  /** GPU time of one profiled step (sum over its dispatches), and the top kernels. */
  gpuMs: number | null;
  topKernels: KernelTime[];
  dispatches: number;
  submits: number;
  /** Bind groups and pipelines created per timed step: what the caches do not cover (new
   *  dropout seeds, sampled-softmax shapes that change with the batch, buffers the pool hands out
   *  in a different order when several models take turns). */
  bindGroupsCreated: number;
  pipelinesCreated: number;
  wordsPerSec: number;
  gflops: number;
  steps: number;
  loss: number;
  /** Wall time of each timed step, in the order of the rounds the cells took in turn. */
  walls: number[];
  /** vs the first cell (LSTM): LSTM's fastest step over this cell's fastest (noise on a shared
   *  machine only adds time, so the fastest of the synced steps is the steadiest figure). */
  speedup?: number;
  /** The same from the median over rounds of LSTM's step time over this cell's. */
  speedupMedian?: number;
  ideal?: number;
  ofIdeal?: number;
  ofIdealMedian?: number;
}

/** Forward matmul FLOPs of one layer over T·B rows (bench/lstm.ts's count). */
function layerForwardFlops(c: CellSpec, rows: number, pin: number, n: number, p: number, hasProj: boolean): number {
  const gates =
    c.cell === 'lstm'
      ? (pin + p) * 4 * n
      : c.cell === 'flstm'
        ? (pin + p) * c.factor! + c.factor! * 4 * n
        : ((pin + p) * 4 * n) / c.groups!;
  return 2 * rows * (gates + (hasProj ? n * p : 0));
}

/** Matmul FLOPs of one training step: 3x the forward (the backward has two products per forward one). */
export function stepFlops(m: LmConfig, c: CellSpec, candidates: number): { total: number; softmax: number } {
  const rows = m.T * m.B;
  const p = m.proj || m.hidden;
  let fwd = 0;
  for (let l = 0; l < m.layers; l++) fwd += layerForwardFlops(c, rows, l === 0 ? m.emb : p, m.hidden, p, m.proj > 0);
  const softmax = 2 * rows * p * candidates;
  return { total: 3 * (fwd + softmax), softmax: 3 * softmax };
}

function batches(
  m: LmConfig,
  count: number,
  seed: number,
): { inputs: Int32Array; targets: Int32Array; steps: number; batchSize: number }[] {
  // One stream of words; inputs are words t, targets words t+1, time-major [T, B].
  const out = [];
  for (let i = 0; i < count; i++) {
    const words = zipfIds((m.T + 1) * m.B, m.vocab, seed + i);
    const inputs = new Int32Array(m.T * m.B);
    const targets = new Int32Array(m.T * m.B);
    for (let t = 0; t < m.T; t++) {
      for (let b = 0; b < m.B; b++) {
        inputs[t * m.B + b] = words[b * (m.T + 1) + t];
        targets[t * m.B + b] = words[b * (m.T + 1) + t + 1];
      }
    }
    out.push({ inputs, targets, steps: m.T, batchSize: m.B });
  }
  return out;
}

function trainConfig(m: LmConfig, c: CellSpec): TrainConfig {
  return {
    data: 'synthetic',
    batch: m.B,
    bptt: m.T,
    optimizer: m.optimizer,
    lr: m.lr,
    clip: m.clip,
    sampled: m.sampled,
    seed: 1,
    model: {
      cell: c.cell,
      layers: m.layers,
      emb: m.emb,
      hidden: m.hidden,
      proj: m.proj,
      factor: c.factor,
      groups: c.groups,
      dropout: 0,
      precision: c.precision,
    },
  };
}

/**
 * One model and optimizer being stepped: warm-up steps, timed steps (each synced), one
 * profiled step. Several runners can take turns (round-robin), so that on a shared machine
 * every cell sees the same load and their ratios hold even when the absolute times drift.
 */
class StepRunner {
  private readonly cfg: TrainConfig;
  private readonly model: LanguageModel;
  private readonly opt: ReturnType<typeof makeOptimizer>;
  private readonly data: ReturnType<typeof batches>;
  private state: LSTMState[] | undefined;
  private lossT: fl.Tensor | null = null;
  private i = 0;
  private readonly walls: number[] = [];
  private readonly encodes: number[] = [];
  private dispatches = 0;
  private submits = 0;
  private bindGroups = 0;
  private pipelinesMade = 0;
  private gpuMs: number | null = null;
  private top: KernelTime[] = [];

  constructor(
    private readonly ctx: SuiteContext,
    readonly m: LmConfig,
    readonly c: CellSpec,
    count: number,
  ) {
    this.cfg = trainConfig(m, c);
    this.model = new LanguageModel({
      vocabSize: m.vocab,
      emb: m.emb,
      layers: m.layers,
      hidden: m.hidden,
      proj: m.proj,
      cell: c.cell,
      factor: c.factor,
      groups: c.groups,
      dropout: 0,
      seed: 1,
      precision: c.precision,
    });
    this.opt = makeOptimizer(this.cfg, this.model);
    this.data = batches(m, count, 1000);
  }

  /** Encodes one step (the trainer's trainStep), carrying the state. */
  private encode(): void {
    const prev = this.state;
    const b = this.data[this.i % this.data.length];
    const seed = stepSeed(this.cfg.seed, this.i++);
    fl.tidy(() => {
      const r = trainStep(this.model, this.opt, b, this.state, stepOptions(this.cfg, seed));
      this.lossT?.dispose();
      this.lossT = r.loss.keep();
      this.state = r.state.map((s) => ({ h: s.h.keep(), c: s.c.keep() }));
    });
    prev?.forEach((x) => {
      x.h.dispose();
      x.c.dispose();
    });
  }

  async warm(n: number): Promise<void> {
    for (let k = 0; k < n; k++) this.encode();
    await fl.sync();
  }

  async timed(): Promise<void> {
    const s0 = fl.stats();
    const [d0, u0, b0, p0] = [s0.dispatches, s0.submits, s0.bindGroupsCreated, s0.pipelines];
    const t0 = performance.now();
    this.encode();
    const t1 = performance.now();
    await fl.sync();
    this.walls.push(performance.now() - t0);
    this.encodes.push(t1 - t0);
    const s1 = fl.stats();
    this.dispatches += s1.dispatches - d0;
    this.submits += s1.submits - u0;
    this.bindGroups += s1.bindGroupsCreated - b0;
    this.pipelinesMade += s1.pipelines - p0;
  }

  async profiled(label: string): Promise<void> {
    if (!fl.info().features.includes('timestamp-query')) return;
    fl.startProfiling();
    this.encode();
    const prof = await fl.stopProfiling();
    this.gpuMs = prof.reduce((a, k) => a + k.ms, 0);
    this.top = prof.slice(0, 8);
    this.ctx.profiles[label] = prof;
  }

  async result(): Promise<StepResult> {
    const { m, c } = this;
    const steps = this.walls.length;
    const loss = this.lossT ? ((await this.lossT.data()) as Float32Array)[0] : NaN;
    const candidates =
      m.sampled > 0
        ? sampleCandidates(this.data[0].targets, m.vocab, m.sampled, (stepSeed(this.cfg.seed, 0) * 40503 + 17) >>> 0).ids.length
        : m.vocab;
    const f = stepFlops(m, c, candidates);
    const ms = median(this.walls);
    return {
      label: c.label,
      cell: c.cell,
      factor: c.factor,
      groups: c.groups,
      precision: c.precision,
      params: this.model.numParams(),
      gflop: f.total / 1e9,
      softmaxGflop: f.softmax / 1e9,
      ms,
      minMs: Math.min(...this.walls),
      encodeMs: median(this.encodes),
      gpuMs: this.gpuMs,
      topKernels: this.top,
      dispatches: this.dispatches / steps,
      submits: this.submits / steps,
      bindGroupsCreated: this.bindGroups / steps,
      pipelinesCreated: this.pipelinesMade / steps,
      wordsPerSec: (m.T * m.B) / (ms / 1e3),
      gflops: f.total / 1e9 / (ms / 1e3),
      steps,
      loss,
      walls: [...this.walls],
    };
  }

  dispose(): void {
    this.state?.forEach((x) => {
      x.h.dispose();
      x.c.dispose();
    });
    this.lossT?.dispose();
    this.opt.dispose();
    this.model.dispose();
  }
}

/**
 * `warm` warm-up steps, then `steps` timed steps of each cell taken in turn, then one profiled
 * step each. Models stepped by turns share the buffer pool: their first few steps settle
 * which buffers each one's temporaries get (and make those bind groups); the full suite warms
 * up past that, so the timed steps show the steady state.
 */
export async function measureSteps(
  ctx: SuiteContext,
  m: LmConfig,
  cells: CellSpec[],
  steps: number,
  warm = ctx.quick ? 2 : 5,
): Promise<StepResult[]> {
  const runners: StepRunner[] = [];
  try {
    for (const c of cells) {
      const r = new StepRunner(ctx, m, c, warm + steps + 1);
      runners.push(r);
      await r.warm(warm);
    }
    for (let k = 0; k < steps; k++) for (const r of runners) await r.timed();
    for (const r of runners) await r.profiled(`step ${r.c.label}${m === COMPARE_MODEL ? ' (tfjs comparison model)' : ''}`);
    const out: StepResult[] = [];
    for (const r of runners) out.push(await r.result());
    return out;
  } finally {
    runners.forEach((r) => r.dispose());
  }
}

export interface StepSuite {
  model: LmConfig;
  /** Timed steps per cell, taken round-robin over the cells. */
  steps: number;
  cells: StepResult[];
}

export async function runStepSuite(ctx: SuiteContext): Promise<StepSuite> {
  const steps = ctx.quick ? 2 : 9;
  const t0 = performance.now();
  let cells: StepResult[] = [];
  try {
    const f16 = fl.info().features.includes('shader-f16') ? [F16_CELL] : [];
    cells = await measureSteps(ctx, STEP_MODEL, [...STEP_CELLS, ...f16], steps);
    const base = cells[0];
    for (const r of cells) {
      if (!Number.isFinite(r.loss)) ctx.failures.push(`training step ${r.label}: the loss is ${r.loss}`);
      r.speedup = base.minMs / r.minMs;
      // Per round: the two steps ran close in time, so a shared machine's changing load
      // partly cancels in their ratio; the median over rounds drops disturbed rounds.
      r.speedupMedian = median(r.walls.map((w, i) => base.walls[i] / w));
      r.ideal = base.gflop / r.gflop;
      r.ofIdeal = r.speedup / r.ideal;
      r.ofIdealMedian = r.speedupMedian / r.ideal;
      ctx.log(
        `  ${r.label.padEnd(14)} ${fmtMs(r.ms).padStart(7)} ms/step ${r.wordsPerSec.toFixed(0).padStart(6)} words/s  encode ${fmtMs(r.encodeMs)} ms, GPU ${r.gpuMs === null ? '-' : fmtMs(r.gpuMs)} ms, ${r.dispatches} dispatches, ${r.bindGroupsCreated.toFixed(1)} new bind groups, ${r.speedup.toFixed(2)}x LSTM (ideal ${r.ideal.toFixed(2)}x)`,
      );
    }
  } catch (e) {
    ctx.failures.push(`training steps: ${(e as Error).message}`);
    ctx.log(`  FAILED: ${(e as Error).message}`);
  }
  ctx.timings['steps (cells)'] = (performance.now() - t0) / 1e3;
  return { model: STEP_MODEL, steps, cells };
}

// ---------------------------------------------------------------------------------------
// TensorFlow.js (tfjs-layers) on the same model

export interface TfjsLmResult {
  ms: number;
  wordsPerSec: number;
  steps: number;
  warmupMs: number;
  loss: number;
  layers: string;
}

export interface LmCompare {
  model: LmConfig;
  flstm: StepResult | null;
  tfjs: TfjsLmResult | null;
  tfjsError: string | null;
  /** flstm words/s over tfjs-layers words/s (the steps taken by turns). */
  ratio: number | null;
}

/** The same language model in tfjs-layers: built, one warm-up step, then timed steps. */
class TfjsLmRunner {
  private constructor(
    private readonly ctx: SuiteContext,
    private readonly m: LmConfig,
    private readonly model: import('@tensorflow/tfjs-layers').Sequential,
    private readonly xs: import('@tensorflow/tfjs-core').Tensor[],
    private readonly ys: import('@tensorflow/tfjs-core').Tensor[],
    readonly layers: string,
  ) {}

  readonly walls: number[] = [];
  warmupMs = NaN;
  loss = NaN;
  private i = 0;

  static async create(ctx: SuiteContext, m: LmConfig, count: number): Promise<TfjsLmRunner> {
    const tf = ctx.tfs!.tf;
    const tfl = await loadLayers(tf);
    const model = tfl.sequential();
    model.add(tfl.layers.embedding({ inputDim: m.vocab, outputDim: m.emb, inputLength: m.T }));
    // glorotUniform, not the default orthogonal recurrent initializer: tfjs builds that one by a QR
    // decomposition in tensor ops, which on this backend takes minutes and gigabytes for 512 x 2048.
    model.add(tfl.layers.lstm({ units: m.hidden, returnSequences: true, recurrentInitializer: 'glorotUniform' }));
    model.add(tfl.layers.dense({ units: m.vocab, activation: 'softmax' }));
    model.compile({ optimizer: tf.train.adagrad(m.lr, 1.0), loss: 'sparseCategoricalCrossentropy' });
    // Batch-major [B, T] for Keras; the same words as flstm's time-major batches.
    const data = batches(m, count, 1000);
    const toBT = (a: Int32Array) => {
      const o = new Float32Array(m.T * m.B);
      for (let t = 0; t < m.T; t++) for (let b = 0; b < m.B; b++) o[b * m.T + t] = a[t * m.B + b];
      return o;
    };
    const xs = data.map((d) => tf.tensor2d(toBT(d.inputs), [m.B, m.T]));
    const ys = data.map((d) => tf.tensor3d(toBT(d.targets), [m.B, m.T, 1]));
    return new TfjsLmRunner(ctx, m, model, xs, ys, tfl.version_layers);
  }

  private async step(): Promise<number> {
    const k = this.i++ % this.xs.length;
    const r = await this.model.trainOnBatch(this.xs[k], this.ys[k]); // reads the loss back: waits for the GPU
    await this.ctx.tfs!.sync();
    return Array.isArray(r) ? r[0] : r;
  }

  async warm(): Promise<void> {
    const t0 = performance.now();
    await this.step();
    this.warmupMs = performance.now() - t0;
  }

  async timed(): Promise<void> {
    const t0 = performance.now();
    this.loss = await this.step();
    this.walls.push(performance.now() - t0);
  }

  result(): TfjsLmResult {
    const ms = median(this.walls);
    return {
      ms,
      wordsPerSec: (this.m.T * this.m.B) / (ms / 1e3),
      steps: this.walls.length,
      warmupMs: this.warmupMs,
      loss: this.loss,
      layers: this.layers,
    };
  }

  dispose(): void {
    this.xs.forEach((x) => x.dispose());
    this.ys.forEach((y) => y.dispose());
    this.model.dispose();
  }
}

/**
 * flstm's LSTM language model and tfjs-layers' by turns: a step of one, a step of the other,
 * so that both see the same load; ratio = tfjs median step time / flstm median step time.
 */
export async function runLmCompare(ctx: SuiteContext): Promise<LmCompare> {
  const m = COMPARE_MODEL;
  const out: LmCompare = { model: m, flstm: null, tfjs: null, tfjsError: ctx.tfs ? null : (ctx.tfjsError ?? 'tfjs not run'), ratio: null };
  const rounds = ctx.quick ? 1 : 2;
  const warm = ctx.quick ? 2 : 3; // flstm's first steps make its optimizer state and bind groups
  const t0 = performance.now();
  let fr: StepRunner | null = null;
  let tr: TfjsLmRunner | null = null;
  try {
    // flstm's steps are cheap beside tfjs's: three per round give its median enough samples
    // that one step disturbed by the other side's clean-up does not set it.
    const perRound = 3;
    fr = new StepRunner(ctx, m, { label: 'LSTM (full softmax)', cell: 'lstm' }, warm + rounds * perRound + 2);
    await fr.warm(warm);
    if (ctx.tfs) {
      try {
        tr = await TfjsLmRunner.create(ctx, m, rounds + 1);
        await tr.warm();
        ctx.log(`  tfjs-layers warm-up step ${fmtMs(tr.warmupMs)} ms`);
      } catch (e) {
        out.tfjsError = (e as Error).message.split('\n')[0];
        ctx.log(`  tfjs-layers: not run: ${out.tfjsError}`);
        tr?.dispose();
        tr = null;
      }
    }
    // flstm gets one extra round at the end of its own (cheap), so it has >= 2 samples.
    for (let k = 0; k < rounds; k++) {
      for (let j = 0; j < perRound; j++) await fr.timed();
      if (tr) {
        try {
          await tr.timed();
        } catch (e) {
          out.tfjsError = (e as Error).message.split('\n')[0];
          ctx.log(`  tfjs-layers: failed: ${out.tfjsError}`);
          tr.dispose();
          tr = null;
        }
      }
    }
    await fr.timed();
    await fr.profiled('step LSTM (full softmax) (tfjs comparison model)');
    out.flstm = await fr.result();
    const r = out.flstm;
    if (!Number.isFinite(r.loss)) ctx.failures.push(`LM step (flstm): the loss is ${r.loss}`);
    ctx.log(
      `  flstm        ${fmtMs(r.ms).padStart(7)} ms/step ${r.wordsPerSec.toFixed(0).padStart(6)} words/s  encode ${fmtMs(r.encodeMs)} ms, GPU ${r.gpuMs === null ? '-' : fmtMs(r.gpuMs)} ms, ${r.dispatches} dispatches, ${r.bindGroupsCreated} new bind groups`,
    );
    if (tr) {
      out.tfjs = tr.result();
      ctx.log(`  tfjs-layers  ${fmtMs(out.tfjs.ms).padStart(7)} ms/step ${out.tfjs.wordsPerSec.toFixed(1).padStart(6)} words/s`);
      out.ratio = out.tfjs.ms / r.ms;
    }
  } catch (e) {
    ctx.failures.push(`LM step (flstm): ${(e as Error).message}`);
    ctx.log(`  flstm: FAILED: ${(e as Error).message}`);
  } finally {
    fr?.dispose();
    tr?.dispose();
  }
  ctx.timings['lm compare (flstm and tfjs-layers)'] = (performance.now() - t0) / 1e3;
  return out;
}
