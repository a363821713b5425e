// RNN parameter counts of a stack of layers, from each cell's gate matrices (src/nn/cells.ts)
// plus the bias b [4n] and, with a projection, P [n, p]: no tensors, no GPU (the `flstm params`
// command uses it before any device exists). The float64 reference (src/ref/lstm.ts
// lstmStackParamCount, which counts its own weight shapes) is checked against it in
// test/params.test.ts; docs/model.md gives the formulas. Layer 1 reads the embedding
// (p_in = emb); later layers read the previous layer's p.
import { CELL_KINDS, cellSpec, cellsSizedBy, orList, SIZE_OPTIONS, SIZE_OPTION_NAMES, type CellKind } from './cells.js';
import { lstmOutputSize, type LstmLayerSizes, type LstmStackSizes } from './sizes.js';

export { CELL_KINDS, type CellKind };
export type { LstmLayerSizes, LstmStackSizes };

const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;

/** The cell's size option is a positive integer; the others are absent. */
function checkSizeOptions(s: LstmLayerSizes, where: string): void {
  const own = cellSpec(s.cell).size;
  for (const name of SIZE_OPTION_NAMES) {
    const v = s[name];
    if (name === own) {
      if (!isPositiveInt(v)) throw new Error(`flstm: ${where}: ${s.cell} needs a positive integer ${SIZE_OPTIONS[name].named}, got ${v}`);
    } else if (v !== undefined) {
      throw new Error(`flstm: ${where}: ${SIZE_OPTIONS[name].misapplied(v)} only to the ${cellsSizedBy(name)} cell, not ${s.cell}`);
    }
  }
}

/** Throws one clear message when the sizes do not make a valid layer. `where` names it (e.g. "layer 2"). */
export function checkLayerSizes(s: LstmLayerSizes, where = 'layer'): void {
  if (!CELL_KINDS.includes(s.cell)) throw new Error(`flstm: ${where}: unknown cell '${String(s.cell)}' (expected ${orList(CELL_KINDS)})`);
  if (!isPositiveInt(s.inputSize)) throw new Error(`flstm: ${where}: input size must be a positive integer, got ${s.inputSize}`);
  if (!isPositiveInt(s.hiddenSize)) throw new Error(`flstm: ${where}: hidden size must be a positive integer, got ${s.hiddenSize}`);
  if (!(s.projSize === 0 || isPositiveInt(s.projSize))) {
    throw new Error(`flstm: ${where}: projection size must be a positive integer (or 0 for none), got ${s.projSize}`);
  }
  checkSizeOptions(s, where);
  cellSpec(s.cell).checkSizes?.(s, where);
}

/** RNN parameters of one layer (gate matrices, bias, projection). */
export function lstmLayerParamCount(s: LstmLayerSizes, where = 'layer'): number {
  checkLayerSizes(s, where);
  const n = s.hiddenSize;
  const weights = cellSpec(s.cell)
    .weightShapes(s)
    .reduce((a, [, shape]) => a + shape.reduce((x, y) => x * y, 1), 0);
  const total = weights + 4 * n + (s.projSize ? n * lstmOutputSize(s) : 0);
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
      inputSize: l === 0 ? s.inputSize : lstmOutputSize(s),
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
