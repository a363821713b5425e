// The engine's lifetime and counters: init, info, dispose, sync, stats, profiling. Modules
// import these from here; src/index.ts (the package entry) re-exports them.
import { init as initRuntime, dispose as disposeRuntime, rt, type InitOptions, type AdapterInfoSummary } from './gpu/runtime.js';

/** Finds an adapter and opens the device. Safe to call more than once. */
export async function init(opts: InitOptions = {}): Promise<AdapterInfoSummary> {
  return (await initRuntime(opts)).info;
}

/** Backend, adapter vendor / architecture / description, software or not, limits, features. */
export function info(): AdapterInfoSummary {
  return rt().info;
}

/** Destroys the device; a later fl.init() opens a new one. */
export function dispose(): void {
  disposeRuntime();
}

/** Waits for all submitted GPU work (benchmarks). */
export async function sync(): Promise<void> {
  await rt().recorder.finish();
}

/**
 * Waits for the GPU, then frees the buffers the pool keeps for reuse (poolFreeBytes goes to 0).
 * For the end of a phase whose buffers the next will not reuse: an evaluation's blocks of
 * logits, a model that was disposed.
 */
export async function releaseFreeBuffers(): Promise<void> {
  await rt().recorder.finish();
  rt().pool.trim();
}

/** Engine counters: dispatches, submits, bind groups, pool bytes, pipelines. */
export function stats() {
  const r = rt();
  return {
    ...r.recorder.stats,
    pipelines: r.pipelines.size,
    poolInUseBytes: r.pool.inUseBytes,
    poolFreeBytes: r.pool.freeBytes,
    bufferAllocations: r.pool.allocations,
  };
}
/** Times every dispatch on the GPU by kernel until stopProfiling() (adapter feature timestamp-query). */
export function startProfiling(opts: { detail?: boolean } = {}): void {
  rt().startProfiling(opts);
}

/** GPU milliseconds and calls per kernel since startProfiling(), largest first. */
export async function stopProfiling() {
  return rt().stopProfiling();
}
