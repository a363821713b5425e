// The memory a training run will hold, computed from its configuration before anything is
// allocated: each table's shard layout (rows per shard under the binding limit) and bytes, the
// LSTM weights, their dense gradients, the optimizer's state (Adagrad one slot per parameter,
// Adam two, SGD with momentum one), f16 copies, the LSTM's moving average (--ema), and an estimate of one step's activations and
// temporaries (the LSTM layer's saved gates, cell states and outputs and its backward's
// buffers, dropout outputs, the softmax's logits and their gradient). Weights, gradients,
// state and copies are exact; activations are an estimate from the layer's buffers, labelled
// so. `flstm train --dry-run` prints it; every run's start line gives its total.
import { lstmStackLayers, lstmStackParamCounts } from '../nn/params.js';
import { cellSpec } from '../nn/cells.js';
import { lstmOutputSize, stackSizesOf, type LstmLayerSizes } from '../nn/sizes.js';
import { rowsPerShard } from '../nn/table.js';
import type { TrainConfig } from './config.js';
import { formatBytes } from './bytes.js';

export { formatBytes };

export interface TablePlan {
  name: string;
  shape: number[];
  bytes: number;
  shards: number;
  rowsPerShard: number;
}

export interface MemoryPlan {
  tables: TablePlan[];
  /** Bytes by what they hold. */
  weights: number;
  gradients: number;
  optimizer: number;
  f16Copies: number;
  /** The moving average of the LSTM weights (--ema) and the copy of the trained ones a validation keeps aside. */
  averages: number;
  /** One step's activations and temporaries: an estimate. */
  activations: number;
  total: number;
  maxBindingBytes: number;
}

const SLOTS: Record<TrainConfig['optimizer'], number> = { adagrad: 1, adam: 2, sgd: 0 };

function tablePlan(name: string, shape: number[], maxBindingBytes: number, alignRows?: number): TablePlan {
  const rowValues = shape.slice(1).reduce((a, b) => a * b, 1);
  const per = Math.min(alignRows ?? Infinity, rowsPerShard(name, shape[0], rowValues, maxBindingBytes));
  return { name, shape, bytes: shape[0] * rowValues * 4, shards: Math.ceil(shape[0] / per), rowsPerShard: per };
}

/** Bytes of one layer's forward buffers and backward temporaries for a batch of T·B. */
function layerActivationBytes(l: LstmLayerSizes, TB: number, dropout: boolean): number {
  const n = l.hiddenSize;
  const p = lstmOutputSize(l);
  const gates = cellSpec(l.cell).gates(l);
  const r = gates.kind === 'factored' ? gates.factor : 0;
  // gates, the input's product (x·W_x [4n], or a factored product's x·W1_x [r]), c, y, m with a projection
  const forward = 4 * n + (gates.kind === 'factored' ? r : 4 * n) + n + p + (l.projSize ? n : 0);
  const backward = p + 4 * n + r; // dH, dG, dZ
  return 4 * TB * (forward + backward + (dropout ? p : 0));
}

