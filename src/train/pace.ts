// The host encodes training steps without waiting for the GPU; left alone it would run ahead
// without bound (memory grows, a time limit or Ctrl-C is noticed late, the last steps still
// run after the stop). The pacer yields to the event loop after every step, so that signal
// handlers run between steps, and keeps the GPU's backlog near `targetSeconds` of work: every
// `interval` steps it submits and waits for the previous such point, with `interval` chosen
// from the measured step time. Waiting every step would be simpler, but a software driver runs
// a few percent slower with many small waits than with a few long ones. Used by the training
// loop in Node and in the page.
import { rt } from '../gpu/runtime.js';
import { gpuWait } from '../gpu/wait.js';
import { nextTurn } from '../gpu/platform.js';

export class StepPacer {
  /** Completes when the GPU reaches the last sync point. */
  private previous: Promise<unknown> | null = null;
  private stepsSinceSync = 0;
  private interval = 1;
  private lastSync = performance.now();

  constructor(
    private readonly targetSeconds = 1,
    private readonly maxInterval = 16,
  ) {}

  /** After a step is encoded: a sync point every `interval` steps, then a turn of the event loop. */
  async stepEncoded(): Promise<void> {
    if (++this.stepsSinceSync >= this.interval) await this.sync();
    await nextTurn();
  }

  /** Submits, waits for the previous sync point (at most two intervals stay queued), re-plans. */
  private async sync(): Promise<void> {
    const r = rt();
    r.recorder.submit();
    const done = r.device.queue.onSubmittedWorkDone();
    done.catch(() => {}); // a lost device is reported by the next op, not as an unhandled rejection
    if (this.previous) await gpuWait(this.previous);
    this.previous = done;
    const now = performance.now();
    const stepSeconds = (now - this.lastSync) / 1e3 / this.stepsSinceSync;
    this.interval = Math.max(1, Math.min(this.maxInterval, Math.round(this.targetSeconds / Math.max(stepSeconds, 1e-6))));
    this.lastSync = now;
    this.stepsSinceSync = 0;
  }

  /** Waits until every encoded step has run. */
  async drain(): Promise<void> {
    await rt().recorder.finish();
    this.previous = null;
    this.stepsSinceSync = 0;
    this.lastSync = performance.now();
  }
}

/**
 * Waits for `work`; when it takes longer than `noticeMs`, calls `onSlow` while it still runs
 * (the first step of a model shape compiles its kernels on a software driver), and again every
 * `repeatMs` until it ends, so that a long wait is never silent.
 */
export async function noticeIfSlow<T>(work: Promise<T>, noticeMs: number, onSlow: () => void, repeatMs = Infinity): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    onSlow();
    if (Number.isFinite(repeatMs)) timer = setTimeout(tick, repeatMs);
  };
  // Already past the deadline (host-side encoding took that long): say so now, not after a race.
  if (noticeMs <= 0) tick();
  else timer = setTimeout(tick, noticeMs);
  try {
    return await work;
  } finally {
    clearTimeout(timer);
  }
}
