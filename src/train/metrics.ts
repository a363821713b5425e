// The metrics log and the terminal progress line.
//
// `metrics.jsonl` in the run folder holds one JSON object per line:
//   { step, time, split, loss, ppl?, wordsPerSec?, lr?, ... }
// `step` counts optimizer steps from the start of the run (across resumes), `time` is seconds
// of training since the run started, `split` is 'train' (a training report), 'valid' or
// 'test' (an evaluation). NaN and infinities are written as the strings "NaN", "Infinity",
// "-Infinity" (JSON has no such numbers) and read back as numbers.
//
// A crash can cut the last line short. Reading ignores a line that does not parse; appending
// first ends such a line with a newline, so a cut line never swallows the next record.
// After a resume from step S, `rewindMetrics(file, S)` drops the records logged after the
// checkpoint, so the log (and the chart) reads as one uninterrupted run.
//
// The formatting functions are pure (the browser demo uses them); the file functions load
// node:fs lazily, so importing this module does not need Node.

export interface MetricsRecord {
  step: number;
  time: number;
  split: string;
  loss: number;
  ppl?: number;
  wordsPerSec?: number;
  lr?: number;
  [key: string]: unknown;
}

const NON_FINITE = new Map<unknown, number>([
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
]);

/** One record as a JSON line (with its newline); non-finite numbers become strings. */
export function formatMetricsLine(record: MetricsRecord): string {
  if (record === null || typeof record !== 'object')
    throw new Error(`flstm: a metrics record must be an object, got ${record === null ? 'null' : typeof record}`);
  if (typeof record.step !== 'number' || !Number.isFinite(record.step)) {
    throw new Error(`flstm: a metrics record needs a numeric step, got ${JSON.stringify(record.step)}`);
  }
  if (typeof record.split !== 'string')
    throw new Error(`flstm: a metrics record needs a split ('train', 'valid', ...), got ${JSON.stringify(record.split)}`);
  return `${JSON.stringify(record, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))}\n`;
}

/**
 * Parses the text of a metrics log. Lines that are not JSON objects with a numeric step and a
 * string split (a line cut short by a crash) are skipped; their 1-based numbers are returned.
 */
export function parseMetrics(text: string): { records: MetricsRecord[]; skipped: number[] } {
  const records: MetricsRecord[] = [];
  const skipped: number[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line, (k, x) => (k !== 'split' && NON_FINITE.has(x) ? NON_FINITE.get(x) : x));
    } catch {
      skipped.push(i + 1);
      return;
    }
    const r = v as MetricsRecord;
    if (r === null || typeof r !== 'object' || Array.isArray(r) || typeof r.step !== 'number' || typeof r.split !== 'string') {
      skipped.push(i + 1);
      return;
    }
    records.push(r);
  });
  return { records, skipped };
}

/** Appends records to the log (creating it and its folder), one JSON line each. */
export async function appendMetrics(file: string, records: MetricsRecord | MetricsRecord[]): Promise<void> {
  const list = Array.isArray(records) ? records : [records];
  let text = list.map(formatMetricsLine).join('');
  if (!text) return;
  const fs = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  await fs.mkdir(dirname(file), { recursive: true });
  const h = await fs.open(file, 'a+');
  try {
    const { size } = await h.stat();
    if (size > 0) {
      const last = new Uint8Array(1);
      await h.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) text = `\n${text}`; // end a line cut short by a crash
    }
    await h.appendFile(text);
  } finally {
    await h.close();
  }
}

/** Reads a metrics log, skipping a truncated last line (or any line that does not parse). */
export async function readMetrics(file: string): Promise<MetricsRecord[]> {
  const fs = await import('node:fs/promises');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`flstm: the metrics log '${file}' does not exist`);
    throw e;
  }
  return parseMetrics(text).records;
}

/**
 * Keeps the records with step <= `step` (rewritten atomically); for a resume from a checkpoint
 * at `step`. A missing log is fine. Returns the number of records kept.
 */
export async function rewindMetrics(file: string, step: number): Promise<number> {
  const fs = await import('node:fs/promises');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  const { records } = parseMetrics(text);
  const kept = records.filter((r) => r.step <= step);
  const { writeFileAtomic } = await import('./checkpoint.js');
  await writeFileAtomic(file, kept.map(formatMetricsLine).join(''));
  return kept.length;
}

/** 1234567 -> "1,234,567" (rounded; independent of the locale). */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const s = String(Math.round(Math.abs(n)));
  return (n < 0 && Math.round(Math.abs(n)) !== 0 ? '-' : '') + s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Seconds -> "45s", "3m12s", "2h05m", "1d03h". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const pad = (v: number) => String(v).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  const m = Math.round(s / 60);
  if (m < 24 * 60) return `${Math.floor(m / 60)}h${pad(m % 60)}m`;
  const h = Math.round(s / 3600);
  return `${Math.floor(h / 24)}d${pad(h % 24)}h`;
}

function fmtFloat(v: number, digits: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return v.toFixed(digits);
}

function fmtPpl(v: number): string {
  if (!Number.isFinite(v)) return fmtFloat(v, 1);
  if (v >= 1e9) return v.toExponential(2);
  if (v >= 1e4) return formatCount(v);
  return v.toFixed(1);
}

export interface ProgressInfo {
  /** Steps done, counted from the start of the run. */
  step: number;
  totalSteps?: number;
  /** The step this process started at (a resume); the ETA uses the rate since then. Default 0. */
  startStep?: number;
  /** Seconds this process may train (`--time`); same clock as `elapsed`. */
  timeLimit?: number;
  /** Seconds this process has trained. */
  elapsed: number;
  loss: number;
  /** Default exp(loss). */
  ppl?: number;
  wordsPerSec?: number;
  lr?: number;
  /** The loss is a sampled-softmax loss (its exp is not the model's perplexity): named so, no ppl shown. */
  sampled?: boolean;
}

/** The estimated seconds left, from the step rate and/or the time limit (the sooner); null if unknown. */
export function estimateRemaining(p: ProgressInfo): number | null {
  const est: number[] = [];
  if (p.totalSteps !== undefined && Number.isFinite(p.totalSteps)) {
    const done = p.step - (p.startStep ?? 0);
    if (p.step >= p.totalSteps) est.push(0);
    else if (done > 0 && p.elapsed > 0) est.push((p.elapsed / done) * (p.totalSteps - p.step));
  }
  if (p.timeLimit !== undefined && Number.isFinite(p.timeLimit)) est.push(Math.max(0, p.timeLimit - p.elapsed));
  return est.length ? Math.min(...est) : null;
}

/**
 * "step 120/1000  loss 5.231  ppl 187.0  1,234 words/s  ETA 3m12s". A sampled-softmax loss is
 * named so and has no perplexity beside it: its exp is far below the model's perplexity.
 */
export function formatProgress(p: ProgressInfo): string {
  const parts = [p.totalSteps !== undefined ? `step ${p.step}/${p.totalSteps}` : `step ${p.step}`];
  if (p.sampled) parts.push(`sampled-softmax loss ${fmtFloat(p.loss, 3)}`);
  else parts.push(`loss ${fmtFloat(p.loss, 3)}`, `ppl ${fmtPpl(p.ppl ?? Math.exp(p.loss))}`);
  if (p.wordsPerSec !== undefined) parts.push(`${formatCount(p.wordsPerSec)} words/s`);
  if (p.lr !== undefined) parts.push(`lr ${Number(p.lr.toPrecision(3))}`);
  const eta = estimateRemaining(p);
  if (eta !== null) parts.push(`ETA ${formatDuration(eta)}`);
  return parts.join('  ');
}
