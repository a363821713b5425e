// The loss / perplexity chart: a self-contained SVG (no fonts, scripts or links to fetch)
// with two panels over the same step axis: training loss per reported step (top) and
// validation perplexity per evaluation (bottom, log scale by default). renderChart is a pure
// function of the records (the browser demo uses it); writeChart loads node:fs lazily.
import type { MetricsRecord } from './metrics.js';

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

const COLORS = {
  background: '#ffffff',
  text: '#212529',
  muted: '#6c757d',
  axis: '#adb5bd',
  grid: '#edf0f2',
  train: '#1c7ed6',
  valid: '#e8590c',
};

type Pt = [number, number];

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function c(v: number): string {
  // Coordinates with one decimal; never NaN (every value is finite by construction).
  const r = Math.round(v * 10) / 10;
  return String(Object.is(r, -0) ? 0 : r);
}

/** "Nice" tick step (1, 2 or 5 times a power of ten) for about `count` intervals. */
function niceStep(range: number, count: number): number {
  const raw = range / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

interface Axis {
  lo: number;
  hi: number;
  ticks: number[];
  log: boolean;
  label: (v: number) => string;
}

function fmtNumber(v: number, step?: number): string {
  const a = Math.abs(v);
  let scale = 1;
  let suffix = '';
  if (a >= 1e6) [scale, suffix] = [1e6, 'M'];
  else if (a >= 1e4) [scale, suffix] = [1e3, 'k'];
  if (step !== undefined) {
    const d = Math.max(0, Math.min(6, -Math.floor(Math.log10(step / scale) + 1e-9)));
    return (v / scale).toFixed(d) + suffix;
  }
  return String(Number((v / scale).toPrecision(3))) + suffix;
}

function linearAxis(values: number[], fallback: [number, number], pad: number, zeroFloor: boolean): Axis {
  let lo = values.length ? Math.min(...values) : fallback[0];
  let hi = values.length ? Math.max(...values) : fallback[1];
  if (hi === lo) {
    const d = Math.max(Math.abs(lo) * 0.1, 0.5);
    lo -= d;
    hi += d;
    if (zeroFloor && lo < 0 && values[0]! >= 0) lo = 0;
  } else {
    const d = (hi - lo) * pad;
    lo -= zeroFloor && lo >= 0 ? Math.min(d, lo) : d;
    hi += d;
  }
  const step = niceStep(hi - lo, 5);
  lo = Math.floor(lo / step + 1e-9) * step;
  hi = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0, v = lo; v <= hi + step * 1e-6 && i < 50; i++, v = lo + i * step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return { lo, hi, ticks, log: false, label: (v) => fmtNumber(v, step) };
}

function logAxis(values: number[]): Axis {
  let lo = values.length ? Math.min(...values) : 10;
  let hi = values.length ? Math.max(...values) : 1000;
  if (hi / lo < 1.5) {
    const mid = Math.sqrt(lo * hi);
    lo = mid / 1.5;
    hi = mid * 1.5;
  } else {
    lo /= 1.1;
    hi *= 1.1;
  }
  const inRange = (v: number) => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9);
  let ticks: number[] = [];
  for (const mant of [[1], [1, 2, 5], [1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    ticks = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of mant) {
        const v = Number((m * 10 ** e).toPrecision(6));
        if (inRange(v)) ticks.push(v);
      }
    }
    if (ticks.length >= 3) break;
  }
  if (ticks.length < 2) {
    const step = niceStep(hi - lo, 4);
    ticks = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) ticks.push(v);
  }
  return { lo, hi, ticks, log: true, label: (v) => fmtNumber(v) };
}

function scaler(axis: Axis, from: number, to: number): (v: number) => number {
  const f = axis.log ? Math.log : (v: number) => v;
  const a = f(axis.lo);
  const b = f(axis.hi);
  return (v) => from + ((f(v) - a) / (b - a)) * (to - from);
}

