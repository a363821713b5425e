// The pieces of flstm's SVG charts: axes with "nice" ticks (linear or log), scales, and a
// panel that draws one or more series over a shared x axis. Pure string building: no fonts,
// scripts or links to fetch, so a chart opens anywhere (a file, the demo page, a README).

export type Pt = [number, number];

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function c(v: number): string {
  // Coordinates with one decimal; never NaN (every value is finite by construction).
  const r = Math.round(v * 10) / 10;
  return String(Object.is(r, -0) ? 0 : r);
}

/** "Nice" tick step (1, 2 or 5 times a power of ten) for about `count` intervals. */
export function niceStep(range: number, count: number): number {
  const raw = range / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

export interface Axis {
  lo: number;
  hi: number;
  ticks: number[];
  log: boolean;
  label: (v: number) => string;
}

export function fmtNumber(v: number, step?: number): string {
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

export function linearAxis(values: number[], fallback: [number, number], pad: number, zeroFloor: boolean): Axis {
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
  // A value a hair past a tick (a time limit overshot by one step) does not open another interval.
  hi = Math.ceil(hi / step - 0.01) * step;
  const ticks: number[] = [];
  for (let i = 0, v = lo; v <= hi + step * 1e-6 && i < 50; i++, v = lo + i * step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return { lo, hi, ticks, log: false, label: (v) => fmtNumber(v, step) };
}

export function logAxis(values: number[]): Axis {
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

export function scaler(axis: Axis, from: number, to: number): (v: number) => number {
  const f = axis.log ? Math.log : (v: number) => v;
  const a = f(axis.lo);
  const b = f(axis.hi);
  return (v) => from + ((f(v) - a) / (b - a)) * (to - from);
}

export interface Series {
  /** The polyline's class (tests and styles find a series by it). */
  cls: string;
  label: string;
  color: string;
  pts: Pt[];
  /** Circles with a tooltip at every point. */
  markers: boolean;
  tip: (x: number, y: number) => string;
}

export interface PanelSpec {
  axis: Axis;
  y0: number;
  y1: number;
  /** The y axis's title. */
  label: string;
  series: Series[];
  /** Shown when no series has a point. */
  empty: string;
  cls: string;
}

/** One panel: grid, ticks, axes, its title along the y axis, and its series. */
export function drawPanel(
  o: string[],
  p: PanelSpec,
  xAxis: Axis,
  sx: (v: number) => number,
  left: number,
  right: number,
  background: string,
  colors: { grid: string; axis: string; muted: string; text: string },
): void {
  const sy = scaler(p.axis, p.y1, p.y0);
  o.push(`<g class="panel ${p.cls}">`);
  for (const t of p.axis.ticks) {
    const y = sy(t);
    if (y < p.y0 - 0.5 || y > p.y1 + 0.5) continue;
    o.push(`<line x1="${left}" y1="${c(y)}" x2="${right}" y2="${c(y)}" stroke="${colors.grid}"/>`);
    o.push(`<text x="${left - 8}" y="${c(y + 4)}" text-anchor="end" fill="${colors.muted}">${esc(p.axis.label(t))}</text>`);
  }
  for (const t of xAxis.ticks) {
    const x = sx(t);
    o.push(`<line x1="${c(x)}" y1="${c(p.y0)}" x2="${c(x)}" y2="${c(p.y1)}" stroke="${colors.grid}"/>`);
    o.push(`<line x1="${c(x)}" y1="${c(p.y1)}" x2="${c(x)}" y2="${c(p.y1 + 5)}" stroke="${colors.axis}"/>`);
    o.push(`<text x="${c(x)}" y="${c(p.y1 + 18)}" text-anchor="middle" fill="${colors.muted}">${esc(xAxis.label(t))}</text>`);
  }
  o.push(`<polyline class="axis" points="${left},${c(p.y0)} ${left},${c(p.y1)} ${right},${c(p.y1)}" fill="none" stroke="${colors.axis}"/>`);
  const my = (p.y0 + p.y1) / 2;
  o.push(`<text x="16" y="${c(my)}" text-anchor="middle" transform="rotate(-90 16 ${c(my)})" fill="${colors.text}">${esc(p.label)}</text>`);
  if (p.series.every((s) => s.pts.length === 0)) {
    o.push(`<text x="${c((left + right) / 2)}" y="${c(my + 4)}" text-anchor="middle" fill="${colors.muted}">${esc(p.empty)}</text>`);
  }
  for (const s of p.series) {
    if (s.pts.length === 0) continue;
    const pts = s.pts.map(([x, v]) => `${c(sx(x))},${c(sy(v))}`).join(' ');
    o.push(
      `<polyline class="series ${s.cls}" data-points="${s.pts.length}" points="${pts}" fill="none" stroke="${s.color}" ` +
        'stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>',
    );
    if (!s.markers && s.pts.length > 1) continue;
    o.push(`<g class="markers ${s.cls}">`);
    for (const [x, v] of s.pts) {
      o.push(
        `<circle cx="${c(sx(x))}" cy="${c(sy(v))}" r="3.5" fill="${background}" stroke="${s.color}" stroke-width="2"><title>${esc(s.tip(x, v))}</title></circle>`,
      );
    }
    o.push('</g>');
  }
  o.push('</g>');
}

/** A legend row of series (line, marker, label) ending at `right`. */
export function drawLegend(
  o: string[],
  items: { label: string; color: string; marker: boolean }[],
  right: number,
  y: number,
  background: string,
): void {
  const width = (label: string) => 28 + label.length * 6.6 + 18;
  let lx = right - items.reduce((a, it) => a + width(it.label), 0);
  o.push('<g class="legend">');
  for (const it of items) {
    o.push(`<line x1="${c(lx)}" y1="${y}" x2="${c(lx + 22)}" y2="${y}" stroke="${it.color}" stroke-width="2.5"/>`);
    if (it.marker) o.push(`<circle cx="${c(lx + 11)}" cy="${y}" r="3.5" fill="${background}" stroke="${it.color}" stroke-width="2"/>`);
    o.push(`<text x="${c(lx + 28)}" y="${y + 4}">${esc(it.label)}</text>`);
    lx += width(it.label);
  }
  o.push('</g>');
}

/** The opening of an SVG document with its background and title. */
export function svgOpen(o: string[], W: number, H: number, title: string, background: string, text: string): void {
  o.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
      `font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif" font-size="12" fill="${text}">`,
  );
  o.push(`<title>${esc(title)}</title>`);
  o.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="${background}"/>`);
}
