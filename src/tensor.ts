// Tensor: a shape, a dtype (f32, i32, or f16 storage for matmul operands), a pooled GPU buffer, and for autograd the grad and
// the node of the op that made it. Contiguous row-major storage.
import { currentRuntime, rt } from './gpu/runtime.js';
import type { BufferPool } from './gpu/pool.js';
import { backwardPass, record, type BackwardOptions as TapeBackwardOptions, type Differentiable, type GradNode } from './tape.js';
import { checkShape, fmtShape, shapeSize, type Shape } from './shape.js';
import { fromHalfBits } from './half.js';

// The shape helpers live below the tape (src/shape.ts); they go with the tensor for the ops.
export { checkShape, fmtShape, shapeSize, type Shape } from './shape.js';

export type DType = 'f32' | 'i32' | 'f16';

/** Bytes per element of a dtype. */
export function dtypeBytes(dtype: DType): number {
  return dtype === 'f16' ? 2 : 4;
}

export type BackwardOptions = TapeBackwardOptions<Tensor>;

// Scopes for fl.tidy: every tensor made inside is disposed at the end unless returned or kept.
const scopes: Set<Tensor>[] = [];

export function pushScope(): void {
  scopes.push(new Set());
}

export function popScope(keep: Set<Tensor>): void {
  const s = scopes.pop();
  if (!s) return;
  const parent = scopes[scopes.length - 1];
  for (const t of s) {
    if (keep.has(t) || t.disposed) {
      parent?.add(t);
    } else t.dispose();
  }
}

/** Runs fn and disposes every tensor it made except those it returns (and grads, and kept ones). */
export function tidy<T>(fn: () => T): T {
  pushScope();
  let result: T | undefined;
  try {
    result = fn();
    if (result instanceof Promise) {
      throw new Error('flstm: fl.tidy(fn) takes a synchronous function (its tensors are disposed when it returns); await outside it');
    }
    return result;
  } finally {
    const keep = new Set<Tensor>();
    const collect = (v: unknown): void => {
      if (v instanceof Tensor) keep.add(v);
      else if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) Object.values(v).forEach(collect);
    };
    collect(result);
    popScope(keep);
  }
}

let nextId = 1;

/** How the tape (below this module) makes the gradients' tensors: f32, from the pool. */
const makeGrad = (shape: Shape, origin: string): Tensor => Tensor.empty(shape, 'f32', origin);

export class Storage {
  refs = 1;
  /** `pool` is the pool (and so the device) the buffer belongs to. */
  constructor(
    readonly buffer: GPUBuffer,
    readonly pool: BufferPool | null = currentRuntime()?.pool ?? null,
  ) {}
}

export class Tensor implements Differentiable<Tensor> {
  readonly id = nextId++;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly size: number;
  /** Shared with reshaped views; the buffer returns to the pool when the last view is disposed. */
  private storage: Storage | null;
  requiresGrad: boolean;
  grad: Tensor | null = null;
  /** The op that produced this tensor, while the tape holds it. */
  node: GradNode<Tensor> | null = null;
  /** Which op made it (for error messages). */
  readonly origin: string;

