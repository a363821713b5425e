// fl.nn.LanguageModel: embedding -> dropout -> LSTM stack (dropout after each layer) ->
// softmax, as in the paper's code. Training uses the full softmax, or sampled softmax
// (`sampled` > 0: shared log-uniform samples per batch, accidental hits removed). Evaluation
// always uses the full softmax.
//
// Sparse rows. The embedding and the softmax table touch few rows per batch. Training
// gathers those rows into small leaf tensors (under noGrad) and runs the step on them, so
// their gradients come out as [rows, dim] blocks: `sparse` lists (table, ids, rows) for the
// optimizer's sparse update (fl.optim ... stepSparse); the big tables get no dense gradient.
//
// Tables past one binding. Each table is a Table (nn/table.ts): one parameter when it fits a
// storage binding, else row shards `<name>_shard<i>`. Gathered rows and sparse updates work
// across shards; the full softmax's logits are each shard's product written into its columns,
// a batch's rows at a time so that no logits block passes a binding. The state dict holds
// each table as one logical tensor whatever the shard count.
import { Tensor, tidy } from '../tensor.js';
import { noGrad } from '../autograd.js';
import { embedding } from '../ops/embedding.js';
import { dropout, type StreamSlice } from '../ops/dropout.js';
import { matmul } from '../ops/matmul.js';
import { softmaxCrossEntropy } from '../ops/softmax_ce.js';
import { sampleCandidates, sampledSoftmaxLoss } from '../ops/sampled_softmax.js';
import { Module, type StateDict } from './module.js';
import { positionsIn, splitShards, Table, uniqueSorted } from './table.js';
import { sliceRows } from '../ops/rows.js';
import { add, scale } from '../ops/elementwise.js';
import { matmulRaw } from '../ops/matmul_kernel.js';
import { out } from '../ops/dispatch.js';
import { rt } from '../gpu/runtime.js';
import { zeros } from '../ops/create.js';
import { LSTMStack, checkPrecision, parseGroups, type LSTMState, type Precision } from './lstm.js';
import { cast } from '../ops/cast.js';
import { stackSizesOf, type ModelSizes } from './sizes.js';
import type { MatmulVariant } from '../ops/matmul_kernel.js';

/** The model's sizes, declared once: a run's ModelConfig (train/config.ts) is these, all given. */
export interface LanguageModelOptions extends Omit<ModelSizes, 'groups'> {
  vocabSize: number;
  /** k, G-LSTM's groups: one for every layer, or one per layer ("4,8" as a string too). */
  groups?: number | readonly number[] | string;
  /** Dropout of the embedding and of each layer's output, in training mode (default 0). */
  dropout?: number;
  seed?: number;
  variant?: MatmulVariant;
  /** 'f16': the products read f16 copies of the weight matrices and of their inputs (see nn.LSTM). */
  precision?: Precision;
  /**
   * false: the embedding and softmax tables start as zeros made on the GPU instead of drawn
   * values (a model whose weights are loaded next: a large vocabulary's tables are not drawn
   * on the host for nothing). Default true.
   */
  drawTables?: boolean;
}

/** A table, the rows a batch touched, and the leaf holding those rows (its .grad after backward). */
export interface SparseRows {
  table: Table;
  ids: Int32Array;
  rows: Tensor;
  /** The leading rows that a step updates (default all): the sampled softmax's padding has no gradient and is not updated. */
  updated?: number;
}

export interface StepOptions {
  /** Sampled-softmax samples (0: full softmax). */
  sampled?: number;
  /** Seeds the sampler and the dropout masks of this step (a resumed run passes the same). */
  seed: number;
  /** The batch's streams are these of a larger batch (data-parallel training): the dropout masks are that batch's. */
  streams?: StreamSlice;
}

export class LanguageModel extends Module {
  readonly options: LanguageModelOptions;
  readonly embeddingTable: Table;
  readonly rnn: LSTMStack;
  readonly softmaxTable: Table;
  readonly biasTable: Table;
  readonly dropoutRate: number;
  readonly precision: Precision;

