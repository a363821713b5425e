// The chart of one run: a self-contained SVG with the training loss per reported step and,
// once there are two or more validations, their perplexity in a second panel over the same
// step axis (log scale by default). A single validation is a line of the summary, not a
// panel of one point. A sampled-softmax loss is labelled so (it is below the model's loss).
// renderChart is a pure function of the records (the browser demo uses it); writeChart loads
// node:fs lazily.
import type { MetricsRecord } from './metrics.js';
import { drawLegend, drawPanel, esc, linearAxis, logAxis, scaler, svgOpen, type PanelSpec, type Pt } from './svg_plot.js';

export interface ChartOptions {
  width?: number;
  height?: number;
  title?: string;
  /** Log scale for the perplexity axis (default true). */
  logPerplexity?: boolean;
  /** Which records are training reports (default 'train') and evaluations (default 'valid'). */
  trainSplit?: string;
  validSplit?: string;
}

export const COLORS = {
  background: '#ffffff',
  text: '#212529',
  muted: '#6c757d',
  axis: '#adb5bd',
  grid: '#edf0f2',
  train: '#1c7ed6',
  valid: '#e8590c',
};

/** The finite points (step or `x`, value) of one split's records, in x order. */
export function series(
  records: readonly MetricsRecord[],
  split: string,
  value: (r: MetricsRecord) => number | undefined,
  positive: boolean,
  x: (r: MetricsRecord) => number = (r) => r.step,
): Pt[] {
  const out: Pt[] = [];
  for (const r of records) {
    if (!r || r.split !== split || typeof r.step !== 'number' || !Number.isFinite(r.step)) continue;
    const v = value(r);
    const xv = x(r);
    if (typeof v !== 'number' || !Number.isFinite(v) || (positive && v <= 0) || typeof xv !== 'number' || !Number.isFinite(xv)) continue;
    out.push([xv, v]);
  }
  return out
    .map((p, i) => [p, i] as const)
    .sort((a, b) => a[0][0] - b[0][0] || a[1] - b[1])
    .map(([p]) => p);
}

/** A validation record's perplexity: its ppl, or exp(loss). */
export const pplOf = (r: MetricsRecord): number => (typeof r.ppl === 'number' ? r.ppl : Math.exp(r.loss));

/** What the training loss is: the sampled softmax's when the records say so. */
export function trainLossLabel(records: readonly MetricsRecord[], split = 'train'): string {
  const sampled = records.some((r) => r?.split === split && r.objective === 'sampled-softmax');
  return sampled ? 'training loss, sampled softmax (nats)' : 'training loss (nats)';
}

function summaryLine(train: Pt[], valid: Pt[]): string {
  const parts: string[] = [];
  if (train.length) {
    const [s, v] = train[train.length - 1]!;
    parts.push(`loss ${v.toFixed(3)} at step ${s}`);
  }
  if (valid.length) {
    const [s, v] = valid[valid.length - 1]!;
    const best = Math.min(...valid.map((p) => p[1]));
    parts.push(
      valid.length > 1
        ? `validation ppl ${v.toFixed(1)} at step ${s} (best ${best.toFixed(1)})`
        : `validation ppl ${v.toFixed(1)} at step ${s}`,
    );
  }
  return parts.join(' · ');
}

/**
 * The chart as an SVG document. Training points: records of split `trainSplit` with a finite
 * loss; validation points: records of split `validSplit` with a finite positive perplexity
 * (`ppl`, or exp(loss)). Each series is one polyline with one vertex per point; validation
 * points also get a marker with a tooltip.
 */
