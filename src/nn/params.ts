// RNN parameter counts of LSTM / F-LSTM / G-LSTM stacks, by formula: no tensors, no GPU
// (the `flstm params` command uses it before any device exists). The float64 reference
// (src/ref/lstm.ts lstmStackParamCount, which counts its weight shapes) is checked against
// it in test/params.test.ts.
//
// One layer with input size p_in, cell size n, output size p (p = n without projection):
//   lstm   W [(p_in + p), 4n] + b [4n]                     (p_in + p)·4n + 4n
//   flstm  W1 [(p_in + p), r] + W2 [r, 4n] + b [4n]        r(p_in + p) + 4nr + 4n
//   glstm  k blocks [(p_in + p)/k, 4n/k] + b [4n]          (p_in + p)·4n/k + 4n
//   plus the projection P [n, p] (no bias) when there is one: n·p.
// Layer 1 reads the embedding (p_in = emb); later layers read the previous layer's p.

/** The cells, declared here once (the ops, the models, the options and the page import them). */
export const CELL_KINDS = ['lstm', 'flstm', 'glstm'] as const;
export type CellKind = (typeof CELL_KINDS)[number];

export interface LstmStackSizes {
  cell: CellKind;
  layers: number;
  /** Input size of layer 1 (the embedding size). */
  inputSize: number;
  /** n, the cell size. */
  hiddenSize: number;
  /** p, the projection size; 0 or undefined: no projection (the output is m_t, size n). */
  projSize?: number;
  /** r (flstm only). */
  factor?: number;
  /** k (glstm only): one for every layer, or one per layer (hierarchical G-LSTM). */
  groups?: number | readonly number[];
}

export interface LstmLayerSizes {
  cell: CellKind;
  inputSize: number;
  hiddenSize: number;
  /** 0: no projection. */
  projSize: number;
  factor?: number;
  groups?: number;
}

const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;

/** Throws one clear message when the sizes do not make a valid layer. `where` names it (e.g. "layer 2"). */
export function checkLayerSizes(s: LstmLayerSizes, where = 'layer'): void {
  if (!CELL_KINDS.includes(s.cell)) throw new Error(`flstm: ${where}: unknown cell '${String(s.cell)}' (expected lstm, flstm or glstm)`);
  if (!isPositiveInt(s.inputSize)) throw new Error(`flstm: ${where}: input size must be a positive integer, got ${s.inputSize}`);
  if (!isPositiveInt(s.hiddenSize)) throw new Error(`flstm: ${where}: hidden size must be a positive integer, got ${s.hiddenSize}`);
  if (!(s.projSize === 0 || isPositiveInt(s.projSize))) {
    throw new Error(`flstm: ${where}: projection size must be a positive integer (or 0 for none), got ${s.projSize}`);
  }
  if (s.cell === 'flstm') {
    if (!isPositiveInt(s.factor)) throw new Error(`flstm: ${where}: flstm needs a positive integer factor r, got ${s.factor}`);
  } else if (s.factor !== undefined) {
    throw new Error(`flstm: ${where}: a factor (r = ${s.factor}) applies only to the flstm cell, not ${s.cell}`);
  }
  if (s.cell === 'glstm') {
    const k = s.groups;
    if (!isPositiveInt(k)) throw new Error(`flstm: ${where}: glstm needs a positive integer number of groups k, got ${k}`);
    const p = s.projSize || s.hiddenSize;
    const sizes: [string, number][] = [
      ['input size', s.inputSize],
      [s.projSize ? 'projection size' : 'output size', p],
      ['hidden size', s.hiddenSize],
    ];
    const bad = sizes.filter(([, v]) => v % k !== 0);
    if (bad.length) {
      throw new Error(
        `flstm: ${where}: glstm groups k=${k} must divide the layer's input, ${s.projSize ? 'projection' : 'output'} and hidden sizes; ` +
          `it does not divide the ${bad.map(([n, v]) => `${n} ${v}`).join(', the ')} ` +
          `(input ${s.inputSize}, ${s.projSize ? 'projection' : 'output'} ${p}, hidden ${s.hiddenSize})`,
      );
    }
  } else if (s.groups !== undefined) {
    throw new Error(`flstm: ${where}: groups (k = ${s.groups}) apply only to the glstm cell, not ${s.cell}`);
  }
}

/** RNN parameters of one layer (weights, biases, projection). */
export function lstmLayerParamCount(s: LstmLayerSizes, where = 'layer'): number {
  checkLayerSizes(s, where);
  const n = s.hiddenSize;
  const p = s.projSize || n;
  const rows = s.inputSize + p;
  let weights: number;
  if (s.cell === 'lstm') weights = rows * 4 * n;
  else if (s.cell === 'flstm') weights = s.factor! * rows + 4 * n * s.factor!;
  else weights = (rows * 4 * n) / s.groups!;
  const total = weights + 4 * n + (s.projSize ? n * p : 0);
  if (!Number.isSafeInteger(total)) throw new Error(`flstm: ${where}: the parameter count ${total} is too large to count exactly`);
  return total;
}

/** The sizes of each layer of a stack, validated (layer input sizes chained). */
export function lstmStackLayers(s: LstmStackSizes): LstmLayerSizes[] {
  if (!isPositiveInt(s.layers)) throw new Error(`flstm: layers must be a positive integer, got ${s.layers}`);
  const groups = s.groups;
  if (Array.isArray(groups) && groups.length !== s.layers) {
    throw new Error(`flstm: ${groups.length} group counts (${groups.join(',')}) given for ${s.layers} layers (give one, or one per layer)`);
  }
  const proj = s.projSize ?? 0;
  const out: LstmLayerSizes[] = [];
  for (let l = 0; l < s.layers; l++) {
    const layer: LstmLayerSizes = {
      cell: s.cell,
      inputSize: l === 0 ? s.inputSize : proj || s.hiddenSize,
      hiddenSize: s.hiddenSize,
      projSize: proj,
    };
    if (s.factor !== undefined) layer.factor = s.factor;
    const k = Array.isArray(groups) ? groups[l] : (groups as number | undefined);
    if (k !== undefined) layer.groups = k;
    checkLayerSizes(layer, `layer ${l + 1}`);
    out.push(layer);
  }
  return out;
}

/** RNN parameters of each layer of a stack (no embedding, no softmax). */
export function lstmStackParamCounts(s: LstmStackSizes): number[] {
  return lstmStackLayers(s).map((layer, l) => lstmLayerParamCount(layer, `layer ${l + 1}`));
}

/** RNN parameters of a stack of layers (no embedding, no softmax). */
export function lstmStackParamCount(s: LstmStackSizes): number {
  const total = lstmStackParamCounts(s).reduce((a, b) => a + b, 0);
  if (!Number.isSafeInteger(total)) throw new Error(`flstm: the parameter count ${total} is too large to count exactly`);
  return total;
}
