// bench/report.ts: the suite's results: types, the terminal tables, the JSON document and a
// self-contained SVG chart (flstm vs TensorFlow.js, cell speed-ups vs ideal, fraction of peak).
import type { KernelTime } from '../src/gpu/profiler.js';
import type { TfjsSide } from './tfjs.js';
import type { Ceilings } from './ceilings.js';
import type { LmCompare, StepSuite } from './step.js';
import { fmtG, fmtMs, geomean, table } from './util.js';

export interface SuiteContext {
  quick: boolean;
  /** Timing target per kernel (ms). */
  targetMs: number;
  tfs: TfjsSide | null;
  tfjsError: string | null;
  log(line: string): void;
  /** Reference mismatches and errors: the run exits 1 when any. */
  failures: string[];
  /** Seconds spent per part. */
  timings: Record<string, number>;
  /** GPU time per kernel of the profiled runs. */
  profiles: Record<string, KernelTime[]>;
}

export interface KernelRow {
  group: string;
  name: string;
  dims: string;
  /** The kernel(s) that ran. */
  kernel: string;
  /** Median per run: wall time (encode + submit + GPU) unless timing is 'gpu' (profiler, per call). */
  ms: number;
  timing?: 'wall' | 'gpu';
  unit: 'GFLOP/s' | 'GB/s';
  /** FLOPs or bytes per run. */
  work: number;
  rate: number;
  /** rate over the adapter's ceiling of the same unit. */
  ofPeak: number | null;
  /** What was checked against the float64 reference. */
  check: string;
  /** f16-operand rows: the f32 product's time over this one's, timed by turns. */
  vsF32?: number;
  reps: number;
  tfjs?: { ms: number; rate: number; ratio: number; reps: number };
}

export interface SuiteResult {
  bench: 'flstm-suite';
  version: string;
  date: string;
  node: string;
  adapter: {
    description: string;
    slug: string;
    flstm: Record<string, unknown>;
    tfjs: string | null;
    tfjsVersion: string | null;
    tfjsError: string | null;
  };
  options: { suite: string; quick: boolean; targetMs: number; tfjs: boolean };
  timing: string;
  ceilings: Ceilings | null;
  kernels: KernelRow[];
  step: StepSuite | null;
  compare: LmCompare | null;
  summary: Summary;
  failures: string[];
  profiles: Record<string, KernelTime[]>;
  seconds: Record<string, number>;
  totalSeconds: number;
}

export interface Summary {
  matmul1024VsTfjs: number | null;
  matmulGeomeanVsTfjs: number | null;
  lmStepVsTfjs: number | null;
  lmWordsPerSec: number | null;
  tfjsLmWordsPerSec: number | null;
  cells: { label: string; speedup: number; ideal: number; ofIdeal: number; ofIdealMedian: number | null }[];
  /** The LSTM step with f16 storage (--precision f16) over the f32 one (null: no shader-f16). */
  f16Speedup: number | null;
}