  constructor(o: LanguageModelOptions) {
    super();
    if (!(Number.isInteger(o.vocabSize) && o.vocabSize >= 2))
      throw new Error(`flstm: LanguageModel: vocabSize must be an integer >= 2, got ${o.vocabSize}`);
    if (!(Number.isInteger(o.emb) && o.emb >= 1)) throw new Error(`flstm: LanguageModel: emb must be a positive integer, got ${o.emb}`);
    this.options = { ...o };
    this.dropoutRate = o.dropout ?? 0;
    this.precision = checkPrecision(o.precision, 'LanguageModel');
    const seed = o.seed ?? 1;
    const sizes = stackSizesOf({ ...o, cell: o.cell ?? 'lstm', groups: parseGroups(o.groups) });
    this.rnn = this.registerModule(
      'rnn',
      new LSTMStack({ ...sizes, dropout: o.dropout, seed: seed + 1, variant: o.variant, precision: this.precision }),
    );
    const d = this.rnn.outputSize;
    const draw = o.drawTables ?? true;
    this.embeddingTable = this.registerTable(
      draw ? Table.uniform('embedding', [o.vocabSize, o.emb], 0.05, seed + 2) : Table.zeros('embedding', [o.vocabSize, o.emb]),
    );
    this.softmaxTable = this.registerTable(
      draw ? Table.uniform('softmax_w', [o.vocabSize, d], 1 / Math.sqrt(d), seed + 3) : Table.zeros('softmax_w', [o.vocabSize, d]),
    );
    this.biasTable = this.registerTable(Table.zeros('softmax_b', [o.vocabSize], this.softmaxTable));
  }

  private registerTable(t: Table): Table {
    for (const [name, param] of t.namedShards()) this.registerParameter(name, param);
    return t;
  }

  /** The tables (embedding, softmax weights, softmax bias). */
  get tables(): Table[] {
    return [this.embeddingTable, this.softmaxTable, this.biasTable];
  }

  /** The embedding [V, emb] of an unsharded model (a sharded one: embeddingTable). */
  get embedding(): Tensor {
    return this.embeddingTable.single;
  }

  get softmaxW(): Tensor {
    return this.softmaxTable.single;
  }

  get softmaxB(): Tensor {
    return this.biasTable.single;
  }

  /**
   * The entries of stateDict() in parameter order: each parameter outside a table by its name,
   * each table once (at its first shard) by the table's name.
   */
  private logicalEntries(): [string, Tensor | Table][] {
    const tableOf = new Map(this.tables.flatMap((t) => t.shards.map((s, i) => [s.param, { t, first: i === 0 }] as const)));
    const out: [string, Tensor | Table][] = [];
    for (const [name, p] of this.parameters()) {
      const table = tableOf.get(p);
      if (!table) out.push([name, p]);
      else if (table.first) out.push([table.t.name, table.t]);
    }
    return out;
  }

  /** The entries of stateDict() unread, in its order: a checkpoint reads each a piece at a time. */
  stateSources(): [string, Tensor | Table][] {
    return this.logicalEntries();
  }

  /** The shape of each entry of stateDict(), in parameter order (each table as one logical tensor). */
  stateShapes(): Record<string, { shape: number[] }> {
    return Object.fromEntries(this.logicalEntries().map(([name, v]) => [name, { shape: [...v.shape] }]));
  }

  /**
   * The parameters' values, each table as one logical tensor (whatever its shard count), in
   * stateShapes()'s order. A sharded table is read shard by shard into its tensor, so the host
   * holds each value once (a large vocabulary's table is gigabytes).
   */
  override async stateDict(): Promise<StateDict> {
    const out: StateDict = {};
    for (const [name, v] of this.logicalEntries())
      out[name] = v instanceof Table ? await v.read() : { shape: [...v.shape], data: (await v.data()) as Float32Array };
    return out;
  }

  /** Loads a state dict whose tables are logical tensors (of any model's shard count). */
  override loadStateDict(dict: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>): void {
    super.loadStateDict(splitShards(dict, this.tables));
  }

  get vocabSize(): number {
    return this.options.vocabSize;
  }

  zeroState(B: number): LSTMState[] {
    return this.rnn.zeroState(B);
  }

  /** Hidden outputs [T*B, d] of the embedded inputs `x` [T*B, emb]. */
  private hidden(x2: Tensor, T: number, B: number, state: LSTMState[] | undefined, seed: number, streams?: StreamSlice) {
    let x = x2.reshape([T, B, this.options.emb]);
    if (this.training && this.dropoutRate > 0) x = dropout(x, this.dropoutRate, { seed: (seed * 2654435761) >>> 0, streams });
    const { y, state: next } = this.rnn.forward(x, state, { dropoutSeed: seed, streams });
    return { h: y.reshape([T * B, y.shape[2]]), state: next };
  }

