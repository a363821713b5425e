// fl.train: the training loop, evaluation, generation, checkpoints, metrics and charts.
export { train, loadModel, modelOptions, corpusOptions, configDifferences, makeOptimizer, stepSeed } from './trainer.js';
export type { TrainConfig, ModelConfig, ValidationConfig, ScheduleState, TrainOptions, TrainEvent, TrainSummary, CheckpointConfig, LoadedModel, Objective } from './trainer.js';
export { evaluate } from './evaluate.js';
export type { EvalResult, EvalOptions, EvalProgress } from './evaluate.js';
export { generate, sampleWord } from './generate.js';
export type { GenerateOptions, Generated } from './generate.js';
export { saveCheckpoint, loadCheckpoint, readCheckpointConfig, checkCompatible } from './checkpoint.js';
export { encodeSafetensors, decodeSafetensors } from './safetensors.js';
export { appendMetrics, readMetrics, formatProgress } from './metrics.js';
export { renderChart, writeChart } from './chart.js';
export { renderOverlayChart } from './overlay_chart.js';
export type { OverlayRun, OverlayOptions } from './overlay_chart.js';
export { encodeModelBundle, decodeModelBundle, checkpointFromFiles, bundleMetadata, BundleError } from './bundle.js';
export type { ModelBundle } from './bundle.js';
