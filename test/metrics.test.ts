// The metrics log, the progress line and the SVG chart (host only, no GPU).
import { appendFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  appendMetrics,
  formatCount,
  formatDuration,
  formatProgress,
  parseMetrics,
  readMetrics,
  rewindMetrics,
  type MetricsRecord,
} from '../src/train/metrics.js';
import { renderChart, writeChart } from '../src/train/chart.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'flstm-metrics-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const rec = (step: number, split = 'train', loss = 5 - step / 1000, extra: Partial<MetricsRecord> = {}): MetricsRecord => ({
  step,
  time: step / 10,
  split,
  loss,
  ppl: Math.exp(loss),
  wordsPerSec: 1234.5,
  lr: 0.2,
  ...extra,
});

describe('metrics log', () => {
  it('appends JSON lines and reads them back', async () => {
    const file = join(await tempDir(), 'run', 'metrics.jsonl');
    await appendMetrics(file, rec(10));
    await appendMetrics(file, [rec(20), rec(20, 'valid', 4.9, { words: 2000 })]);
    const text = await readFile(file, 'utf8');
    expect(text.split('\n')).toHaveLength(4);
    expect(JSON.parse(text.split('\n')[0]!)).toEqual(rec(10));
    expect(await readMetrics(file)).toEqual([rec(10), rec(20), rec(20, 'valid', 4.9, { words: 2000 })]);
  });

  it('ignores a truncated last line, and a later append does not glue onto it', async () => {
    const file = join(await tempDir(), 'metrics.jsonl');
    await appendMetrics(file, [rec(10), rec(20)]);
    const cut = JSON.stringify(rec(30)).slice(0, 25);
    await appendFile(file, cut); // a crash in the middle of a write
    expect(await readMetrics(file)).toEqual([rec(10), rec(20)]);
    expect(parseMetrics(await readFile(file, 'utf8')).skipped).toEqual([3]);
    await appendMetrics(file, rec(30));
    expect(await readMetrics(file)).toEqual([rec(10), rec(20), rec(30)]);
  });

  it('keeps NaN and infinite values', async () => {
    const file = join(await tempDir(), 'metrics.jsonl');
    await appendMetrics(file, rec(10, 'train', NaN, { ppl: Infinity, gradNorm: -Infinity }));
    const [r] = await readMetrics(file);
    expect(r!.loss).toBeNaN();
    expect(r!.ppl).toBe(Infinity);
    expect(r!.gradNorm).toBe(-Infinity);
  });

  it('rewinds to a checkpoint step for a resume', async () => {
    const file = join(await tempDir(), 'metrics.jsonl');
    await appendMetrics(file, [rec(10), rec(20), rec(20, 'valid'), rec(30), rec(40)]);
    expect(await rewindMetrics(file, 20)).toBe(3);
    expect((await readMetrics(file)).map((r) => [r.step, r.split])).toEqual([
      [10, 'train'],
      [20, 'train'],
      [20, 'valid'],
    ]);
    expect(await rewindMetrics(join(await tempDir(), 'none.jsonl'), 5)).toBe(0);
  });

  it('clear errors: a missing log, a record without a step', async () => {
    await expect(readMetrics('/nonexistent/flstm/metrics.jsonl')).rejects.toThrow(
      "flstm: the metrics log '/nonexistent/flstm/metrics.jsonl' does not exist",
    );
    const file = join(await tempDir(), 'm.jsonl');
    await expect(appendMetrics(file, { split: 'train', loss: 1 } as unknown as MetricsRecord)).rejects.toThrow(/needs a numeric step/);
  });

  it('skips lines that are not records', () => {
    const { records, skipped } = parseMetrics(
      `${JSON.stringify(rec(1))}\n[1,2]\n{"step":"x","split":"train"}\n\n${JSON.stringify(rec(2))}\n`,
    );
    expect(records.map((r) => r.step)).toEqual([1, 2]);
    expect(skipped).toEqual([2, 3]);
  });
});

describe('progress line', () => {
  it('formats step, loss, perplexity, words/s and the ETA from steps', () => {
    expect(
      formatProgress({ step: 120, totalSteps: 1000, elapsed: 120 * (192 / 880), loss: 5.2311, ppl: 187.04, wordsPerSec: 1234.4 }),
    ).toBe('step 120/1000  loss 5.231  ppl 187.0  1,234 words/s  ETA 3m12s');
  });
  it('ETA from a time limit, the sooner of the two, and from the rate since a resume', () => {
    expect(formatProgress({ step: 50, timeLimit: 600, elapsed: 100, loss: 2, wordsPerSec: 10 })).toBe(
      'step 50  loss 2.000  ppl 7.4  10 words/s  ETA 8m20s',
    );
    expect(formatProgress({ step: 50, totalSteps: 100, timeLimit: 3600, elapsed: 100, loss: 2 })).toMatch(/ETA 1m40s$/);
    expect(formatProgress({ step: 150, startStep: 100, totalSteps: 200, elapsed: 10, loss: 2 })).toMatch(/ETA 10s$/);
    expect(formatProgress({ step: 0, totalSteps: 100, elapsed: 0, loss: 9.8 })).toBe('step 0/100  loss 9.800  ppl 18,034');
    expect(formatProgress({ step: 100, totalSteps: 100, elapsed: 50, loss: 1 })).toMatch(/ETA 0s$/);
  });
  it('non-finite loss and large numbers', () => {
    expect(formatProgress({ step: 3, elapsed: 1, loss: NaN, wordsPerSec: 1234567.8 })).toBe('step 3  loss nan  ppl nan  1,234,568 words/s');
    expect(formatProgress({ step: 3, elapsed: 1, loss: Infinity })).toBe('step 3  loss inf  ppl inf');
  });
  it('durations and counts', () => {
    expect([5, 59.6, 192, 3599, 3600, 7500, 86400 + 3 * 3600].map(formatDuration)).toEqual([
      '5s',
      '1m00s',
      '3m12s',
      '59m59s',
      '1h00m',
      '2h05m',
      '1d03h',
    ]);
    expect(formatDuration(-3)).toBe('0s');
    expect([0, 999, 1000, 1234567, -4321].map(formatCount)).toEqual(['0', '999', '1,000', '1,234,567', '-4,321']);
  });
});

