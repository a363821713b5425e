// fl.nn.LanguageModel: embedding -> dropout -> LSTM stack (dropout after each layer) ->
// softmax, as in the paper's code. Training uses the full softmax, or sampled softmax
// (`sampled` > 0: shared log-uniform samples per batch, accidental hits removed). Evaluation
// always uses the full softmax.
//
// Sparse rows. The embedding and the softmax table touch few rows per batch. Training
// gathers those rows into small leaf tensors (under noGrad) and runs the step on them, so
// their gradients come out as [rows, dim] blocks: `sparse` lists (table, ids, rows) for the
// optimizer's sparse update (fl.optim ... stepSparse); the big tables get no dense gradient.
import { Tensor, tidy } from '../tensor.js';
import { noGrad } from '../autograd.js';
import { embedding } from '../ops/embedding.js';
import { dropout } from '../ops/dropout.js';
import { matmul } from '../ops/matmul.js';
import { softmaxCrossEntropy } from '../ops/softmax_ce.js';
import { sampleCandidates, sampledSoftmaxLoss } from '../ops/sampled_softmax.js';
import { Module } from './module.js';
import { uniform } from './init.js';
import { zeros } from '../ops/create.js';
import { LSTMStack, checkPrecision, type LSTMState, type Precision } from './lstm.js';
import { cast } from '../ops/cast.js';
import type { CellKind } from './params.js';
import type { MatmulVariant } from '../ops/matmul_kernel.js';

/** The model's sizes, declared once: a run's ModelConfig (train/config.ts) is these, all given. */
export interface LanguageModelOptions {
  vocabSize: number;
  /** The embedding's width: the input of layer 1. */
  emb: number;
  layers: number;
  /** n, the cell size of every layer. */
  hidden: number;
  /** p, the projection size (the output of every layer); 0 or omitted: none, the output is n wide. */
  proj?: number;
  /** Default 'lstm'. */
  cell?: CellKind;
  /** r, F-LSTM's factor size. */
  factor?: number;
  /** k, G-LSTM's groups: one for every layer, or one per layer ("4,8" as a string too). */
  groups?: number | readonly number[] | string;
  /** Dropout of the embedding and of each layer's output, in training mode (default 0). */
  dropout?: number;
  seed?: number;
  variant?: MatmulVariant;
  /** 'f16': the products read f16 copies of the weight matrices and of their inputs (see nn.LSTM). */
  precision?: Precision;
}

/** A table, the rows a batch touched, and the leaf holding those rows (its .grad after backward). */
export interface SparseRows {
  table: Tensor;
  ids: Int32Array;
  rows: Tensor;
}

export interface StepOptions {
  /** Sampled-softmax samples (0: full softmax). */
  sampled?: number;
  /** Seeds the sampler and the dropout masks of this step (a resumed run passes the same). */
  seed: number;
}

export class LanguageModel extends Module {
  readonly options: LanguageModelOptions;
  readonly embedding: Tensor;
  readonly rnn: LSTMStack;
  readonly softmaxW: Tensor;
  readonly softmaxB: Tensor;
  readonly dropoutRate: number;
  readonly precision: Precision;

  constructor(o: LanguageModelOptions) {
    super();
    if (!(Number.isInteger(o.vocabSize) && o.vocabSize >= 2)) throw new Error(`flstm: LanguageModel: vocabSize must be an integer >= 2, got ${o.vocabSize}`);
    if (!(Number.isInteger(o.emb) && o.emb >= 1)) throw new Error(`flstm: LanguageModel: emb must be a positive integer, got ${o.emb}`);
    this.options = { ...o };
    this.dropoutRate = o.dropout ?? 0;
    this.precision = checkPrecision(o.precision, 'LanguageModel');
    const seed = o.seed ?? 1;
    this.rnn = this.registerModule('rnn', new LSTMStack({
      layers: o.layers, inputSize: o.emb, hiddenSize: o.hidden, projSize: o.proj, cell: o.cell, factor: o.factor,
      groups: o.groups, dropout: o.dropout, seed: seed + 1, variant: o.variant, precision: this.precision,
    }));
    const d = this.rnn.outputSize;
    this.embedding = this.registerParameter('embedding', uniform([o.vocabSize, o.emb], 0.05, seed + 2));
    this.softmaxW = this.registerParameter('softmax_w', uniform([o.vocabSize, d], 1 / Math.sqrt(d), seed + 3));
    this.softmaxB = this.registerParameter('softmax_b', zeros([o.vocabSize]));
  }

  get vocabSize(): number {
    return this.options.vocabSize;
  }

  zeroState(B: number): LSTMState[] {
    return this.rnn.zeroState(B);
  }

  /** Hidden outputs [T*B, d] for time-major ids [T*B]; the embedding rows come from `table`. */
  private hidden(table: Tensor, ids: Int32Array, T: number, B: number, state: LSTMState[] | undefined, seed: number) {
    let x = embedding(table, ids).reshape([T, B, this.options.emb]);
    if (this.training && this.dropoutRate > 0) x = dropout(x, this.dropoutRate, { seed: (seed * 2654435761) >>> 0 });
    const { y, state: next } = this.rnn.forward(x, state, { dropoutSeed: seed });
    return { h: y.reshape([T * B, y.shape[2]]), state: next };
  }

