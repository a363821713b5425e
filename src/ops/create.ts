// Making tensors: from host data, zeros, ones, full, seeded randn / rand.
import { rt } from '../gpu/runtime.js';
import { Tensor, Storage, checkShape, fmtShape, shapeSize, type DType, type Shape } from '../tensor.js';
import { rngFor } from '../random.js';
import { fill } from './elementwise.js';
import { requireF16 } from './dispatch.js';
import { toHalfBits } from '../half.js';

export interface TensorOptions {
  requiresGrad?: boolean;
  dtype?: DType;
}

type NestedNumbers = number | NestedNumbers[];

// Host mirrors of i32 tensors made from host data (ids, targets): ops that need the values
// on the host (range checks, the sparse embedding gradient) read them here instead of
// waiting for the GPU. Keyed by storage, so reshaped views share the mirror. No op writes an
// i32 tensor in place, so a mirror stays valid for the storage's life.
const hostMirror = new WeakMap<Storage, Int32Array>();

/**
 * The host copy of an i32 tensor made by `tensor()` (or of a reshaped view of one), or
 * undefined when the values exist only on the GPU. Read-only: do not modify the array.
 */
export function hostValues(t: Tensor): Int32Array | undefined {
  if (t.disposed || t.dtype !== 'i32') return undefined;
  return hostMirror.get(t.sharedStorage);
}

function flatten(data: NestedNumbers[], outArr: number[]): void {
  for (const v of data) {
    if (Array.isArray(v)) flatten(v, outArr);
    else outArr.push(v);
  }
}

function inferShape(data: NestedNumbers): number[] {
  const shape: number[] = [];
  let d: NestedNumbers = data;
  while (Array.isArray(d)) {
    shape.push(d.length);
    d = d[0];
  }
  return shape;
}

/** A tensor from host data: a typed array or (nested) number array, with a shape. */
export function tensor(
  data: Float32Array | Int32Array | ArrayLike<number> | NestedNumbers[],
  shape?: Shape,
  opts: TensorOptions = {},
): Tensor {
  let flat: ArrayLike<number>;
  if (Array.isArray(data) && data.some((v) => Array.isArray(v))) {
    const f: number[] = [];
    flatten(data as NestedNumbers[], f);
    flat = f;
    shape ??= inferShape(data as NestedNumbers[]);
  } else {
    flat = data as ArrayLike<number>;
    shape ??= [flat.length];
  }
  checkShape(shape);
  if (shapeSize(shape) !== flat.length) {
    throw new Error(`flstm: tensor(): ${flat.length} values do not fill shape ${fmtShape(shape)} (${shapeSize(shape)} elements)`);
  }
  const dtype: DType = opts.dtype ?? (data instanceof Int32Array ? 'i32' : 'f32');
  if (dtype === 'i32') {
    for (let i = 0; i < flat.length; i++) {
      if (!Number.isInteger(flat[i])) throw new Error(`flstm: tensor(): i32 data must be integers, got ${flat[i]} at index ${i}`);
    }
  }
  if (dtype === 'f16') requireF16('tensor()');
  const host = dtype === 'f32' ? Float32Array.from(flat) : dtype === 'f16' ? Uint16Array.from(flat, toHalfBits) : Int32Array.from(flat);
  const t = Tensor.empty(shape, dtype, 'tensor');
  if (host.length > 0) rt().recorder.upload(t.buffer, host);
  if (host instanceof Int32Array) hostMirror.set(t.sharedStorage, host);
  t.requiresGrad = opts.requiresGrad ?? false;
  if (t.requiresGrad && dtype !== 'f32') throw new Error('flstm: tensor(): only f32 tensors can require grad');
  return t;
}

/**
 * Overwrites the contents of an existing tensor with host data (same number of values), in
 * stream order: work recorded before it reads the old values, work after it the new ones.
 * Every view of the storage sees the new values. For loading parameters; not recorded.
 */
