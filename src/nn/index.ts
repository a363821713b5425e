// fl.nn: layers and their building blocks.
export { Module, ModuleList } from './module.js';
export type { StateDict, StateEntry } from './module.js';
export * as init from './init.js';
export { lstmLayerParamCount, lstmStackParamCount, lstmStackParamCounts, lstmStackLayers, checkLayerSizes } from './params.js';
export { CELL_KINDS } from './cells.js';
export type { CellKind } from './cells.js';
export type { LayerSizes, LstmLayerSizes, LstmStackSizes } from './sizes.js';
export { LSTM, LSTMStack, parseGroups } from './lstm.js';
export type { LSTMOptions, LSTMState, LSTMStackOptions } from './lstm.js';
export { LanguageModel } from './lm.js';
export type { LanguageModelOptions, SparseRows, StepOptions } from './lm.js';
export { Table, mergeShards, splitShards, rowsPerShard } from './table.js';
export type { TableShard } from './table.js';
