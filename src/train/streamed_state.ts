// A training run's checkpoint tensors as streamed tensors (safetensors.ts StreamedTensorInput):
// the model's parameters (each table as its logical tensor, read from the shards that hold each
// piece), the optimizer's state tensors (a table's slots likewise) and the moving averages are
// read from the GPU a piece at a time while their file is written. At the paper's vocabulary
// the tables and their Adagrad state are gigabytes each: host copies of them all would be
// several times the GPU's memory, where this way the host holds one piece. The names, shapes
// and order are those of the copies (LanguageModel.stateDict, optimizerStateOf,
// MovingAverage.stateDict), so the files are the same bytes.
import type { Tensor } from '../tensor.js';
import type { LanguageModel } from '../nn/lm.js';
import { mergeShardsWith, readAcross, Table } from '../nn/table.js';
import type { Optimizer, OptimizerScalars } from '../optim/optimizer.js';
import type { MovingAverage } from '../optim/moving_average.js';
import type { StreamedTensorInput } from './safetensors.js';

/** Looks at each piece of a tensor as it is read (values `offset` on of tensor `name`); a throw abandons the save. */
export type PieceCheck = (name: string, offset: number, piece: Float32Array | Int32Array) => void;

/** A streamed tensor of `shape` read from `parts` laid end to end (one tensor, or a table's shards). */
function streamedOf(name: string, shape: readonly number[], parts: readonly Tensor[], check?: PieceCheck): StreamedTensorInput {
  return {
    dtype: parts[0].dtype === 'i32' ? 'I32' : 'F32',
    shape: [...shape],
    read: async (offset, count) => {
      const piece = await readAcross(parts, offset, count);
      check?.(name, offset, piece);
      return piece;
    },
  };
}

/** The model's parameters, each table as one logical tensor, in stateDict()'s order; `check` sees each piece read. */
export function streamedModel(model: LanguageModel, check?: PieceCheck): Record<string, StreamedTensorInput> {
  const out: Record<string, StreamedTensorInput> = {};
  for (const [name, v] of model.stateSources()) {
    const parts = v instanceof Table ? v.shards.map((s) => s.param) : [v];
    out[name] = streamedOf(name, v.shape, parts, check);
  }
  return out;
}

/** The moving averages, named `ema.<parameter>` as MovingAverage.stateDict() names them. */
export function streamedAverages(average: MovingAverage): Record<string, StreamedTensorInput> {
  return Object.fromEntries(average.stateTensors().map(([name, t]) => [name, streamedOf(name, t.shape, [t])]));
}

/** The optimizer's state as optimizerStateOf gives it (each table's shards joined per slot), its tensors streamed. */
export async function streamedOptimizer(
  model: LanguageModel,
  opt: Optimizer,
): Promise<{ tensors: Record<string, StreamedTensorInput>; scalars: OptimizerScalars }> {
  const scalars = await opt.stateScalars();
  const byKey = Object.fromEntries(opt.stateTensors().map(([key, t]) => [key, { shape: t.shape, tensor: t }]));
  const joined = mergeShardsWith(byKey, model.tables, (parts, shape) => ({ shape, parts: parts.map((p) => p.tensor) }));
  const tensors: Record<string, StreamedTensorInput> = {};
  for (const [key, e] of Object.entries(joined)) {
    tensors[key] = 'parts' in e ? streamedOf(key, e.shape, e.parts) : streamedOf(key, e.shape, [e.tensor]);
  }
  return { tensors, scalars };
}

/** Weights that became NaN or infinite, found in a piece read for a checkpoint: the save is abandoned. */
export class NonFiniteWeights extends Error {
  constructor(readonly why: string) {
    super(`flstm: ${why}`);
    this.name = 'NonFiniteWeights';
  }
}

/**
 * A PieceCheck that throws NonFiniteWeights at the first NaN or infinite value, naming it as
 * the check of the whole weights did: `<tensor>[<index in the logical tensor>] = <value>`.
 */
export function finiteWeights(step: number): PieceCheck {
  return (name, offset, piece) => {
    const bad = piece.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new NonFiniteWeights(`the weights became NaN or infinite by step ${step} (${name}[${offset + bad}] = ${piece[bad]})`);
  };
}

/** Why a save failed on non-finite weights (NonFiniteWeights anywhere in the causes of `e`), or null. */
export function nonFiniteWeightsIn(e: unknown): string | null {
  for (let x = e as { cause?: unknown } | null, depth = 0; x && depth < 6; x = x.cause as typeof x, depth++) {
    if (x instanceof NonFiniteWeights) return x.why;
  }
  return null;
}
