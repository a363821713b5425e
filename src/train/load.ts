// A language model from a checkpoint: a checkpoint folder (RUN/checkpoint) or one
// self-contained .safetensors file (a folder's model-<G>.safetensors, or one the demo page
// saved). Its vocabulary is the model's: evaluation, generation and a resumed run encode
// text with it. Node only (reads files).
import { tensor } from '../ops/create.js';
import { Vocabulary } from '../data/vocab.js';
import { LanguageModel } from '../nn/lm.js';
import type { LSTMState } from '../nn/lstm.js';
import { join } from 'node:path';
import { openCheckpoint, checkCompatible, checkedVocabulary, type FileWeight, type LoadOptions } from './checkpoint.js';
import { checkVocabulary, isObject, modelFileParts, schemaFail } from './checkpoint_schema.js';
import type { CheckpointConfig, TrainConfig, WeightsUsed } from './config.js';
import { disposeState, loadedModelOptions, modelOptions } from './step.js';
import { AVERAGE_PREFIX } from '../optim/moving_average.js';
import type { StateDict } from '../nn/module.js';
import { fillModel } from './streamed_load.js';

/** A checkpoint opened, its model file's values still in the file (openCheckpoint): close it once loaded. */
export type RawCheckpoint = Awaited<ReturnType<typeof openCheckpoint<CheckpointConfig>>>;

export interface LoadedModel {
  model: LanguageModel;
  config: CheckpointConfig;
  vocab: Vocabulary;
  state?: LSTMState[];
  /** The LSTM weights are the run's moving averages (a run with --ema), not the last step's. */
  averaged: boolean;
  /** Which weights the model holds: the moving averages or the trained ones (`averaged` said as a word). */
  weights: WeightsUsed;
}

/** `weights: 'average'` asked of a checkpoint that holds no moving average. */
export class NoAveragesError extends Error {}

export interface LoadModelOptions {
  /**
   * 'average': the LSTM's moving averages (an error when the checkpoint has none); 'trained':
   * the weights of the last step. Default: the averages when the checkpoint has them.
   */
  weights?: WeightsUsed;
  /** The most bytes of a weight read from the file at a time (default 64 MiB): the host's piece of a table. */
  pieceBytes?: number;
}

/** The files a checkpoint was read from, for messages: a folder's, or one self-contained model file. */
export function checkpointFiles(ck: RawCheckpoint, dir: string): { config: string; model: string; vocab: string } {
  if (ck.files.model === dir) return { config: `${dir} metadata flstm.config`, model: dir, vocab: `${dir} metadata flstm.vocab` };
  const model = join(dir, ck.files.model);
  return { config: join(dir, 'config.json'), model, vocab: ck.files.vocab ? join(dir, ck.files.vocab) : `${model} metadata flstm.vocab` };
}

/**
 * The checkpoint's files, its config checked to be a language model's, and its vocabulary.
 * openCheckpoint has checked a language model's files against each other (checkpoint_schema.ts),
 * all but the model file's values, which modelFromCheckpoint reads (and checks) a piece at a
 * time; the caller closes `ck` once done with it.
 */
export async function readLmCheckpoint(
  dir: string,
  opts: LoadOptions = {},
): Promise<{ ck: RawCheckpoint; config: CheckpointConfig; vocab: Vocabulary }> {
  const ck = await openCheckpoint<CheckpointConfig>(dir, opts);
  try {
    const { config, vocab } = checkedLm(ck, dir);
    return { ck, config, vocab };
  } catch (e) {
    await ck.close();
    throw e;
  }
}

function checkedLm(ck: RawCheckpoint, dir: string): { config: CheckpointConfig; vocab: Vocabulary } {
  const files = checkpointFiles(ck, dir);
  const config = ck.config as unknown;
  if (!isObject(config) || config.format !== 'flstm-lm/1') {
    schemaFail(
      files.config,
      'config.format',
      '"flstm-lm/1" (the checkpoint of an flstm language model)',
      isObject(config) ? config.format : config,
    );
  }
  if (ck.vocab === undefined) {
    if (ck.files.model === dir) schemaFail(dir, 'metadata flstm.vocab', 'the vocabulary (a language model needs one)', undefined);
    schemaFail(files.config, 'files.vocab', 'the vocabulary file (a language model needs one)', undefined);
  }
  const vocab = checkedVocabulary(ck) ?? checkVocabulary(files.vocab, ck.vocab, ck.config.vocabSize, files.config);
  return { config: ck.config, vocab };
}

