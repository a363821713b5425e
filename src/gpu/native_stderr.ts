// Dawn prints two warnings from native code ("Warning: maxDynamicUniformBuffersPerPipelineLayout
// artificially reduced from 1000000 to 16 ...", and the same for storage buffers) straight to
// file descriptor 2 while it looks for adapters, whenever a driver reports a huge limit, as
// lavapipe does. JavaScript cannot intercept a native write, so while the adapter request
// runs, descriptor 2 points at a temporary file; afterwards it points where it did before, and
// everything written meanwhile except those two warnings is written to stderr. Node on Linux
// and macOS (where /proc/self/fd or /dev/fd reopens a descriptor); elsewhere, and wherever a
// step fails, the request runs unfiltered.
import { isBrowser } from './platform.js';

/** The warnings Dawn prints when it clamps an adapter limit it cannot support. */
export const DAWN_LIMIT_WARNING = /^Warning: maxDynamic\w+ artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\r?$/;

type Fs = typeof import('node:fs');

function fdPath(fd: number): string | null {
  if (process.platform === 'linux') return `/proc/self/fd/${fd}`;
  if (process.platform === 'darwin') return `/dev/fd/${fd}`;
  return null;
}

/** Opens `path` onto descriptor 2 (open returns the lowest free descriptor; 2 was just closed). */
function openAsStderr(fs: Fs, path: string, flags: string): void {
  const extra: number[] = [];
  try {
    for (let fd = fs.openSync(path, flags); fd !== 2; fd = fs.openSync(path, flags)) {
      extra.push(fd);
      if (fd > 2) throw new Error(`descriptor 2 was not free (got ${fd})`);
    }
  } finally {
    extra.forEach((fd) => fs.closeSync(fd));
  }
}

/** Points descriptor 2 at `capture` and returns the function that points it back. */
function redirectStderr(fs: Fs, capture: string): (() => void) | null {
  const self = fdPath(2);
  if (!self) return null;
  let saved: number;
  try {
    saved = fs.openSync(self, 'a');
  } catch {
    return null; // stderr is a socket or closed: nothing to reopen it from
  }
  const back = () => {
    fs.closeSync(2);
    openAsStderr(fs, fdPath(saved)!, 'a');
    fs.closeSync(saved);
  };
  try {
    fs.closeSync(2);
    openAsStderr(fs, capture, 'w');
  } catch {
    back();
    return null;
  }
  return back;
}

/** Runs `fn` with native writes to stderr captured; writes them back without Dawn's limit warnings. */
export async function withoutDawnWarnings<T>(fn: () => Promise<T>): Promise<T> {
  if (isBrowser || typeof process === 'undefined') return fn();
  const fs = (await import(/* @vite-ignore */ 'node:fs')) as Fs;
  const { tmpdir } = await import(/* @vite-ignore */ 'node:os');
  const { join } = await import(/* @vite-ignore */ 'node:path');
  const capture = join(tmpdir(), `flstm-stderr-${process.pid}-${Math.floor(Math.random() * 2 ** 32).toString(16)}`);
  const back = redirectStderr(fs, capture);
  if (!back) return fn();
  try {
    return await fn();
  } finally {
    back();
    let text = '';
    try {
      text = fs.readFileSync(capture, 'utf8');
      fs.unlinkSync(capture);
    } catch {
      /* nothing captured */
    }
    const kept = text.split('\n').filter((line, i, all) => !DAWN_LIMIT_WARNING.test(line) && !(i === all.length - 1 && line === ''));
    if (kept.length) process.stderr.write(`${kept.join('\n')}\n`);
  }
}
