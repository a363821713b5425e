// fl.train: the training loop, evaluation, generation, checkpoints, metrics and charts.
export { train, loadModel, modelOptions, corpusOptions, configDifferences, makeOptimizer, stepSeed } from './trainer.js';
export type { TrainConfig, ModelConfig, TrainOptions, TrainEvent, TrainSummary, CheckpointConfig, LoadedModel } from './trainer.js';
export { evaluate } from './evaluate.js';
export type { EvalResult, EvalOptions } from './evaluate.js';
export { generate } from './generate.js';
export { saveCheckpoint, loadCheckpoint, readCheckpointConfig, checkCompatible } from './checkpoint.js';
export { encodeSafetensors, decodeSafetensors } from './safetensors.js';
export { appendMetrics, readMetrics, formatProgress } from './metrics.js';
export { renderChart, writeChart } from './chart.js';
export { encodeModelBundle, decodeModelBundle, checkpointFromFiles, bundleMetadata, BundleError } from './bundle.js';
export type { ModelBundle } from './bundle.js';
