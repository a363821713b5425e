// Plain float64 arrays with a shape: what the references compute on.

export interface NDArray {
  shape: number[];
  data: Float64Array;
}

export function nd(data: ArrayLike<number>, shape: number[]): NDArray {
  return { shape: [...shape], data: Float64Array.from(data) };
}

export function zerosNd(shape: number[]): NDArray {
  return { shape: [...shape], data: new Float64Array(shape.reduce((a, b) => a * b, 1)) };
}