  /**
   * One training batch: mean cross-entropy of `targets` given `inputs` (both time-major
   * [T*B]), from `state` (zeros when absent). Returns the loss (call backward on it), the
   * next state (detached) and the sparse rows whose gradients the optimizer applies.
   */
  trainLoss(
    inputs: Int32Array,
    targets: Int32Array,
    T: number,
    B: number,
    state: LSTMState[] | undefined,
    o: StepOptions,
  ): { loss: Tensor; state: LSTMState[]; sparse: SparseRows[] } {
    this.checkBatch(inputs, targets, T, B);
    const sparse: SparseRows[] = [];
    // Embedding rows of this batch as a small leaf.
    const inIds = uniqueSorted(inputs);
    const embRows = leafRows(this.embeddingTable, inIds);
    sparse.push({ table: this.embeddingTable, ids: inIds, rows: embRows });
    const { h, state: next } = this.hidden(embedding(embRows, positionsIn(inputs, inIds)), T, B, state, o.seed, o.streams);
    const S = o.sampled ?? 0;
    let loss: Tensor;
    if (S > 0) {
      const cand = sampleCandidates(targets, this.vocabSize, S, (o.seed * 40503 + 17) >>> 0);
      const wRows = leafRows(this.softmaxTable, cand.ids);
      const bRows = leafRows(this.biasTable, cand.ids);
      sparse.push(
        { table: this.softmaxTable, ids: cand.ids, rows: wRows, updated: cand.real },
        { table: this.biasTable, ids: cand.ids, rows: bRows, updated: cand.real },
      );
      loss = sampledSoftmaxLoss(this.stored(h), this.stored(wRows), bRows, cand);
    } else {
      if (this.softmaxTable.shards.length > 1) {
        throw new Error(
          `flstm: LanguageModel: the full softmax trains a softmax table of one binding; this one (${this.vocabSize} x ${this.rnn.outputSize}) ` +
            `is stored in ${this.softmaxTable.shards.length} shards: train with the sampled softmax (--sampled N)`,
        );
      }
      const logits = matmul(this.stored(h), this.stored(this.softmaxW), { transposeB: true, bias: this.softmaxB });
      loss = softmaxCrossEntropy(logits, targets);
    }
    return { loss, state: next, sparse };
  }

  /** The softmax weight's shards as the products read them (f16 copies with f16 precision). */
  private storedSoftmax(): Tensor[] {
    return this.softmaxTable.shards.map((s) => this.stored(s.param));
  }

  /**
   * Full-softmax logits [rows, V] of hidden outputs `h` [rows, d]: each shard's product in its
   * columns. `weights`: storedSoftmax(), made once when several blocks of rows use it.
   */
  private fullLogits(h: Tensor, weights: Tensor[] = this.storedSoftmax()): Tensor {
    const [W, b] = [this.softmaxTable, this.biasTable];
    if (W.shards.length === 1) return matmul(this.stored(h), weights[0], { transposeB: true, bias: b.single });
    const [rows, d] = h.shape;
    const a = this.stored(h);
    const logits = out([rows, this.vocabSize], 'f32', 'LanguageModel.logits');
    W.shards.forEach((s, i) => {
      const w = weights[i];
      matmulRaw({
        a: a.buffer,
        b: w.buffer,
        c: logits.buffer,
        bias: b.shards[i].param.buffer,
        M: rows,
        N: s.rows,
        K: d,
        batch: 1,
        transA: false,
        transB: true,
        lda: d,
        ldb: d,
        ldc: this.vocabSize,
        strideA: 0,
        strideB: 0,
        strideC: 0,
        strideBias: 0,
        offC: s.start,
        typeA: a.dtype === 'f16' ? 'f16' : 'f32',
        typeB: w.dtype === 'f16' ? 'f16' : 'f32',
      });
    });
    return logits;
  }

  /** Rows of hidden outputs whose [rows, V] logits fit one binding. */
  /** Positions whose full-softmax logits fit one binding: evalLoss scores a batch in blocks of this many. */
  logitRowsPerBlock(): number {
    return Math.max(1, Math.floor(rt().info.maxBindingBytes / (this.vocabSize * 4)));
  }

