// fl.train without Node (the browser's, src/browser.ts; Node's fl.train adds the file-based
// parts, src/train/index.ts): the training loop and step, evaluation, generation, .safetensors
// and self-contained model files, metrics lines and charts as text.
export { TrainingLoop, everySteps, aboutEvery } from './loop.js';
export type { LoopPosition, LoopHooks, LossReading, ReadbackCadence } from './loop.js';
export { trainStep, modelOptions, makeOptimizer, stepSeed, GRADIENT_SCALE } from './step.js';
export type { StepBatch, GradientScale } from './step.js';
export { corpusOptions, configDifferences } from './config.js';
export type {
  TrainConfig,
  ModelConfig,
  ValidationConfig,
  ScheduleState,
  CheckpointConfig,
  AverageSchedule,
  WeightsUsed,
} from './config.js';
export { evaluate } from './evaluate.js';
export type { EvalResult, EvalOptions, EvalProgress } from './evaluate.js';
export { generate, sampleWord } from './generate.js';
export type { GenerateOptions, Generated } from './generate.js';
export { encodeSafetensors, decodeSafetensors } from './safetensors.js';
export { formatProgress, parseMetrics } from './metrics.js';
export type { MetricsRecord } from './metrics.js';
export { renderChart } from './chart.js';
export { renderOverlayChart } from './overlay_chart.js';
export type { OverlayRun, OverlayOptions } from './overlay_chart.js';
export { encodeModelBundle, decodeModelBundle, checkpointFromFiles, bundleMetadata, BundleError } from './bundle.js';
export type { ModelBundle } from './bundle.js';
