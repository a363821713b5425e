// fl.optim: Adagrad (the paper's), Adam, SGD, and global-norm clipping. Each step is a norm
// pass and one fused update dispatch per parameter, with no host round trip: the clip scale,
// the NaN / Inf check and Adam's step count live in a small GPU buffer.
export { Optimizer } from './optimizer.js';
export type {
  ParamList,
  ClipOptions,
  OptimizerOptions,
  SparseGrad,
  StepOptions,
  OptimizerStats,
  OptimizerKind,
  OptimizerStateDict,
  OptimizerScalars,
  OptimizerStateInput,
} from './optimizer.js';
export { Adagrad } from './adagrad.js';
export type { AdagradOptions } from './adagrad.js';
export { Adam } from './adam.js';
export type { AdamOptions } from './adam.js';
export { SGD } from './sgd.js';
export type { SGDOptions } from './sgd.js';
export { clipGradNorm } from './clip.js';