export function summarize(kernels: KernelRow[], step: StepSuite | null, compare: LmCompare | null): Summary {
  const mm = kernels.filter((r) => r.group === 'matmul' && r.tfjs);
  const sq = mm.find((r) => r.name === 'matmul 1024^3');
  return {
    matmul1024VsTfjs: sq?.tfjs?.ratio ?? null,
    matmulGeomeanVsTfjs: mm.length ? geomean(mm.map((r) => r.tfjs!.ratio)) : null,
    lmStepVsTfjs: compare?.ratio ?? null,
    lmWordsPerSec: compare?.flstm?.wordsPerSec ?? null,
    tfjsLmWordsPerSec: compare?.tfjs?.wordsPerSec ?? null,
    cells: (step?.cells ?? [])
      .filter((c) => c.speedup !== undefined && c.cell !== 'lstm')
      .map((c) => ({ label: c.label, speedup: c.speedup!, ideal: c.ideal!, ofIdeal: c.ofIdeal!, ofIdealMedian: c.ofIdealMedian ?? null })),
    f16Speedup: step?.cells.find((c) => c.precision === 'f16')?.speedup ?? null,
  };
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`);

/** The terminal report. */
export function formatReport(r: SuiteResult): string {
  const out: string[] = [];
  out.push(`adapter: ${r.adapter.description}`);
  out.push(
    `tfjs:    ${r.adapter.tfjs ? `${r.adapter.tfjs} (tfjs ${r.adapter.tfjsVersion})` : `not run (${r.adapter.tfjsError ?? 'disabled'})`}`,
  );
  out.push(`date:    ${r.date}   node ${r.node}   flstm ${r.version}${r.options.quick ? '   --quick' : ''}`);
  if (r.ceilings) out.push(`ceilings (measured now): FMA ${fmtG(r.ceilings.gflops)} GFLOP/s, copy ${fmtG(r.ceilings.gbps)} GB/s`);
  kernelsSection(r, out);
  stepSection(r, out);
  compareSection(r, out);
  keyFigures(r, out);
  if (r.failures.length) out.push('', `FAILURES (${r.failures.length}):`, ...r.failures.map((f) => `  ${f}`));
  out.push('', `total ${r.totalSeconds.toFixed(0)} s`);
  return out.join('\n');
}

/** The kernels: checked, then timed beside tfjs. */
function kernelsSection(r: SuiteResult, out: string[]): void {
  if (r.kernels.length) {
    out.push('', 'KERNELS  (checked against float64 references, then timed; ms = median per run; g = GPU time per call from the profiler;');
    out.push('          ceilings: fastest sample, best of two runs; vs tfjs = tfjs ms / flstm ms, the two sampled by turns)');
    out.push(
      table(
        ['kernel', 'dims', 'ms', 'rate', 'unit', 'of peak', 'tfjs ms', 'tfjs rate', 'vs tfjs'],
        r.kernels.map((k) => [
          k.vsF32 ? `${k.name} (${k.vsF32.toFixed(2)}x f32)` : k.name,
          k.dims,
          `${fmtMs(k.ms)}${k.timing === 'gpu' ? ' g' : ''}`,
          fmtG(k.rate),
          k.unit,
          pct(k.ofPeak),
          k.tfjs ? fmtMs(k.tfjs.ms) : '',
          k.tfjs ? fmtG(k.tfjs.rate) : '',
          k.tfjs ? `${k.tfjs.ratio.toFixed(2)}x` : '',
        ]),
        2,
      ),
    );
  }
}

/** The training step of each cell, and its speed-up over LSTM against the FLOP ratio. */
function stepSection(r: SuiteResult, out: string[]): void {
  if (r.step?.cells.length) {
    const m = r.step.model;
    out.push(
      '',
      `TRAINING STEP  vocab ${m.vocab}, emb ${m.emb}, ${m.layers} layer${m.layers > 1 ? 's' : ''} of n ${m.hidden}${m.proj ? ` proj ${m.proj}` : ''}, T ${m.T}, B ${m.B}, ${m.sampled ? `sampled softmax ${m.sampled}` : 'full softmax'}, Adagrad${m.clip ? ` (clip ${m.clip})` : ''}`,
    );
    out.push(
      table(
        [
          'cell',
          'params',
          'GFLOP/step',
          'ms/step',
          'words/s',
          'GFLOP/s',
          'encode ms',
          'GPU ms',
          'dispatch',
          'speed-up',
          'ideal',
          'of ideal',
        ],
        r.step.cells.map((c) => [
          c.label,
          `${(c.params / 1e6).toFixed(2)}M`,
          c.gflop.toFixed(2),
          fmtMs(c.ms),
          c.wordsPerSec.toFixed(0),
          fmtG(c.gflops),
          fmtMs(c.encodeMs),
          c.gpuMs === null ? '-' : fmtMs(c.gpuMs),
          String(c.dispatches),
          c.speedup ? `${c.speedup.toFixed(2)}x` : '',
          c.ideal ? `${c.ideal.toFixed(2)}x` : '',
          pct(c.ofIdeal),
        ]),
      ),
    );
    out.push(
      `ideal = LSTM step FLOPs / cell step FLOPs (matmuls of the layers and the softmax, forward + backward); ms/step = median of ${r.step.steps} synced steps per cell, the cells taking turns; speed-up = LSTM's fastest step / the cell's fastest`,
    );
    out.push(
      "GPU ms = sum of the dispatches' GPU times in one separate profiled step (a pass per dispatch: on a software driver it can exceed the unprofiled wall time)",
    );
  }
}

/** The LM training step beside tfjs-layers. */
function compareSection(r: SuiteResult, out: string[]): void {
  if (r.compare) {
    const c = r.compare;
    const m = c.model;
    out.push(
      '',
      `FLSTM vs TENSORFLOW.JS  LM training step: vocab ${m.vocab}, emb ${m.emb}, LSTM ${m.hidden}, T ${m.T}, B ${m.B}, full softmax, Adagrad`,
    );
    const rows: string[][] = [];
    if (c.flstm)
      rows.push([
        'flstm',
        fmtMs(c.flstm.ms),
        c.flstm.wordsPerSec.toFixed(0),
        fmtMs(c.flstm.encodeMs),
        c.flstm.gpuMs === null ? '-' : fmtMs(c.flstm.gpuMs),
        String(c.flstm.dispatches),
      ]);
    if (c.tfjs) rows.push([`tfjs-layers ${c.tfjs.layers}`, fmtMs(c.tfjs.ms), c.tfjs.wordsPerSec.toFixed(1), '', '', '']);
    else rows.push(['tfjs-layers', '-', '-', '', '', `(${c.tfjsError})`]);
    out.push(table(['', 'ms/step', 'words/s', 'encode ms', 'GPU ms', 'dispatch'], rows));
    if (c.ratio !== null) out.push(`flstm ${c.ratio.toFixed(2)}x tfjs-layers in words/s (median step times; the two stepped by turns)`);
  }
}

/** The figures the project holds itself to. */
function keyFigures(r: SuiteResult, out: string[]): void {
  const s = r.summary;
  out.push('', 'KEY FIGURES');
  out.push(
    `  matmul 1024^3, flstm vs tfjs-webgpu:           ${s.matmul1024VsTfjs === null ? '-' : `${s.matmul1024VsTfjs.toFixed(2)}x`}   (target >= 5x)`,
  );
  if (s.matmulGeomeanVsTfjs !== null) out.push(`  matmul, all shapes (geometric mean):            ${s.matmulGeomeanVsTfjs.toFixed(2)}x`);
  out.push(
    `  LM training step, flstm vs tfjs-layers words/s: ${s.lmStepVsTfjs === null ? '-' : `${s.lmStepVsTfjs.toFixed(2)}x (${s.lmWordsPerSec!.toFixed(0)} vs ${s.tfjsLmWordsPerSec!.toFixed(1)})`}   (target >= 10x)`,
  );
  for (const c of s.cells)
    out.push(
      `  ${c.label.padEnd(14)} speed-up over LSTM ${c.speedup.toFixed(2)}x, ideal ${c.ideal.toFixed(2)}x: ${pct(c.ofIdeal)} of ideal   (target >= 80%; median of rounds ${pct(c.ofIdealMedian)})`,
    );
  if (s.f16Speedup !== null) out.push(`  LSTM step with f16 storage (--precision f16):  ${s.f16Speedup.toFixed(2)}x the f32 step`);
}

// ---------------------------------------------------------------------------------------
// SVG

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const COLORS = {
  flstm: '#2f6fb3',
  tfjs: '#e07b39',
  ideal: '#b9c3cf',
  measured: '#2f8f5b',
  peak: '#7a5cb8',
  grid: '#dde3ea',
  text: '#1d2733',
  muted: '#5b6773',
};

type TextStyle = { size?: number; anchor?: string; color?: string; weight?: string };

const SVG_W = 960;
const LABEL_W = 230;
const BAR_W = 520;
const X0 = 20 + LABEL_W;

/** The drawing so far: its elements and the next free line (y). */
class Canvas {
  readonly parts: string[] = [];
  y = 20;
  text(x: number, yy: number, s: string, o: TextStyle = {}): void {
    this.parts.push(
      `<text x="${x.toFixed(1)}" y="${yy.toFixed(1)}" font-size="${o.size ?? 12}" text-anchor="${o.anchor ?? 'start'}" fill="${o.color ?? COLORS.text}"${o.weight ? ` font-weight="${o.weight}"` : ''}>${esc(s)}</text>`,
    );
  }
  rect(x: number, yy: number, w: number, h: number, color: string): void {
    this.parts.push(
      `<rect x="${x.toFixed(1)}" y="${yy.toFixed(1)}" width="${Math.max(w, 0.5).toFixed(1)}" height="${h}" fill="${color}" rx="2"/>`,
    );
  }
  /** A panel's title and its two-entry legend (each [x of the swatch, color, label]). */
  heading(title: string, legend: [number, string, string][]): void {
    this.text(20, this.y, title, { size: 14, weight: 'bold' });
    this.y += 8;
    for (const [x, color, label] of legend) {
      this.rect(x, this.y - 18, 12, 10, color);
      this.text(x + 16, this.y - 9, label, { size: 11 });
    }
    this.y += 8;
  }
}

/** Panel 1: flstm vs tfjs, each pair scaled to its larger bar. */
function pairsPanel(c: Canvas, r: SuiteResult): void {
  const pairs: { label: string; a: number; b: number | null; unit: string; ratio: number | null }[] = [];
  for (const k of r.kernels.filter((k) => k.group === 'matmul')) {
    pairs.push({ label: k.name, a: k.rate, b: k.tfjs?.rate ?? null, unit: 'GFLOP/s', ratio: k.tfjs?.ratio ?? null });
  }
  if (r.compare?.flstm) {
    pairs.push({
      label: 'LM training step',
      a: r.compare.flstm.wordsPerSec,
      b: r.compare.tfjs?.wordsPerSec ?? null,
      unit: 'words/s',
      ratio: r.compare.ratio,
    });
  }
  if (!pairs.length) return;
  c.heading('flstm vs TensorFlow.js on the same adapter (each pair scaled to its larger bar)', [
    [SVG_W - 250, COLORS.flstm, 'flstm'],
    [SVG_W - 180, COLORS.tfjs, r.compare?.tfjs ? 'tfjs-webgpu / tfjs-layers' : 'tfjs-webgpu'],
  ]);
  for (const p of pairs) {
    const max = Math.max(p.a, p.b ?? 0);
    c.text(X0 - 8, c.y + 14, p.label, { anchor: 'end' });
    c.rect(X0, c.y, (p.a / max) * BAR_W, 11, COLORS.flstm);
    c.text(X0 + (p.a / max) * BAR_W + 4, c.y + 10, `${fmtG(p.a)} ${p.unit}`, { size: 10, color: COLORS.muted });
    if (p.b !== null) {
      c.rect(X0, c.y + 13, (p.b / max) * BAR_W, 11, COLORS.tfjs);
      c.text(X0 + (p.b / max) * BAR_W + 4, c.y + 23, `${fmtG(p.b)} ${p.unit}`, { size: 10, color: COLORS.muted });
    } else c.text(X0 + 4, c.y + 23, 'tfjs not run', { size: 10, color: COLORS.muted });
    if (p.ratio !== null) c.text(SVG_W - 20, c.y + 17, `${p.ratio.toFixed(2)}x`, { anchor: 'end', weight: 'bold' });
    c.y += 32;
  }
  c.y += 14;
}

/** Panel 2: each cell's training-step speed-up over LSTM next to its ideal (FLOP) ratio. */
function speedupPanel(c: Canvas, r: SuiteResult): void {
  const cells = (r.step?.cells ?? []).filter((x) => x.speedup !== undefined);
  if (!cells.length) return;
  const m = r.step!.model;
  c.heading(
    `Training-step speed-up over LSTM vs ideal FLOP ratio (n ${m.hidden}, p ${m.proj || m.hidden}, ${m.layers} layers, ${m.sampled ? `sampled ${m.sampled}` : 'full softmax'}; fastest steps)`,
    [
      [SVG_W - 250, COLORS.measured, 'measured'],
      [SVG_W - 160, COLORS.ideal, 'ideal (FLOPs)'],
    ],
  );
  const max = Math.max(...cells.map((x) => Math.max(x.speedup!, x.ideal!)));
  const one = X0 + BAR_W / max;
  for (const x of cells) {
    // The bars compare the fastest steps, so the label gives the fastest step's words/s.
    c.text(X0 - 8, c.y + 14, `${x.label} (${((m.T * m.B) / (x.minMs / 1e3)).toFixed(0)} words/s)`, { anchor: 'end' });
    c.rect(X0, c.y, (x.ideal! / max) * BAR_W, 11, COLORS.ideal);
    c.text(X0 + (x.ideal! / max) * BAR_W + 4, c.y + 10, `${x.ideal!.toFixed(2)}x`, { size: 10, color: COLORS.muted });
    c.rect(X0, c.y + 13, (x.speedup! / max) * BAR_W, 11, COLORS.measured);
    c.text(X0 + (x.speedup! / max) * BAR_W + 4, c.y + 23, `${x.speedup!.toFixed(2)}x`, { size: 10, color: COLORS.muted });
    c.text(SVG_W - 20, c.y + 17, `${pct(x.ofIdeal)} of ideal`, { anchor: 'end', weight: 'bold' });
    c.y += 32;
  }
  c.parts.push(
    `<line x1="${one.toFixed(1)}" y1="${c.y - 32 * cells.length - 4}" x2="${one.toFixed(1)}" y2="${c.y - 4}" stroke="${COLORS.muted}" stroke-dasharray="3,3"/>`,
  );
  c.text(one, c.y + 8, '1x', { size: 10, anchor: 'middle', color: COLORS.muted });
  c.y += 22;
}

/** Panel 3: each kernel's fraction of the adapter's measured ceiling. */
function peakPanel(c: Canvas, r: SuiteResult): void {
  const ks = r.kernels.filter((k) => k.group !== 'ceiling' && k.ofPeak !== null);
  if (!ks.length) return;
  c.text(20, c.y, "Fraction of the adapter's measured ceiling (GFLOP/s vs the FMA kernel, GB/s vs the copy kernel)", {
    size: 14,
    weight: 'bold',
  });
  c.y += 14;
  const max = Math.max(1, ...ks.map((k) => k.ofPeak!));
  for (const k of ks) {
    c.text(X0 - 8, c.y + 10, k.name, { anchor: 'end', size: 11 });
    c.rect(X0, c.y, (k.ofPeak! / max) * BAR_W, 12, COLORS.peak);
    c.text(X0 + (k.ofPeak! / max) * BAR_W + 4, c.y + 10, `${pct(k.ofPeak)} (${fmtG(k.rate)} ${k.unit})`, { size: 10, color: COLORS.muted });
    c.y += 17;
  }
  const full = X0 + BAR_W / max;
  c.parts.push(
    `<line x1="${full.toFixed(1)}" y1="${c.y - 17 * ks.length - 2}" x2="${full.toFixed(1)}" y2="${c.y}" stroke="${COLORS.muted}" stroke-dasharray="3,3"/>`,
  );
  c.text(full, c.y + 12, '100%', { size: 10, anchor: 'middle', color: COLORS.muted });
  c.y += 24;
}

/** A self-contained SVG: flstm vs tfjs (paired bars), cell speed-ups vs ideal, fraction of peak. */
export function renderSvg(r: SuiteResult): string {
  const c = new Canvas();
  c.text(20, c.y + 6, `flstm benchmark: ${r.adapter.description}`, { size: 16, weight: 'bold' });
  c.y += 24;
  c.text(
    20,
    c.y,
    `${r.date.slice(0, 10)} · node ${r.node} · flstm ${r.version}${r.options.quick ? ' · quick' : ''}${r.ceilings ? ` · measured ceilings: FMA ${fmtG(r.ceilings.gflops)} GFLOP/s, copy ${fmtG(r.ceilings.gbps)} GB/s` : ''}`,
    { color: COLORS.muted },
  );
  c.y += 26;
  pairsPanel(c, r);
  speedupPanel(c, r);
  peakPanel(c, r);
  if (r.failures.length) {
    c.text(20, c.y, `${r.failures.length} check(s) failed: see the JSON`, { color: '#b3261e', weight: 'bold' });
    c.y += 18;
  }
  const H = c.y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${SVG_W}" height="${H}" viewBox="0 0 ${SVG_W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${SVG_W}" height="${H}" fill="#ffffff"/>`,
    ...c.parts,
    '</svg>',
    '',
  ].join('\n');
}