export function renderChart(records: readonly MetricsRecord[], opts: ChartOptions = {}): string {
  const W = Math.max(320, opts.width ?? 760);
  const H = Math.max(260, opts.height ?? 520);
  const logPpl = opts.logPerplexity ?? true;
  const recs = records ?? [];
  const train = series(recs, opts.trainSplit ?? 'train', (r) => r.loss, false);
  const valid = series(recs, opts.validSplit ?? 'valid', pplOf, logPpl);
  const showValid = valid.length > 1;

  const steps = [...train.map((p) => p[0]), ...valid.map((p) => p[0])];
  const xAxis = linearAxis(steps.length ? [0, ...steps] : [], [0, 100], 0, true);
  const left = 70;
  const right = W - 24;
  const top = 64;
  const gap = 48;
  const bottom = H - 44;
  const panels = chartPanels(recs, train, valid, { top, gap, bottom, logPpl, trainSplit: opts.trainSplit });
  const sx = scaler(xAxis, left, right);
  const o: string[] = [];
  const title = opts.title ?? 'flstm training';
  svgOpen(o, W, H, title, COLORS.background, COLORS.text);
  o.push(`<text x="${left}" y="24" font-size="16" font-weight="600">${esc(title)}</text>`);
  // With no points there is nothing to sum up: the empty panel says so, once.
  const summary = summaryLine(train, valid);
  if (summary) o.push(`<text x="${left}" y="44" fill="${COLORS.muted}">${esc(summary)}</text>`);
  const legend = [{ label: 'training loss', color: COLORS.train, marker: false }];
  if (showValid) legend.push({ label: 'validation perplexity', color: COLORS.valid, marker: true });
  drawLegend(o, legend, right, 20, COLORS.background);
  for (const p of panels) drawPanel(o, p, xAxis, sx, left, right, COLORS.background, COLORS);
  o.push(`<text x="${(left + right) / 2}" y="${H - 8}" text-anchor="middle">step</text>`);
  o.push('</svg>');
  return `${o.join('\n')}\n`;
}

/** The chart's panels: the training loss, and below it the validation perplexity when there are two points of it or more. */
function chartPanels(
  recs: readonly MetricsRecord[],
  train: [number, number][],
  valid: [number, number][],
  at: { top: number; gap: number; bottom: number; logPpl: boolean; trainSplit?: string },
): PanelSpec[] {
  const { top, gap, bottom, logPpl } = at;
  const showValid = valid.length > 1;
  const panelH = showValid ? (bottom - top - gap) / 2 : bottom - top;
  const panels: PanelSpec[] = [
    {
      axis: linearAxis(
        train.map((p) => p[1]),
        [0, 10],
        0.05,
        true,
      ),
      y0: top,
      y1: top + panelH,
      label: trainLossLabel(recs, at.trainSplit),
      cls: 'train-loss',
      empty: valid.length ? 'no training reports yet' : 'no data yet',
      series: [
        {
          cls: 'train-loss',
          label: 'training loss',
          color: COLORS.train,
          pts: train,
          markers: false,
          tip: (s, v) => `step ${s}: loss ${v.toFixed(3)}`,
        },
      ],
    },
  ];
  if (showValid) {
    panels.push({
      axis: logPpl
        ? logAxis(valid.map((p) => p[1]))
        : linearAxis(
            valid.map((p) => p[1]),
            [0, 1000],
            0.05,
            true,
          ),
      y0: top + panelH + gap,
      y1: bottom,
      label: `validation perplexity${logPpl ? ' (log)' : ''}`,
      cls: 'valid-ppl',
      empty: 'no evaluations yet',
      series: [
        {
          cls: 'valid-ppl',
          label: 'validation perplexity',
          color: COLORS.valid,
          pts: valid,
          markers: true,
          tip: (s, v) => `step ${s}: perplexity ${v.toFixed(1)}`,
        },
      ],
    });
  }
  return panels;
}

/** Writes `svg` to `file` atomically (Node). */
export async function writeSvg(file: string, svg: string): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  const { writeFileAtomic } = await import('./checkpoint.js');
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, svg);
}

/** Renders the chart and writes it to `file` atomically (Node). */
export async function writeChart(file: string, records: readonly MetricsRecord[], opts: ChartOptions = {}): Promise<void> {
  await writeSvg(file, renderChart(records, opts));
}
