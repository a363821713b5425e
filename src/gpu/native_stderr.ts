// Dawn prints two warnings from native code ("Warning: maxDynamicUniformBuffersPerPipelineLayout
// artificially reduced from 1000000 to 16 ...", and the same for storage buffers) straight to
// file descriptor 2 while it looks for adapters, whenever a driver reports a huge limit, as
// lavapipe does. JavaScript cannot intercept a native write, so while the adapter request
// runs, descriptor 2 points at a temporary file; afterwards the saved duplicate of the original
// descriptor is put back (dup and dup2, src/gpu/descriptors.ts), and everything written
// meanwhile except those two warnings is written to stderr. Putting back the very descriptor
// matters: stderr reopened by path would get a file offset of its own, and in a log written
// as `> log 2>&1` stdout would then write over stderr's lines. Node on Linux and macOS;
// elsewhere, where libc's calls cannot be loaded, and wherever a step fails, the request runs
// unfiltered.
import { isBrowser } from './platform.js';
import { descriptorCalls, type DescriptorCalls } from './descriptors.js';

/** The warnings Dawn prints when it clamps an adapter limit it cannot support. */
export const DAWN_LIMIT_WARNING =
  /^Warning: maxDynamic\w+ artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\r?$/;

type Fs = typeof import('node:fs');

/** Points descriptor 2 at `capture` and returns the function that points it back, or null. */
function redirectStderr(fs: Fs, libc: DescriptorCalls, capture: string): (() => void) | null {
  const saved = libc.dup(2);
  if (saved < 0) return null; // stderr is closed
  let captureFd: number;
  try {
    captureFd = fs.openSync(capture, 'w');
  } catch {
    libc.close(saved);
    return null;
  }
  const moved = libc.dup2(captureFd, 2) === 2;
  fs.closeSync(captureFd);
  const back = () => {
    libc.dup2(saved, 2);
    libc.close(saved);
  };
  if (!moved) {
    back();
    fs.rmSync(capture, { force: true });
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
  const libc = await descriptorCalls();
  const back = libc && redirectStderr(fs, libc, capture);
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
