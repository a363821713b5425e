// bench/util.ts: what every bench shares: seeded data, the timing loop, the float tolerance
// check, adapter descriptions and table formatting.
//
// Timing. A GPU op returns as soon as it is *encoded*; what we time is encode + submit + the
// GPU finishing, so one sample is: issue `batch` runs back to back, then wait until the queue
// is idle (flstm: fl.sync(); tfjs: flush its encoder and await queue.onSubmittedWorkDone(),
// the same thing). No readback inside a sample. `batch` is 1 when one run takes more than a
// few ms (always on a software driver) and grows on a fast GPU so that the per-sample sync
// cost does not dominate. The median per-run time over the samples is reported (robust to
// the noise of a shared machine), after a warm-up.

/** Seeded uniform [-1, 1) (mulberry32). */
export function randomData(n: number, seed: number): Float32Array {
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

/**
 * Seeded word ids in [0, V), log-uniform (Zipf-like: id k has probability ~ 1/(k+1)), so a
 * batch touches about as many distinct rows as real text does.
 */
export function zipfIds(n: number, V: number, seed: number): Int32Array {
  const u = randomData(n, seed);
  const logV = Math.log(V + 1);
  return Int32Array.from(u, (x) => Math.min(V - 1, Math.floor(Math.exp(((x + 1) / 2) * logV)) - 1));
}

/**
 * The most a sampled figure (RSS) rose above a low sampled before it: never negative. A peak
 * minus a figure taken earlier is not a growth: RSS falls while the collector hands pages
 * back, and a peak below that earlier figure is no negative use of memory.
 */
export class RiseWatch {
  peak = -Infinity;
  private low = Infinity;
  rise = 0;

  sample(value: number): void {
    this.low = Math.min(this.low, value);
    this.peak = Math.max(this.peak, value);
    this.rise = Math.max(this.rise, value - this.low);
  }
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

export interface Timing {
  medianMs: number;
  minMs: number;
  /** Runs timed in all (samples x batch). */
  reps: number;
  samples: number;
  batch: number;
}

export interface TimeOptions {
  /** Keep sampling until this much time is spent (at least minSamples samples). */
  targetMs: number;
  minSamples?: number;
  maxSamples?: number;
  /** A sample should last at least this long (the batch grows until it does). */
  minSampleMs?: number;
  /** The caller has just run it once (pipelines compiled): the warm-up needs no extra first run. */
  warm?: boolean;
  /**
   * Warm-up time before sampling (default half the target, at least one run): a new kernel's
   * first runs on a software driver are slow for a second or so (code generation, first
   * touches of new buffers), which would otherwise skew a median of few samples.
   */
  warmupMs?: number;
}

export async function warmUp(run: () => void, sync: () => Promise<void>, o: TimeOptions): Promise<void> {
  const ms = o.warmupMs ?? o.targetMs / 2;
  const t0 = performance.now();
  let n = 0;
  do {
    run();
    await sync();
    n++;
  } while (performance.now() - t0 < ms || (!o.warm && n < 2));
}

/** `run` issues one run; `sync` waits until the GPU has finished all of them. */
export async function timeIt(run: () => void, sync: () => Promise<void>, o: TimeOptions): Promise<Timing> {
  const minSamples = o.minSamples ?? 3;
  const maxSamples = o.maxSamples ?? 200;
  const minSampleMs = o.minSampleMs ?? 5;
  await warmUp(run, sync, o);
  // Calibration: one run alone; it is the first sample when the batch stays 1.
  let t0 = performance.now();
  run();
  await sync();
  const t1 = performance.now() - t0;
  const batch = Math.max(1, Math.ceil(minSampleMs / Math.max(t1, 1e-3)));
  const samples: number[] = batch === 1 ? [t1] : [];
  const start = performance.now() - (batch === 1 ? t1 : 0);
  while (samples.length < minSamples || (performance.now() - start < o.targetMs && samples.length < maxSamples)) {
    t0 = performance.now();
    for (let i = 0; i < batch; i++) run();
    await sync();
    samples.push((performance.now() - t0) / batch);
  }
  return { medianMs: median(samples), minMs: Math.min(...samples), reps: samples.length * batch, samples: samples.length, batch };
}

export interface Timed {
  run: () => void;
  sync: () => Promise<void>;
}

/**
 * Times several things by turns: one sample of each, again and again, so that on a shared
 * machine a burst of load falls on all of them alike and their ratios hold. Each has its own
 * batch (from a calibration run).
 */
export async function timeInterleaved(items: Timed[], o: TimeOptions): Promise<{ timings: Timing[] }> {
  const minSamples = o.minSamples ?? 3;
  const maxSamples = o.maxSamples ?? 200;
  const minSampleMs = o.minSampleMs ?? 5;
  const batches: number[] = [];
  for (const it of items) {
    await warmUp(it.run, it.sync, o);
    const t0 = performance.now();
    it.run();
    await it.sync();
    batches.push(Math.max(1, Math.ceil(minSampleMs / Math.max(performance.now() - t0, 1e-3))));
  }
  const samples: number[][] = items.map(() => []);
  const start = performance.now();
  // The time target counts once per item: n things take n times as long as one.
  while (samples[0].length < minSamples || (performance.now() - start < items.length * o.targetMs && samples[0].length < maxSamples)) {
    for (let i = 0; i < items.length; i++) {
      const t0 = performance.now();
      for (let k = 0; k < batches[i]; k++) items[i].run();
      await items[i].sync();
      samples[i].push((performance.now() - t0) / batches[i]);
    }
  }
  const timings = samples.map((xs, i) => ({
    medianMs: median(xs),
    minMs: Math.min(...xs),
    reps: xs.length * batches[i],
    samples: xs.length,
    batch: batches[i],
  }));
  return { timings };
}

/** A reference check that failed: the suite reports it and exits 1 at the end. */
export class MismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MismatchError';
  }
}

