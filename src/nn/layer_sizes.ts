// One layer's sizes, whatever its cell (sizes.ts adds the cell; cells.ts reads these to give
// each cell's weight shapes, so this file sits below both). Pure: no tensors, no GPU.

/** One layer's sizes: what every cell has, and the size options some cells take. */
export interface LayerSizes {
  /** p_in: the input size (the embedding for layer 1, the previous layer's output after). */
  inputSize: number;
  /** n, the cell size. */
  hiddenSize: number;
  /** p, the projection size; 0 or omitted: no projection (the output is m_t, size n). */
  projSize?: number;
  /** r, the factorization size (flstm). */
  factor?: number;
  /** k, the groups (glstm). */
  groups?: number;
}

/** The width of a layer's output y and recurrent state h: p, or n without projection. */
export function lstmOutputSize(s: { hiddenSize: number; projSize?: number }): number {
  return s.projSize || s.hiddenSize;
}
