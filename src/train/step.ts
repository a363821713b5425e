// One training step and the pieces the trainer and the browser demo share: the model and
// optimizer a configuration makes, and the per-step seed. Node-free (the trainer around it
// reads and writes files; the page imports this module directly).
import { Tensor, tidy } from '../tensor.js';
import { full } from '../ops/create.js';
import { info } from '../engine.js';
import { scale } from '../ops/elementwise.js';
import { LanguageModel, type LanguageModelOptions, type SparseRows } from '../nn/lm.js';
import { sliceRows } from '../ops/rows.js';
import type { LSTMState } from '../nn/lstm.js';
import { Adagrad, Adam, SGD } from '../optim/index.js';
import type { Optimizer, OptimizerStateDict, OptimizerStateInput } from '../optim/optimizer.js';
import { mergeShards, splitShards } from '../nn/table.js';
import { MovingAverage } from '../optim/moving_average.js';
import { averageScheduleOf, type TrainConfig } from './config.js';

export function modelOptions(c: TrainConfig, vocabSize: number): LanguageModelOptions {
  return {
    vocabSize,
    emb: c.model.emb,
    layers: c.model.layers,
    hidden: c.model.hidden,
    proj: c.model.proj,
    cell: c.model.cell,
    factor: c.model.factor,
    groups: c.model.groups,
    dropout: c.model.dropout,
    seed: c.seed,
    precision: c.model.precision,
  };
}

/**
 * The options of a saved model being loaded to evaluate, generate or train on in a new
 * session: as saved, except that a model trained with f16 storage loads as f32 on an adapter
 * without shader-f16 (its weights are f32; f16 only changes how the products read them).
 */
export function loadedModelOptions(c: TrainConfig, vocabSize: number): LanguageModelOptions {
  const o = modelOptions(c, vocabSize);
  if (o.precision === 'f16' && !info().features.includes('shader-f16')) o.precision = 'f32';
  return o;
}

export function makeOptimizer(c: TrainConfig, model: LanguageModel): Optimizer {
  // Clipping by global norm applies to the LSTM weights, as in the paper's code.
  const clip = c.clip > 0 ? { maxNorm: c.clip, params: (name: string) => name.startsWith('rnn.') } : null;
  const params = model.parameters();
  if (c.optimizer === 'adagrad') return new Adagrad(params, { lr: c.lr, initialAccumulator: 1.0, clip });
  if (c.optimizer === 'adam') return new Adam(params, { lr: c.lr, clip });
  return new SGD(params, { lr: c.lr, clip });
}

/** The run's moving average of the LSTM weights (f-lm's, for evaluation), when its configuration keeps one. */
export function makeMovingAverage(c: TrainConfig, model: LanguageModel): MovingAverage | undefined {
  const schedule = averageScheduleOf(c);
  return c.ema && schedule
    ? new MovingAverage(
        model.parameters().filter(([name]) => name.startsWith('rnn.')),
        c.ema,
        schedule,
      )
    : undefined;
}

/** The optimizer's state for a checkpoint, each table's shards joined into one logical tensor per slot. */
export async function optimizerStateOf(model: LanguageModel, opt: Optimizer): Promise<OptimizerStateDict> {
  const d = await opt.stateDict();
  return { tensors: mergeShards(d.tensors, model.tables), scalars: d.scalars };
}

/** Restores a checkpoint's optimizer state (logical tables) into this model's shards. */
export function loadOptimizerState(model: LanguageModel, opt: Optimizer, state: OptimizerStateInput): void {
  opt.loadStateDict({ tensors: splitShards(state.tensors, model.tables), scalars: state.scalars });
}

export function disposeState(s?: LSTMState[]): void {
  s?.forEach((x) => {
    x.h.dispose();
    x.c.dispose();
  });
}

/** Stateless per-step seed (sampler, dropout), so a resumed run draws what the whole run would. */
export function stepSeed(seed: number, step: number): number {
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(step + 1, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/** A batch as trainStep needs it: time-major ids [T*B]. */
export interface StepBatch {
  inputs: Int32Array;
  targets: Int32Array;
  steps: number;
  batchSize: number;
}

/**
 * How a step scales the gradient before the update, a part of the recipe. 'paper': what the
 * paper's code feeds Adagrad, the gradient of loss·T (the per-sequence sum over time, averaged
 * over streams) with the embedding's rows further multiplied by B. 'mean': the gradient of the
 * mean loss per token.
 */
export type GradientScale = 'paper' | 'mean';

/** Each optimizer's gradient scale: Adagrad's learning rate (0.2) is the paper's, for its scale. */
export const GRADIENT_SCALE: Record<TrainConfig['optimizer'], GradientScale> = { adagrad: 'paper', adam: 'mean', sgd: 'mean' };

/** How a step trains: its gradient scale, sampled-softmax samples and seed. */
export interface StepRecipe {
  gradientScale: GradientScale;
  sampled: number;
  seed: number;
}

/** The step options of a run's configuration. */
export function stepOptions(c: TrainConfig, seed: number): StepRecipe {
  return { gradientScale: GRADIENT_SCALE[c.optimizer], sampled: c.sampled, seed };
}

/** The rows of a sparse gradient that a step updates, and their gradient. */
export function updatedRows(s: SparseRows): { ids: Int32Array; grad: Tensor } {
  const n = s.updated ?? s.ids.length;
  return n === s.ids.length ? { ids: s.ids, grad: s.rows.grad! } : { ids: s.ids.subarray(0, n), grad: sliceRows(s.rows.grad!, 0, n) };
}

/**
 * One training step, encoded only (no host round trip): forward, backward, the optimizer's
 * update (the embedding's and the sampled softmax's rows as sparse updates), gradients
 * cleared. Call it inside tidy and keep what you carry: it returns the loss and the next
 * state. Used by the trainer and by the benchmark (bench/step.ts), so both time one thing.
 * `gradientScale` says how the gradient is scaled (see GradientScale).
 */
export function trainStep(
  model: LanguageModel,
  opt: Optimizer,
  b: StepBatch,
  state: LSTMState[] | undefined,
  o: { gradientScale: GradientScale; sampled: number; seed: number },
): { loss: Tensor; state: LSTMState[] } {
  const r = model.trainLoss(b.inputs, b.targets, b.steps, b.batchSize, state, { sampled: o.sampled, seed: o.seed });
  const paper = o.gradientScale === 'paper';
  r.loss.backward(paper ? full([], b.steps) : undefined);
  const sparse = r.sparse.flatMap((s) => {
    const { ids, grad } = updatedRows(s);
    return s.table.sparseUpdates(ids, paper && s.table === model.embeddingTable ? scale(grad, b.batchSize) : grad);
  });
  opt.step({ sparse });
  r.sparse.forEach((s) => s.rows.grad?.dispose());
  model.zeroGrad();
  return { loss: r.loss, state: r.state };
}