/** The memory plan of a run of `cfg` on a vocabulary of `vocabSize` words, bindings of `maxBindingBytes`. */
export function memoryPlan(cfg: TrainConfig, vocabSize: number, maxBindingBytes: number): MemoryPlan {
  const m = cfg.model;
  const stack = stackSizesOf(m);
  const layers = lstmStackLayers(stack);
  const d = lstmOutputSize(stack);
  const softmax = tablePlan('softmax_w', [vocabSize, d], maxBindingBytes);
  const tables = [
    tablePlan('embedding', [vocabSize, m.emb], maxBindingBytes),
    softmax,
    tablePlan('softmax_b', [vocabSize], maxBindingBytes, softmax.rowsPerShard),
  ];
  const tableBytes = tables.reduce((a, t) => a + t.bytes, 0);
  const lstmBytes = 4 * lstmStackParamCounts(stack).reduce((a, b) => a + b, 0);
  const TB = cfg.batch * cfg.bptt;
  const U = cfg.sampled > 0 ? Math.min(vocabSize, cfg.sampled + TB) : vocabSize;
  // Rows gathered per step and their gradients: the embedding's inputs, the softmax's candidates.
  const rowGrads = cfg.sampled > 0 ? 4 * (2 * TB * m.emb + 2 * U * (d + 1)) : 4 * 2 * TB * m.emb + tables[1].bytes + tables[2].bytes;
  const f16 = m.precision === 'f16';
  const f16Copies = f16
    ? lstmBytes / 2 +
      2 * TB * (m.emb + layers.reduce((a, l) => a + lstmOutputSize(l), 0)) +
      (cfg.sampled > 0 ? 2 * U * d : tables[1].bytes / 2)
    : 0;
  const softmaxActivations = 4 * 2 * TB * U; // logits and their gradient
  const activations =
    4 * TB * m.emb * (m.dropout > 0 ? 2 : 1) +
    layers.reduce((a, l) => a + layerActivationBytes(l, TB, m.dropout > 0), 0) +
    softmaxActivations;
  const weights = tableBytes + lstmBytes;
  const gradients = lstmBytes + rowGrads;
  const optimizer = SLOTS[cfg.optimizer] * weights;
  const averages = cfg.ema ? 2 * lstmBytes : 0;
  return {
    tables,
    weights,
    gradients,
    optimizer,
    f16Copies,
    averages,
    activations,
    total: weights + gradients + optimizer + f16Copies + averages + activations,
    maxBindingBytes,
  };
}

/** A tensor the run allocates whole (not sharded): its name, shape and bytes. */
export interface WholeTensor {
  name: string;
  shape: number[];
  bytes: number;
}

/** The weights of one layer, each stored as one tensor (only the tables are sharded). */
function layerWeights(l: LstmLayerSizes, i: number): WholeTensor[] {
  const at = `rnn.layers.${i}`;
  const t = (name: string, shape: number[]): WholeTensor => ({ name: `${at}.${name}`, shape, bytes: 4 * shape.reduce((a, b) => a * b, 1) });
  const weights = cellSpec(l.cell)
    .weightShapes(l)
    .map(([name, shape]) => t(name, shape));
  return [...weights, ...(l.projSize ? [t('P', [l.hiddenSize, lstmOutputSize(l)])] : [])];
}

/**
 * The largest tensors a step allocates whole: each layer's weights, its gates for the batch
 * ([T·B, 4n]) and the sampled softmax's logits ([T·B, S + T·B]). Each must fit one binding.
 */
export function wholeTensors(cfg: TrainConfig, vocabSize: number): WholeTensor[] {
  const m = cfg.model;
  const layers = lstmStackLayers(stackSizesOf(m));
  const TB = cfg.batch * cfg.bptt;
  const out = layers.flatMap(layerWeights);
  out.push({ name: "a layer's gates", shape: [TB, 4 * m.hidden], bytes: 4 * TB * 4 * m.hidden });
  if (cfg.sampled > 0) {
    const U = Math.min(vocabSize, cfg.sampled + TB);
    out.push({ name: "the sampled softmax's logits", shape: [TB, U], bytes: 4 * TB * U });
  }
  return out;
}

/** The plan as the lines `flstm train --dry-run` prints. */
export function formatMemoryPlan(p: MemoryPlan): string {
  const rows: [string, string][] = p.tables.map((t) => [
    `${t.name} [${t.shape.join(', ')}]`,
    `${formatBytes(t.bytes)}${t.shards > 1 ? ` in ${t.shards} shards of ${t.rowsPerShard} rows` : ', one binding'}`,
  ]);
  rows.push(
    ['weights', formatBytes(p.weights)],
    ['gradients', `${formatBytes(p.gradients)} (the LSTM's dense, the tables' rows of a step)`],
    ['optimizer state', formatBytes(p.optimizer)],
    ['f16 copies', p.f16Copies ? formatBytes(p.f16Copies) : 'none'],
    [
      'moving average',
      p.averages ? `${formatBytes(p.averages)} (the LSTM's averages, and its weights set aside while validating)` : 'none',
    ],
    ['activations', `${formatBytes(p.activations)} (an estimate for one step)`],
    ['total', formatBytes(p.total)],
  );
  const w = Math.max(...rows.map(([k]) => k.length));
  return [`memory plan (bindings of up to ${formatBytes(p.maxBindingBytes)})`, ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)].join(
    '\n',
  );
}