function carriedState(entries: StateDict, layers: number, file: string): LSTMState[] | undefined {
  if (layers === 0) return undefined;
  const state: LSTMState[] = [];
  for (let l = 0; l < layers; l++) {
    const h = entries[`state.${l}.h`];
    const c = entries[`state.${l}.c`];
    if (!h || !c) {
      disposeState(state);
      throw new Error(`flstm: ${file}: the carried state of layer ${l} is missing`);
    }
    state.push({ h: tensor(h.data, h.shape).keep(), c: tensor(c.data, c.shape).keep() });
  }
  return state;
}

/** The weights a model is used with: the trained ones, each averaged one replaced by its average. */
function averagedWeights(weights: RawCheckpoint['model'], averages: RawCheckpoint['model']): RawCheckpoint['model'] {
  const out = { ...weights };
  for (const [k, v] of Object.entries(averages)) out[k.slice(AVERAGE_PREFIX.length)] = v;
  return out;
}

/**
 * A model of `train`'s shape holding the checkpoint's weights, and its carried state. The
 * weights are checked first: a checkpoint of another shape is one message naming the tensor
 * and both shapes. Then each is read from the file a piece at a time into its parameter (a
 * table's shards), every piece checked finite. `loadOnly`: a model for evaluation and
 * generation (no training state); `useAverages` (by default with `loadOnly`): the LSTM's
 * moving averages, when the checkpoint has them, are the weights (as f-lm evaluates);
 * otherwise the trained weights, and `averages` holds the averages for the run to continue,
 * unread (streamed_load.ts fillAverages loads them).
 */
export async function modelFromCheckpoint(
  ck: RawCheckpoint,
  config: CheckpointConfig,
  train: TrainConfig,
  dir: string,
  loadOnly = false,
  useAverages = loadOnly,
  pieceBytes?: number,
): Promise<{ model: LanguageModel; state?: LSTMState[]; averages: Record<string, FileWeight> }> {
  const parts = modelFileParts<FileWeight>(ck.model);
  const weights = useAverages ? averagedWeights(parts.weights, parts.averages) : parts.weights;
  const file = checkpointFiles(ck, dir).model;
  // The tables are loaded next: they start as zeros, not drawn.
  const model = new LanguageModel({ ...(loadOnly ? loadedModelOptions : modelOptions)(train, config.vocabSize), drawTables: false });
  try {
    checkCompatible(weights, model.stateShapes(), file);
    // A resumed run's averages are loaded into its moving average (fillAverages) once it is made.
    const keepAverages = !loadOnly && !useAverages;
    const kept = await fillModel(model, ck.model, weights, file, {
      keep: (name) => name.startsWith('state.'),
      later: (name) => keepAverages && name.startsWith(AVERAGE_PREFIX),
      pieceBytes,
    });
    return { model, state: carriedState(kept, config.stateLayers, file), averages: keepAverages ? parts.averages : {} };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** Loads a checkpoint's model (weights, vocabulary, carried state), its weights read a piece at a time. Needs fl.init(). */
export async function loadModel(dir: string, opts: LoadModelOptions = {}): Promise<LoadedModel> {
  // A model to evaluate or generate with: the optimizer file (as large as the weights) stays unread.
  const { ck, config, vocab } = await readLmCheckpoint(dir, { optimizer: false });
  try {
    const hasAverages = Object.keys(modelFileParts(ck.model).averages).length > 0;
    if (opts.weights === 'average' && !hasAverages) {
      throw new NoAveragesError(
        `flstm: ${checkpointFiles(ck, dir).model} holds no moving average of the weights (its run was trained without --ema): use the trained weights`,
      );
    }
    const averaged = hasAverages && opts.weights !== 'trained';
    const { model, state } = await modelFromCheckpoint(ck, config, config.train, dir, true, averaged, opts.pieceBytes);
    return { model, config, vocab, state, averaged, weights: averaged ? 'average' : 'trained' };
  } finally {
    await ck.close();
  }
}
