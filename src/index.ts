// The public surface: `import * as fl from 'flstm'`.
import './ops/shape.js';
import { gradOps } from './autograd.js';
import { add } from './ops/elementwise.js';
import { ones } from './ops/create.js';
import { init as initRuntime, dispose as disposeRuntime, rt, type InitOptions, type AdapterInfoSummary } from './gpu/runtime.js';

gradOps.add = add;
gradOps.onesLike = (t) => ones(t.shape);

export { Tensor, tidy } from './tensor.js';
export type { DType, Shape } from './tensor.js';
export { noGrad, backward } from './autograd.js';
export { setSeed, Rng } from './random.js';
export { tensor, zeros, ones, full, randn, rand } from './ops/create.js';
export type { TensorOptions, RandomOptions } from './ops/create.js';
export { add, sub, mul, scale, sigmoid, tanh, relu, exp } from './ops/elementwise.js';
export { sum, mean } from './ops/reduce.js';
export { embedding, embeddingBackwardSparse } from './ops/embedding.js';
export { softmaxCrossEntropy } from './ops/softmax_ce.js';
export { dropout } from './ops/dropout.js';
export type { DropoutOptions } from './ops/dropout.js';
export { reshape } from './ops/shape.js';
export { matmul } from './ops/matmul.js';
export { cast } from './ops/cast.js';
export type { MatmulOptions } from './ops/matmul.js';
export { groupedMatmul } from './ops/grouped_matmul.js';
export { lstmSequence } from './ops/lstm.js';
export type { LstmConfig, LstmWeights, LstmResult, CellKind } from './ops/lstm.js';
export type { MatmulVariant, ActivationName } from './ops/matmul_kernel.js';
export type { InitOptions, AdapterInfoSummary } from './gpu/runtime.js';
export { NO_ADAPTER_HELP } from './gpu/adapter.js';
export { KernelCompileError } from './gpu/pipelines.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';

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
export * as train from './train/index.js';

/** Times every dispatch on the GPU by kernel until stopProfiling() (adapter feature timestamp-query). */
export function startProfiling(opts: { detail?: boolean } = {}): void {
  rt().startProfiling(opts);
}

/** GPU milliseconds and calls per kernel since startProfiling(), largest first. */
export async function stopProfiling() {
  return rt().stopProfiling();
}