  /**
   * One training batch: mean cross-entropy of `targets` given `inputs` (both time-major
   * [T*B]), from `state` (zeros when absent). Returns the loss (call backward on it), the
   * next state (detached) and the sparse rows whose gradients the optimizer applies.
   */
  trainLoss(inputs: Int32Array, targets: Int32Array, T: number, B: number, state: LSTMState[] | undefined, o: StepOptions): { loss: Tensor; state: LSTMState[]; sparse: SparseRows[] } {
    this.checkBatch(inputs, targets, T, B);
    const sparse: SparseRows[] = [];
    // Embedding rows of this batch as a small leaf.
    const inIds = uniqueSorted(inputs);
    const embRows = leafRows(this.embedding, inIds);
    sparse.push({ table: this.embedding, ids: inIds, rows: embRows });
    const { h, state: next } = this.hidden(embRows, remap(inputs, inIds), T, B, state, o.seed);
    const S = o.sampled ?? 0;
    let loss: Tensor;
    if (S > 0) {
      const cand = sampleCandidates(targets, this.vocabSize, S, (o.seed * 40503 + 17) >>> 0);
      const wRows = leafRows(this.softmaxW, cand.ids);
      const bRows = leafRows(noGrad(() => this.softmaxB.reshape([this.vocabSize, 1])), cand.ids);
      sparse.push({ table: this.softmaxW, ids: cand.ids, rows: wRows }, { table: this.softmaxB, ids: cand.ids, rows: bRows });
      loss = sampledSoftmaxLoss(this.stored(h), this.stored(wRows), bRows.reshape([cand.ids.length]), cand);
    } else {
      const logits = matmul(this.stored(h), this.stored(this.softmaxW), { transposeB: true, bias: this.softmaxB });
      loss = softmaxCrossEntropy(logits, targets);
    }
    return { loss, state: next, sparse };
  }

  /** Full-softmax logits [T*B, V] and the next state, without recording gradients. */
  logits(inputs: Int32Array, T: number, B: number, state?: LSTMState[]): { logits: Tensor; state: LSTMState[] } {
    // Only the logits and the state outlive the call: a loop over batches or tokens holds no
    // intermediates (each batch's [T*B, V] logits go back to the pool when disposed).
    return tidy(() => noGrad(() => {
      const { h, state: next } = this.hidden(this.embedding, inputs, T, B, state, 0);
      return { logits: matmul(this.stored(h), this.stored(this.softmaxW), { transposeB: true, bias: this.softmaxB }), state: next };
    }));
  }

  /**
   * Mean full-softmax cross-entropy of a batch (evaluation), without recording gradients.
   * With a `mask` (a padded stream batch), only the positions where it is 1 count; `count`
   * is how many did (0: `loss` is 0).
   */
  evalLoss(inputs: Int32Array, targets: Int32Array, T: number, B: number, state?: LSTMState[], mask?: Uint8Array): { loss: Tensor; state: LSTMState[]; count: number } {
    this.checkBatch(inputs, targets, T, B);
    if (mask !== undefined && mask.length !== T * B) throw new Error(`flstm: LanguageModel: the mask has ${mask.length} entries for a batch of ${T * B}`);
    // Only the loss and the state outlive the call (the logits and the rest are disposed).
    return tidy(() => noGrad(() => {
      const { logits, state: next } = this.logits(inputs, T, B, state);
      if (!mask || mask.every((m) => m !== 0)) return { loss: softmaxCrossEntropy(logits, targets), state: next, count: T * B };
      const rows: number[] = [];
      mask.forEach((m, i) => { if (m !== 0) rows.push(i); });
      if (rows.length === 0) return { loss: zeros([]), state: next, count: 0 };
      // The real positions' logits rows (a row gather is an embedding lookup) and targets.
      const kept = embedding(logits, Int32Array.from(rows));
      return { loss: softmaxCrossEntropy(kept, Int32Array.from(rows, (i) => targets[i])), state: next, count: rows.length };
    }));
  }

  /** A softmax operand (the weight, or the LSTM output) as the products read it: itself, or its f16 copy. */
  private stored(w: Tensor): Tensor {
    return this.precision === 'f16' ? cast(w, 'f16') : w;
  }

  private checkBatch(inputs: Int32Array, targets: Int32Array, T: number, B: number): void {
    if (inputs.length !== T * B || targets.length !== T * B) {
      throw new Error(`flstm: LanguageModel: a batch of T=${T} x B=${B} needs ${T * B} inputs and targets, got ${inputs.length} and ${targets.length}`);
    }
  }
}

/** Distinct ids in ascending order. */
export function uniqueSorted(ids: Int32Array): Int32Array {
  return Int32Array.from(new Set(ids)).sort();
}

/** Positions of `ids` in the sorted unique list `uniq`. */
function remap(ids: Int32Array, uniq: Int32Array): Int32Array {
  const pos = new Map<number, number>();
  uniq.forEach((v, i) => pos.set(v, i));
  return ids.map((v) => pos.get(v)!);
}

/** The rows `ids` of `table` as a fresh leaf that requires grad. */
function leafRows(table: Tensor, ids: Int32Array): Tensor {
  const rows = noGrad(() => embedding(table, ids));
  rows.requiresGrad = true;
  return rows;
}