/**
 * Compares `got` at `idx` with float64 `ref` values: |got - ref| <= atol + rtol·|ref|.
 * Returns the largest |error|; throws a MismatchError naming the first bad elements.
 */
export function checkClose(
  label: string,
  got: ArrayLike<number>,
  idx: ArrayLike<number> | null,
  ref: ArrayLike<number>,
  atol: number,
  rtol: number,
  where: (i: number) => string = (i) => `[${i}]`,
): number {
  let maxErr = 0;
  const bad: string[] = [];
  let nBad = 0;
  for (let j = 0; j < ref.length; j++) {
    const i = idx ? idx[j] : j;
    const g = got[i];
    const r = ref[j];
    const err = Math.abs(g - r);
    if (!(err <= atol + rtol * Math.abs(r))) {
      nBad++;
      if (bad.length < 6) bad.push(`  ${where(i)} = ${g}, float64 reference ${r} (|diff| ${err.toExponential(2)})`);
      maxErr = Math.max(maxErr, Number.isNaN(err) ? Infinity : err);
    } else maxErr = Math.max(maxErr, err);
  }
  if (nBad) {
    throw new MismatchError(
      `MISMATCH in ${label}: ${nBad} of ${ref.length} checked values outside ${atol.toExponential(1)} + ${rtol}·|ref|; first:\n${bad.join('\n')}`,
    );
  }
  return maxErr;
}

export interface AdapterText {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}

export function describe(info: AdapterText | null): string {
  if (!info) return '(unknown)';
  return [info.description, info.vendor, info.architecture, info.device].filter((x) => x).join(' | ');
}

/** A file-name slug of the adapter: "llvmpipe-mesa-25-0-7-llvm-15-0-6". */
export function adapterSlug(info: AdapterText): string {
  const text = info.description || [info.vendor, info.architecture, info.device].filter(Boolean).join(' ') || 'unknown-adapter';
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60)
      .replace(/-+$/, '') || 'adapter'
  );
}

export const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
export const lpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
export const fmtMs = (ms: number): string =>
  ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
export const fmtG = (g: number): string => (g >= 100 ? g.toFixed(0) : g >= 10 ? g.toFixed(1) : g.toFixed(2));

/** A plain text table: columns right-aligned except the first `left` ones. */
export function table(head: string[], rows: string[][], left = 1): string {
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((x, c) => (c < left ? pad(x ?? '', w[c]) : lpad(x ?? '', w[c])))
      .join('  ')
      .trimEnd();
  const h = line(head);
  return [h, '-'.repeat(h.length), ...rows.map(line)].join('\n');
}

export const geomean = (xs: number[]): number => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / Math.max(xs.length, 1));