export function writeTensor(t: Tensor, data: Float32Array | Int32Array | ArrayLike<number>): void {
  if (data.length !== t.size) {
    throw new Error(`flstm: writeTensor: ${data.length} values for a tensor of shape ${fmtShape(t.shape)} (${t.size} elements)`);
  }
  const host =
    t.dtype === 'f32'
      ? data instanceof Float32Array
        ? data
        : Float32Array.from(data)
      : t.dtype === 'f16'
        ? Uint16Array.from(data, toHalfBits)
        : data instanceof Int32Array
          ? data
          : Int32Array.from(data);
  if (host.length > 0) rt().recorder.upload(t.buffer, host);
  // The host mirror of an i32 tensor follows its new values.
  if (host instanceof Int32Array && hostMirror.has(t.sharedStorage)) hostMirror.set(t.sharedStorage, Int32Array.from(host));
}

/**
 * Writes `data` into values offset .. offset + data.length - 1 of the f32 tensor `t` (a
 * piece of a weight loaded a piece at a time), then submits: the upload's staging buffer is
 * released once the GPU has copied it, not held until the next submit (a loader that waits
 * for the queue after each piece holds one piece's staging at a time).
 */
export function writeRange(t: Tensor, offset: number, data: Float32Array): void {
  if (t.dtype !== 'f32') throw new Error(`flstm: writeRange: the tensor is ${t.dtype}; only f32 tensors are written a range at a time`);
  if (!(Number.isSafeInteger(offset) && offset >= 0 && offset + data.length <= t.size))
    throw new Error(
      `flstm: writeRange: values [${offset}, ${offset + data.length}) are not within the ${t.size} of a tensor of shape ${fmtShape(t.shape)}`,
    );
  if (data.length === 0) return;
  rt().recorder.upload(t.buffer, data, offset * 4);
  rt().recorder.submit();
}

export function full(shape: Shape, value: number, opts: TensorOptions = {}): Tensor {
  checkShape(shape);
  if (opts.dtype === 'f16') return tensor(new Float32Array(shapeSize(shape)).fill(value), shape, opts);
  const t = fill(shape, value);
  t.requiresGrad = opts.requiresGrad ?? false;
  return t;
}

export const zeros = (shape: Shape, opts: TensorOptions = {}): Tensor => {
  if (opts.dtype === 'i32') return tensor(new Int32Array(shapeSize(shape)), shape);
  return full(shape, 0, opts);
};
export const ones = (shape: Shape, opts: TensorOptions = {}): Tensor => full(shape, 1, opts);

export interface RandomOptions extends TensorOptions {
  seed?: number;
  /** Standard deviation (randn) or the half-width of the interval (rand: [-scale, scale)). */
  scale?: number;
  mean?: number;
}

/** Normal(mean, scale^2) numbers from a seeded generator: the same on every adapter. */
export function randn(shape: Shape, opts: RandomOptions = {}): Tensor {
  checkShape(shape);
  const rng = rngFor(opts.seed);
  const n = shapeSize(shape);
  const h = new Float32Array(n);
  const s = opts.scale ?? 1;
  const m = opts.mean ?? 0;
  for (let i = 0; i < n; i++) h[i] = m + s * rng.normal();
  return tensor(h, shape, { requiresGrad: opts.requiresGrad });
}

/** Uniform numbers in [mean - scale, mean + scale), seeded. */
export function rand(shape: Shape, opts: RandomOptions = {}): Tensor {
  checkShape(shape);
  const rng = rngFor(opts.seed);
  const n = shapeSize(shape);
  const h = new Float32Array(n);
  const s = opts.scale ?? 1;
  const m = opts.mean ?? 0;
  for (let i = 0; i < n; i++) h[i] = m + s * (2 * rng.uniform() - 1);
  return tensor(h, shape, { requiresGrad: opts.requiresGrad });
}
