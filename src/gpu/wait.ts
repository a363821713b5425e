// Waiting for the GPU without stealing its CPU. dawn.node resolves a pending GPU promise by
// processing events from a setImmediate loop that runs until the promise settles: on a
// software driver that loop keeps a core busy while the driver's threads do the work on the
// same cores, which slows the GPU work itself. This wait lets that loop run freely for the first
// milliseconds (short waits return at once), then blocks the main thread 1 ms at a time
// between rounds, so the loop runs about once per millisecond instead of continuously.
// Browsers resolve GPU promises from another process: there it is a plain await.
import { isBrowser } from './platform.js';

const FREE_MS = 2;
const sleeper = typeof SharedArrayBuffer !== 'undefined' ? new Int32Array(new SharedArrayBuffer(4)) : null;

export async function gpuWait<T>(p: Promise<T>): Promise<T> {
  if (isBrowser || !sleeper) return p;
  let settled = false;
  p.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  const t0 = performance.now();
  while (!settled) {
    if (performance.now() - t0 > FREE_MS) Atomics.wait(sleeper, 0, 0, 1);
    await new Promise((r) => setImmediate(r)); // one round of dawn.node's event processing
  }
  return p;
}
