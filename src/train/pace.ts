// The host encodes training steps without waiting for the GPU; left alone it would run ahead
// without bound (memory grows, a time limit or Ctrl-C is noticed late, the last steps still
// run after the stop). The pacer submits every step and lets the host stay at most `ahead`
// steps in front of the GPU, and yields to the event loop once per step so that signal
// handlers run between steps. Node only (the trainer's).
import { rt } from '../gpu/runtime.js';
import { gpuWait } from '../gpu/wait.js';

export class StepPacer {
  private inFlight: Promise<unknown>[] = [];

  constructor(private readonly ahead = 2) {}

  /** Submits the step just encoded, waits until at most `ahead` steps are queued, then yields. */
  async stepEncoded(): Promise<void> {
    const r = rt();
    r.recorder.submit();
    const done = r.device.queue.onSubmittedWorkDone();
    done.catch(() => {}); // a lost device is reported by the next op, not as an unhandled rejection
    this.inFlight.push(done);
    while (this.inFlight.length > this.ahead) await gpuWait(this.inFlight.shift()!);
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** Waits until every submitted step has run. */
  async drain(): Promise<void> {
    while (this.inFlight.length) await gpuWait(this.inFlight.shift()!);
  }
}

/**
 * Waits for `work`; when it takes longer than `noticeMs`, calls `onSlow` once while it still
 * runs (the first step of a model shape compiles its kernels on a software driver).
 */
export async function noticeIfSlow<T>(work: Promise<T>, noticeMs: number, onSlow: () => void): Promise<T> {
  const timer = setTimeout(onSlow, noticeMs);
  try {
    return await work;
  } finally {
    clearTimeout(timer);
  }
}