/** The number of "x,y" vertices of the polyline of a series class, or 0 when there is none. */
function vertices(svg: string, cls: string): number {
  const m = new RegExp(`<polyline class="series ${cls}" data-points="(\\d+)" points="([^"]*)"`).exec(svg);
  if (!m) return 0;
  const pts = m[2]!.trim().split(/\s+/);
  for (const p of pts) expect(p).toMatch(/^-?\d+(\.\d+)?,-?\d+(\.\d+)?$/);
  expect(Number(m[1])).toBe(pts.length);
  return pts.length;
}

/** Balanced tags and quoted attributes: enough to say a browser would parse it as XML. */
function expectXmlish(svg: string): void {
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg.trim().endsWith('</svg>')).toBe(true);
  expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  expect(svg).not.toMatch(/<script|href=|@import|url\(/);
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)((?:\s+[a-zA-Z][\w:-]*="[^"<]*")*)\s*(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (self) continue;
    if (close) expect(stack.pop()).toBe(name);
    else stack.push(name!);
  }
  expect(stack).toEqual([]);
  // Every '<' starts a tag the pattern above accepted (so no stray markup in text).
  const tags = svg.match(/</g)!.length;
  const parsed = [...svg.matchAll(/<(\/?)([a-zA-Z]+)((?:\s+[a-zA-Z][\w:-]*="[^"<]*")*)\s*(\/?)>/g)].length;
  expect(parsed).toBe(tags);
}

describe('chart', () => {
  it('no records: axes and a note, no series', () => {
    const svg = renderChart([]);
    expectXmlish(svg);
    expect(vertices(svg, 'train-loss')).toBe(0);
    expect(vertices(svg, 'valid-ppl')).toBe(0);
    expect(svg.split('no data yet').length - 1).toBe(1);
  });

  it('one point of each: the single validation is a line of the summary, not a panel', () => {
    const svg = renderChart([rec(0), rec(0, 'valid', 5)]);
    expectXmlish(svg);
    expect(vertices(svg, 'train-loss')).toBe(1);
    expect(svg).toContain('<circle'); // a single point is still visible
    expect(svg).not.toContain('class="panel valid-ppl"');
    expect(svg).toContain(`validation ppl ${Math.exp(5).toFixed(1)} at step 0`);
    // Two validations make the panel, with both points.
    const two = renderChart([rec(0), rec(10), rec(0, 'valid', 5), rec(10, 'valid', 4)]);
    expect(two).toContain('class="panel valid-ppl"');
    expect(vertices(two, 'valid-ppl')).toBe(2);
  });

  it('labels a sampled-softmax training loss so', () => {
    const sampled = renderChart([
      rec(1, 'train', 3, { objective: 'sampled-softmax' }),
      rec(2, 'train', 2.5, { objective: 'sampled-softmax' }),
    ]);
    expect(sampled).toContain('training loss, sampled softmax (nats)');
    expect(renderChart([rec(1), rec(2)])).toContain('training loss (nats)');
  });

  it('many points, one vertex per record, log or linear perplexity, any order', () => {
    const records: MetricsRecord[] = [];
    for (let s = 10; s <= 5000; s += 10) records.push(rec(s, 'train', 9 * Math.exp(-s / 800) + 4.5 + 0.1 * Math.sin(s)));
    for (let s = 500; s <= 5000; s += 500) records.push(rec(s, 'valid', 9 * Math.exp(-s / 800) + 4.7));
    records.push(rec(5000, 'test', 4.8));
    records.reverse();
    for (const logPerplexity of [true, false]) {
      const svg = renderChart(records, { logPerplexity, title: 'G-LSTM <brown> & co' });
      expectXmlish(svg);
      expect(vertices(svg, 'train-loss')).toBe(500);
      expect(vertices(svg, 'valid-ppl')).toBe(10);
      expect(svg).toContain('G-LSTM &lt;brown&gt; &amp; co');
      expect(svg).toContain('training loss');
      expect(svg).toContain('validation perplexity');
      // Vertices go left to right.
      const xs = /class="series train-loss"[^>]*points="([^"]*)"/
        .exec(svg)![1]!
        .split(' ')
        .map((p) => Number(p.split(',')[0]));
      expect(xs.every((x, i) => i === 0 || x >= xs[i - 1]!)).toBe(true);
    }
  });

  it('skips non-finite values (a NaN loss does not poison the chart)', () => {
    const svg = renderChart([rec(1), rec(2, 'train', NaN), rec(3, 'train', Infinity), rec(4), rec(4, 'valid', 3, { ppl: NaN })]);
    expectXmlish(svg);
    expect(vertices(svg, 'train-loss')).toBe(2);
    expect(vertices(svg, 'valid-ppl')).toBe(0); // its ppl is NaN: skipped
  });

  it('writeChart writes the file atomically', async () => {
    const dir = await tempDir();
    const file = join(dir, 'out', 'chart.svg');
    await writeFile(join(dir, 'keep'), '');
    await writeChart(file, [rec(1), rec(2)]);
    expect(await readFile(file, 'utf8')).toBe(renderChart([rec(1), rec(2)]));
    expect(await readdir(join(dir, 'out'))).toEqual(['chart.svg']);
  });
});
