// fl.train in Node: what the browser has (src/train/portable.ts) and the parts that read and
// write files: the trainer and its run folders, checkpoint folders, metrics files and charts.
export * from './portable.js';
export { train, DEFAULT_LOG_EVERY, DEFAULT_SAVE_EVERY } from './trainer.js';
export type { TrainOptions, RunLimits, TrainEvent, TrainSummary, Objective, WorldEvent } from './trainer.js';
export { loadModel } from './load.js';
export type { LoadedModel, LoadModelOptions } from './load.js';
export { saveCheckpoint, loadCheckpoint, readCheckpointConfig, checkCompatible } from './checkpoint.js';
export { appendMetrics, readMetrics } from './metrics.js';
export { writeChart } from './chart.js';
// Training on several processes: the world of an MPI-launched process, for TrainOptions.world.
export { joinWorld } from '../distributed/world.js';
export type { World, DistributedMode } from '../distributed/world.js';
