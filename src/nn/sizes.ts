// The sizes of an LSTM layer, of a stack of them and of a language model, as one family of
// types: every layer-level shape (nn.LSTM's options, the layer op's LstmConfig, a validated
// layer of a stack) extends LayerSizes, and a language model states the same sizes in the
// words its checkpoint stores (emb, hidden, proj), turned into a stack's by stackSizesOf.
// Pure: no tensors, no GPU.
import type { CellKind } from './cells.js';
import type { LayerSizes } from './layer_sizes.js';

export { lstmOutputSize, type LayerSizes } from './layer_sizes.js';

/** One layer of a stack, validated: its cell named, the projection 0 when there is none. */
export interface LstmLayerSizes extends LayerSizes {
  cell: CellKind;
  /** 0: no projection. */
  projSize: number;
}

/** A stack of layers of one cell: layer 1 reads inputSize, each later layer the one before. */
export interface LstmStackSizes extends Omit<LayerSizes, 'groups'> {
  cell: CellKind;
  layers: number;
  /** k: one for every layer, or one per layer (hierarchical G-LSTM). */
  groups?: number | readonly number[];
}

/** A stack's sizes as a language model and its checkpoint name them. */
export interface ModelSizes {
  /** The cell of every layer (a LanguageModel's default: lstm). */
  cell?: CellKind;
  layers: number;
  /** The embedding's width: the input of layer 1. */
  emb: number;
  /** n, the cell size of every layer. */
  hidden: number;
  /** p, the projection size (the output of every layer); 0 or omitted: none, the output is n wide. */
  proj?: number;
  /** r, F-LSTM's factor size. */
  factor?: number;
  /** k, G-LSTM's groups: one for every layer, or one per layer. */
  groups?: number | readonly number[];
}

/** A language model's sizes in a stack's words. */
export function stackSizesOf(m: ModelSizes & { cell: CellKind }): LstmStackSizes {
  return { cell: m.cell, layers: m.layers, inputSize: m.emb, hiddenSize: m.hidden, projSize: m.proj, factor: m.factor, groups: m.groups };
}
