// fl.train in the browser bundle. tools/build.mjs resolves src/index.ts's
// `./train/index.js` to this file for the browser build: the trainer and the checkpoint folder
// code read and write files (node:fs, node:path at module load), so the browser gets the
// parts that need no Node: generation, evaluation, charts, metrics formatting, .safetensors
// and the self-contained model files. Keep the names the same as in src/train/index.ts.
export { evaluate } from '../train/evaluate.js';
export type { EvalResult, EvalOptions } from '../train/evaluate.js';
export { generate } from '../train/generate.js';
export { encodeSafetensors, decodeSafetensors } from '../train/safetensors.js';
export { formatProgress } from '../train/metrics.js';
export { renderChart } from '../train/chart.js';
export { encodeModelBundle, decodeModelBundle, checkpointFromFiles, bundleMetadata, BundleError } from '../train/bundle.js';
export type { ModelBundle } from '../train/bundle.js';
export { modelOptions, makeOptimizer, stepSeed } from './session.js';
export type { TrainConfig, ModelConfig, CheckpointConfig } from '../train/trainer.js';
