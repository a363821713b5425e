// The public surface that both entry points share: tensors, ops, layers, optimizers, data and
// the engine, none of which needs Node at load time (src/index.ts for Node, src/browser.ts for
// browsers). Only fl.train differs between them: Node's also reads and writes run folders.
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
export type { LstmConfig, LstmWeights, LstmResult } from './ops/lstm.js';
export type { CellKind } from './nn/cells.js';
export type { MatmulVariant, ActivationName } from './ops/matmul_kernel.js';
export type { InitOptions, AdapterInfoSummary } from './gpu/runtime.js';
export { NO_ADAPTER_HELP } from './gpu/adapter.js';
export { KernelCompileError } from './gpu/pipelines.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';

export { init, info, dispose, sync, stats, startProfiling, stopProfiling } from './engine.js';