  constructor(shape: Shape, dtype: DType, buffer: GPUBuffer | Storage, opts: { requiresGrad?: boolean; origin?: string } = {}) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = shapeSize(shape);
    if (buffer instanceof Storage) {
      buffer.refs++;
      this.storage = buffer;
    } else this.storage = new Storage(buffer);
    this.requiresGrad = opts.requiresGrad ?? false;
    this.origin = opts.origin ?? 'tensor';
    scopes[scopes.length - 1]?.add(this);
  }

  /** A fresh tensor with uninitialized contents. */
  static empty(shape: Shape, dtype: DType = 'f32', origin?: string): Tensor {
    checkShape(shape);
    const what = () => `${origin ?? 'tensor'}: an ${dtype} tensor of shape ${fmtShape(shape)}`;
    return new Tensor(shape, dtype, rt().pool.acquire(shapeSize(shape) * dtypeBytes(dtype), what), { origin });
  }

  get buffer(): GPUBuffer {
    if (!this.storage)
      throw new Error(`flstm: tensor ${fmtShape(this.shape)} (${this.dtype}, from ${this.origin}) was used after dispose()`);
    const pool = this.storage.pool;
    if (pool && pool !== currentRuntime()?.pool) {
      throw new Error(
        `flstm: tensor ${fmtShape(this.shape)} (${this.dtype}, from ${this.origin}) belongs to a GPU device that was closed (fl.dispose() or a lost device); make it again after fl.init()`,
      );
    }
    return this.storage.buffer;
  }

  /** The shared storage, for views (reshape). */
  get sharedStorage(): Storage {
    this.buffer; // throws if disposed
    return this.storage!;
  }

  get disposed(): boolean {
    return this.storage === null;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Copies the contents to the host (f16 as the f32 values they hold). */
  async data(): Promise<Float32Array | Int32Array> {
    const bytes = await rt().read(this.buffer, this.size * dtypeBytes(this.dtype));
    if (this.dtype === 'i32') return new Int32Array(bytes);
    if (this.dtype === 'f32') return new Float32Array(bytes);
    const h = new Uint16Array(bytes);
    const out = new Float32Array(this.size);
    for (let i = 0; i < out.length; i++) out[i] = fromHalfBits(h[i]);
    return out;
  }

  /**
   * Values offset .. offset + count - 1 (flat, row-major) copied to the host, as data() gives
   * them: a checkpoint reads a large tensor a bounded piece at a time, never whole.
   */
  async dataRange(offset: number, count: number): Promise<Float32Array | Int32Array> {
    if (!(Number.isSafeInteger(offset) && Number.isSafeInteger(count) && offset >= 0 && count >= 0 && offset + count <= this.size))
      throw new Error(`flstm: tensor ${fmtShape(this.shape)}: values [${offset}, ${offset + count}) are not within its ${this.size}`);
    if (count === 0) return this.dtype === 'i32' ? new Int32Array(0) : new Float32Array(0);
    if (this.dtype !== 'f16') {
      const bytes = await rt().read(this.buffer, count * 4, offset * 4);
      return this.dtype === 'i32' ? new Int32Array(bytes) : new Float32Array(bytes);
    }
    // A copy starts at a 4-byte boundary: from the half before an odd offset.
    const first = offset - (offset % 2);
    const h = new Uint16Array(await rt().read(this.buffer, (offset + count - first) * 2, first * 2));
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = fromHalfBits(h[offset - first + i]);
    return out;
  }

  /** Nested arrays (for printing and small tests). */
  async array(): Promise<unknown> {
    const d = Array.from(await this.data());
    const build = (dim: number, off: number): unknown => {
      if (dim === this.shape.length) return d[off];
      const stride = shapeSize(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, off + i * stride));
    };
    return build(0, 0);
  }

  /** Keeps this tensor alive past the enclosing fl.tidy scope. */
  keep(): this {
    for (const s of scopes) s.delete(this);
    return this;
  }

  /** Returns the buffer to the pool. Using the tensor afterwards is an error. */
  dispose(): void {
    if (!this.storage) return;
    // A buffer of a closed device went with it; only the open device's pool takes buffers back.
    if (--this.storage.refs === 0) {
      const pool = this.storage.pool ?? currentRuntime()?.pool;
      if (pool && pool === currentRuntime()?.pool) pool.release(this.storage.buffer);
    }
    this.storage = null;
    this.node = null;
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  /** A view of the same data with another shape (the buffer is shared; no copy). */
  reshape(shape: Shape): Tensor {
    const s = [...shape];
    const inferred = s.indexOf(-1);
    if (inferred >= 0) s[inferred] = this.size / shapeSize(s.filter((_, i) => i !== inferred));
    checkShape(s, 'reshape: shape');
    if (shapeSize(s) !== this.size) {
      throw new Error(`flstm: cannot reshape ${fmtShape(this.shape)} (${this.size} elements) to ${fmtShape(shape)}`);
    }
    const v = new Tensor(s, this.dtype, this.sharedStorage, { origin: 'reshape' });
    return record(v, 'reshape', [this], (g) => [g.reshape(this.shape)]);
  }

  /** Backpropagates from this tensor (a scalar, or pass the output gradient). */
  backward(grad?: Tensor, opts: BackwardOptions = {}): void {
    backwardPass(this, grad, opts, makeGrad);
  }

  toString(): string {
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}
