// No long silence in a log: evaluation progress is a line every three seconds when stderr is not
// a terminal, and a first step that compiles for a long time says so again every few seconds
// until it ends. The clocks are vitest's fake timers: nothing here waits or measures real time.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TrainPrinter } from '../src/cli/train_printer.js';
import { noticeIfSlow } from '../src/train/pace.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('evaluation progress in a log', () => {
  it('is a line at the first report, then at most three seconds after the last line', () => {
    const lines: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((l: string) => void lines.push(l));
    const printer = new TrainPrinter({ json: false, tty: false });
    // A report every second, as evaluate() gives them: 12 s of evaluation.
    for (let s = 0; s <= 12; s++) {
      printer.evalProgress('valid', { tokens: 1000 * (s + 1), total: 13_000 });
      vi.advanceTimersByTime(1000);
    }
    expect(lines[0]).toBe('evaluating valid: 1,000 / 13,000 tokens');
    expect(lines.map((l) => Number(/: ([\d,]+) \//.exec(l)![1].replace(/,/g, '')))).toEqual([1000, 4000, 7000, 10_000, 13_000]);
  });
});

describe('noticeIfSlow', () => {
  it('says so at the deadline and again every repeatMs until the work ends, then never again', async () => {
    let finish!: () => void;
    const work = new Promise<void>((resolve) => (finish = resolve));
    const notices: number[] = [];
    const waiting = noticeIfSlow(work, 1500, () => notices.push(performance.now()), 4000);
    const t0 = performance.now();
    await vi.advanceTimersByTimeAsync(1499);
    expect(notices).toEqual([]);
    await vi.advanceTimersByTimeAsync(10_000); // to 11.5 s: notices at 1.5, 5.5 and 9.5 s
    expect(notices.map((t) => t - t0)).toEqual([1500, 5500, 9500]);
    finish();
    await waiting;
    await vi.advanceTimersByTimeAsync(20_000);
    expect(notices).toHaveLength(3);
  });

  it('says nothing of work that ends before the deadline', async () => {
    const notices: number[] = [];
    await noticeIfSlow(Promise.resolve(), 1500, () => notices.push(1), 4000);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(notices).toEqual([]);
  });
});