function series(records: readonly MetricsRecord[], split: string, value: (r: MetricsRecord) => number | undefined, positive: boolean): Pt[] {
  const out: Pt[] = [];
  for (const r of records) {
    if (!r || r.split !== split || typeof r.step !== 'number' || !Number.isFinite(r.step)) continue;
    const v = value(r);
    if (typeof v !== 'number' || !Number.isFinite(v) || (positive && v <= 0)) continue;
    out.push([r.step, v]);
  }
  return out.map((p, i) => [p, i] as const).sort((a, b) => a[0][0] - b[0][0] || a[1] - b[1]).map(([p]) => p);
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
  const train = series(records ?? [], opts.trainSplit ?? 'train', (r) => r.loss, false);
  const valid = series(records ?? [], opts.validSplit ?? 'valid', (r) => (typeof r.ppl === 'number' ? r.ppl : Math.exp(r.loss)), logPpl);

  const steps = [...train.map((p) => p[0]), ...valid.map((p) => p[0])];
  const xAxis = linearAxis(steps.length ? [0, ...steps] : [], [0, 100], 0, true);
  const lossAxis = linearAxis(train.map((p) => p[1]), [0, 10], 0.05, true);
  const pplAxis = logPpl ? logAxis(valid.map((p) => p[1])) : linearAxis(valid.map((p) => p[1]), [0, 1000], 0.05, true);

  const left = 70;
  const right = W - 24;
  const top = 64;
  const gap = 48;
  const bottom = H - 44;
  const panelH = (bottom - top - gap) / 2;
  const panels = [
    { axis: lossAxis, y0: top, y1: top + panelH, label: 'training loss (nats)', pts: train, color: COLORS.train, cls: 'train-loss', empty: 'no training reports yet' },
    { axis: pplAxis, y0: top + panelH + gap, y1: bottom, label: `validation perplexity${logPpl ? ' (log)' : ''}`, pts: valid, color: COLORS.valid, cls: 'valid-ppl', empty: 'no evaluations yet' },
  ];
  const sx = scaler(xAxis, left, right);

  const o: string[] = [];
  o.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
      `font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif" font-size="12" fill="${COLORS.text}">`,
  );
  const title = opts.title ?? 'flstm training';
  o.push(`<title>${esc(title)}</title>`);
  o.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="${COLORS.background}"/>`);
  o.push(`<text x="${left}" y="24" font-size="16" font-weight="600">${esc(title)}</text>`);

  // Summary under the title: the latest training loss, the latest and best perplexity.
  const summary: string[] = [];
  if (train.length) {
    const [s, v] = train[train.length - 1]!;
    summary.push(`loss ${v.toFixed(3)} at step ${s}`);
  }
  if (valid.length) {
    const [s, v] = valid[valid.length - 1]!;
    const best = Math.min(...valid.map((p) => p[1]));
    summary.push(`validation ppl ${v.toFixed(1)} at step ${s} (best ${best.toFixed(1)})`);
  }
  o.push(`<text x="${left}" y="44" fill="${COLORS.muted}">${esc(summary.length ? summary.join(' · ') : 'no data yet')}</text>`);

  // Legend, top right.
  const legend: [string, string, boolean][] = [
    ['training loss', COLORS.train, false],
    ['validation perplexity', COLORS.valid, true],
  ];
  let lx = right - 300;
  o.push('<g class="legend">');
  for (const [name, color, marker] of legend) {
    o.push(`<line x1="${lx}" y1="20" x2="${lx + 22}" y2="20" stroke="${color}" stroke-width="2.5"/>`);
    if (marker) o.push(`<circle cx="${lx + 11}" cy="20" r="3.5" fill="${COLORS.background}" stroke="${color}" stroke-width="2"/>`);
    o.push(`<text x="${lx + 28}" y="24">${esc(name)}</text>`);
    lx += 28 + name.length * 6.6 + 18;
  }
  o.push('</g>');

  for (const p of panels) {
    const sy = scaler(p.axis, p.y1, p.y0);
    o.push(`<g class="panel ${p.cls}">`);
    // Grid and y ticks.
    for (const t of p.axis.ticks) {
      const y = sy(t);
      if (y < p.y0 - 0.5 || y > p.y1 + 0.5) continue;
      o.push(`<line x1="${left}" y1="${c(y)}" x2="${right}" y2="${c(y)}" stroke="${COLORS.grid}"/>`);
      o.push(`<text x="${left - 8}" y="${c(y + 4)}" text-anchor="end" fill="${COLORS.muted}">${esc(p.axis.label(t))}</text>`);
    }
    // x ticks.
    for (const t of xAxis.ticks) {
      const x = sx(t);
      o.push(`<line x1="${c(x)}" y1="${c(p.y0)}" x2="${c(x)}" y2="${c(p.y1)}" stroke="${COLORS.grid}"/>`);
      o.push(`<line x1="${c(x)}" y1="${c(p.y1)}" x2="${c(x)}" y2="${c(p.y1 + 5)}" stroke="${COLORS.axis}"/>`);
      o.push(`<text x="${c(x)}" y="${c(p.y1 + 18)}" text-anchor="middle" fill="${COLORS.muted}">${esc(xAxis.label(t))}</text>`);
    }
    // Axes.
    o.push(`<polyline class="axis" points="${left},${c(p.y0)} ${left},${c(p.y1)} ${right},${c(p.y1)}" fill="none" stroke="${COLORS.axis}"/>`);
    // Axis title, rotated along the y axis.
    const my = (p.y0 + p.y1) / 2;
    o.push(`<text x="16" y="${c(my)}" text-anchor="middle" transform="rotate(-90 16 ${c(my)})" fill="${COLORS.text}">${esc(p.label)}</text>`);
    // Data.
    if (p.pts.length === 0) {
      o.push(`<text x="${c((left + right) / 2)}" y="${c(my + 4)}" text-anchor="middle" fill="${COLORS.muted}">${esc(p.empty)}</text>`);
    } else {
      const pts = p.pts.map(([s, v]) => `${c(sx(s))},${c(sy(v))}`).join(' ');
      o.push(
        `<polyline class="series ${p.cls}" data-points="${p.pts.length}" points="${pts}" fill="none" stroke="${p.color}" ` +
          'stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>',
      );
      const markers = p.cls === 'valid-ppl' || p.pts.length === 1;
      if (markers) {
        o.push(`<g class="markers ${p.cls}">`);
        for (const [s, v] of p.pts) {
          const tip = p.cls === 'valid-ppl' ? `step ${s}: perplexity ${v.toFixed(1)}` : `step ${s}: loss ${v.toFixed(3)}`;
          o.push(
            `<circle cx="${c(sx(s))}" cy="${c(sy(v))}" r="3.5" fill="${COLORS.background}" stroke="${p.color}" stroke-width="2"><title>${esc(tip)}</title></circle>`,
          );
        }
        o.push('</g>');
      }
    }
    o.push('</g>');
  }
  o.push(`<text x="${c((left + right) / 2)}" y="${H - 8}" text-anchor="middle">step</text>`);
  o.push('</svg>');
  return `${o.join('\n')}\n`;
}

/** Renders the chart and writes it to `file` atomically (Node). */
export async function writeChart(file: string, records: readonly MetricsRecord[], opts: ChartOptions = {}): Promise<void> {
  const svg = renderChart(records, opts);
  const { mkdir } = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  const { writeFileAtomic } = await import('./checkpoint.js');
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, svg);
}
