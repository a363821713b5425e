// Several runs in one SVG chart (`flstm compare`, `flstm chart RUN...`): each run's training
// loss (top) and validation perplexity (bottom, log scale) against training time or step,
// one color per run. Against time is how the paper shows that the cheaper cells get there
// sooner. Pure: a function of the runs' metrics records.
import type { MetricsRecord } from './metrics.js';
import { COLORS, pplOf, series, trainLossLabel } from './chart.js';
import { drawLegend, drawPanel, esc, linearAxis, logAxis, scaler, svgOpen, type PanelSpec, type Series } from './svg_plot.js';

export interface OverlayRun {
  label: string;
  records: readonly MetricsRecord[];
}

export interface OverlayOptions {
  /** The x axis: training time in minutes (the records' `time`, default) or the step. */
  x?: 'time' | 'step';
  title?: string;
  width?: number;
  height?: number;
}

/** Distinct colors, in the order runs are given. */
export const RUN_COLORS = ['#1c7ed6', '#e8590c', '#2f9e44', '#ae3ec9', '#f08c00', '#0c8599', '#e03131', '#5c7cfa'];

export function renderOverlayChart(runs: readonly OverlayRun[], o: OverlayOptions = {}): string {
  const W = Math.max(420, o.width ?? 820);
  const H = Math.max(300, o.height ?? 560);
  const byTime = (o.x ?? 'time') === 'time';
  const xOf = (r: MetricsRecord) => (byTime ? r.time / 60 : r.step);
  const color = (i: number) => RUN_COLORS[i % RUN_COLORS.length]!;
  const xName = byTime ? 'training time (min)' : 'step';
  const fmtX = (x: number) => (byTime ? `${x.toFixed(1)} min` : `step ${x}`);
  const trains: Series[] = runs.map((r, i) => ({
    cls: `train-loss run-${i}`,
    label: r.label,
    color: color(i),
    markers: false,
    pts: series(r.records, 'train', (m) => m.loss, false, xOf),
    tip: (x, v) => `${r.label}, ${fmtX(x)}: loss ${v.toFixed(3)}`,
  }));
  const valids: Series[] = runs.map((r, i) => ({
    cls: `valid-ppl run-${i}`,
    label: r.label,
    color: color(i),
    markers: true,
    pts: series(r.records, 'valid', pplOf, true, xOf),
    tip: (x, v) => `${r.label}, ${fmtX(x)}: perplexity ${v.toFixed(1)}`,
  }));
  const xs = [...trains, ...valids].flatMap((s) => s.pts.map((p) => p[0]));
  const xAxis = linearAxis(xs.length ? [0, ...xs] : [], [0, 10], 0, true);
  const left = 70;
  const right = W - 24;
  const top = 84;
  const gap = 48;
  const bottom = H - 44;
  const panelH = (bottom - top - gap) / 2;
  const allRecords = runs.flatMap((r) => r.records);
  const panels: PanelSpec[] = [
    {
      axis: linearAxis(
        trains.flatMap((s) => s.pts.map((p) => p[1])),
        [0, 10],
        0.05,
        true,
      ),
      y0: top,
      y1: top + panelH,
      label: trainLossLabel(allRecords),
      cls: 'train-loss',
      empty: 'no training reports',
      series: trains,
    },
    {
      axis: logAxis(valids.flatMap((s) => s.pts.map((p) => p[1]))),
      y0: top + panelH + gap,
      y1: bottom,
      label: 'validation perplexity (log)',
      cls: 'valid-ppl',
      empty: 'no validations (train with --eval-every)',
      series: valids,
    },
  ];
  const sx = scaler(xAxis, left, right);
  const out: string[] = [];
  const title = o.title ?? 'flstm runs';
  svgOpen(out, W, H, title, COLORS.background, COLORS.text);
  out.push(`<text x="${left}" y="24" font-size="16" font-weight="600">${esc(title)}</text>`);
  const best = valids.map((s) => (s.pts.length ? `${s.label} ${Math.min(...s.pts.map((p) => p[1])).toFixed(1)}` : null)).filter(Boolean);
  out.push(
    `<text x="${left}" y="44" fill="${COLORS.muted}">${esc(best.length ? `best validation perplexity: ${best.join(' · ')}` : 'no validations yet')}</text>`,
  );
  drawLegend(
    out,
    runs.map((r, i) => ({ label: r.label, color: color(i), marker: true })),
    right,
    64,
    COLORS.background,
  );
  for (const p of panels) drawPanel(out, p, xAxis, sx, left, right, COLORS.background, COLORS);
  out.push(`<text x="${(left + right) / 2}" y="${H - 8}" text-anchor="middle">${xName}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