  /** Full-softmax logits [T*B, V] and the next state, without recording gradients. */
  logits(inputs: Int32Array, T: number, B: number, state?: LSTMState[]): { logits: Tensor; state: LSTMState[] } {
    // Only the logits and the state outlive the call: a loop over batches or tokens holds no
    // intermediates (each batch's [T*B, V] logits go back to the pool when disposed).
    return tidy(() =>
      noGrad(() => {
        const { h, state: next } = this.hidden(this.embeddingTable.lookup(inputs), T, B, state, 0);
        return { logits: this.fullLogits(h), state: next };
      }),
    );
  }

  /**
   * Mean full-softmax cross-entropy of a batch (evaluation), without recording gradients.
   * With a `mask` (a padded stream batch), only the positions where it is 1 count; `count`
   * is how many did (0: `loss` is 0).
   */
  evalLoss(
    inputs: Int32Array,
    targets: Int32Array,
    T: number,
    B: number,
    state?: LSTMState[],
    mask?: Uint8Array,
  ): { loss: Tensor; state: LSTMState[]; count: number } {
    this.checkBatch(inputs, targets, T, B);
    if (mask !== undefined && mask.length !== T * B)
      throw new Error(`flstm: LanguageModel: the mask has ${mask.length} entries for a batch of ${T * B}`);
    // Only the loss and the state outlive the call (the logits and the rest are disposed).
    return tidy(() =>
      noGrad(() => {
        const { h, state: next } = this.hidden(this.embeddingTable.lookup(inputs), T, B, state, 0);
        const kept: number[] = [];
        for (let i = 0; i < T * B; i++) if (!mask || mask[i] !== 0) kept.push(i);
        if (kept.length === 0) return { loss: zeros([]), state: next, count: 0 };
        // Blocks of rows whose logits fit a binding (one block unless the vocabulary is large):
        // the loss is the blocks' mean losses weighted by their counted positions.
        const per = this.logitRowsPerBlock();
        const weights = this.storedSoftmax();
        let loss: Tensor | null = null;
        for (let from = 0; from < T * B; from += per) {
          const to = Math.min(T * B, from + per);
          // Each block's logits are freed as soon as its loss is encoded, so a batch holds one
          // block of logits at a time however large the vocabulary.
          const prev: Tensor | null = loss;
          loss = tidy((): Tensor | null => {
            const part = this.blockLoss(
              h,
              weights,
              from,
              to,
              kept.filter((i) => i >= from && i < to),
              targets,
            );
            if (!part) return prev;
            const weighted = part.rows === kept.length ? part.loss : scale(part.loss, part.rows / kept.length);
            return prev ? add(prev, weighted) : weighted;
          });
        }
        return { loss: loss!, state: next, count: kept.length };
      }),
    );
  }

  /** The mean full-softmax loss of the counted positions `kept` of rows from .. to - 1 of `h` (null: none). */
  private blockLoss(
    h: Tensor,
    weights: Tensor[],
    from: number,
    to: number,
    kept: number[],
    targets: Int32Array,
  ): { loss: Tensor; rows: number } | null {
    if (kept.length === 0) return null;
    const block = from === 0 && to === h.shape[0] ? h : sliceRows(h, from, to);
    const logits = this.fullLogits(block, weights);
    if (kept.length === to - from) return { loss: softmaxCrossEntropy(logits, targets.subarray(from, to)), rows: kept.length };
    // The counted positions' logits rows (a row gather is an embedding lookup) and targets.
    const rows = embedding(
      logits,
      Int32Array.from(kept, (i) => i - from),
    );
    return {
      loss: softmaxCrossEntropy(
        rows,
        Int32Array.from(kept, (i) => targets[i]),
      ),
      rows: kept.length,
    };
  }

  /** A softmax operand (the weight, or the LSTM output) as the products read it: itself, or its f16 copy. */
  private stored(w: Tensor): Tensor {
    return this.precision === 'f16' ? cast(w, 'f16') : w;
  }

  private checkBatch(inputs: Int32Array, targets: Int32Array, T: number, B: number): void {
    if (inputs.length !== T * B || targets.length !== T * B) {
      throw new Error(
        `flstm: LanguageModel: a batch of T=${T} x B=${B} needs ${T * B} inputs and targets, got ${inputs.length} and ${targets.length}`,
      );
    }
  }
}

/** The rows `ids` of `table` as a fresh leaf that requires grad. */
function leafRows(table: Table, ids: Int32Array): Tensor {
  const rows = table.gatherRows(ids);
  rows.requiresGrad = true;
  return rows;
}
