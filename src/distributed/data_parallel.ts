// Data-parallel training over the ranks of a world (world.ts): rank r trains streams
// r·B .. (r+1)·B - 1 of the N·B streams one process with --batch N·B would train, and the
// ranks combine their gradients before the one update each of them applies, so every rank
// holds the same weights and optimizer state and the run trains what that one process trains
// (up to the order of float additions). Gradients cross host memory: WebGPU buffers are not
// visible to MPI.
import { Tensor, tidy } from '../tensor.js';
import { noGrad } from '../autograd.js';
import { tensor, writeTensor } from '../ops/create.js';
import { castRaw } from '../ops/cast.js';
import { concatRows } from '../ops/rows.js';
import type { Batch } from '../data/batcher.js';
import { lstmStackParamCount } from '../nn/params.js';
import { lstmOutputSize, stackSizesOf } from '../nn/sizes.js';
import { rt } from '../gpu/runtime.js';
import type { TrainConfig } from '../train/config.js';
import type { World } from './world.js';
import type { Mpi } from './mpi.js';
import { floatsOf } from './half_sum.js';
import { info } from '../engine.js';

/** The precision the dense gradients cross the links in (--allreduce): f16 halves the bytes. */
export type AllReducePrecision = 'f32' | 'f16';
export const ALLREDUCE_PRECISIONS = ['f32', 'f16'] as const;

/** Bytes and seconds of the exchanges since the last reset (progress events report them per step). */
export interface ExchangeStats {
  steps: number;
  /** Read-backs of dense gradients (buckets). */
  buckets: number;
  denseBytes: number;
  sparseBytes: number;
  /** Waiting for the GPU and reading the dense gradients back. */
  readSeconds: number;
  /** MPI: the all-reduce of the dense gradients and the gathers of the rows. */
  reduceSeconds: number;
  uploadSeconds: number;
}

const noStats = (): ExchangeStats => ({
  steps: 0,
  buckets: 0,
  denseBytes: 0,
  sparseBytes: 0,
  readSeconds: 0,
  reduceSeconds: 0,
  uploadSeconds: 0,
});

/**
 * Bytes a data-parallel step all-reduces: the LSTM weights' gradients and the softmax's rows,
 * its sample rows with the sampled softmax (the same ids on every rank) or the whole table.
 * The rows of each rank's own words are gathered besides.
 */
export function allReducedBytes(cfg: TrainConfig, vocabSize: number, precision: AllReducePrecision = 'f32'): number {
  const stack = stackSizesOf(cfg.model);
  const rnn = lstmStackParamCount(stack);
  // The LSTM weights' gradients travel in `precision`, the softmax's rows in f32.
  return (precision === 'f16' ? 2 : 4) * rnn + 4 * (cfg.sampled > 0 ? cfg.sampled : vocabSize) * (lstmOutputSize(stack) + 1);
}

/**
 * Bytes of gradients read back together: large enough that a read-back's fixed cost is small
 * beside it. FLSTM_BUCKET_BYTES sets another (tests use small ones, to have many buckets).
 */
export function defaultBucketBytes(env: Record<string, string | undefined> = typeof process === 'undefined' ? {} : process.env): number {
  const given = Number(env.FLSTM_BUCKET_BYTES);
  return Number.isInteger(given) && given > 0 ? given : 4 << 20;
}

/**
 * The dense gradients of a step, read back while the backward runs: backward()'s onLeafGrad
 * hands each parameter's gradient over as soon as it is final, and a bucket that is full
 * starts its read-back at once, so the GPU goes on with the rest of the backward meanwhile.
 * The ranks fill the buckets in the same order (the same graph), so they all-reduce alike.
 */
export class GradientBuckets {
  readonly closed: { grads: Tensor[]; read: Promise<Float32Array | Uint16Array> }[] = [];
  private open: Tensor[] = [];
  private openBytes = 0;
  private readonly dense: Set<Tensor>;

  constructor(
    params: readonly [string, Tensor][],
    private readonly precision: AllReducePrecision = 'f32',
    private readonly bucketBytes = defaultBucketBytes(),
  ) {
    this.dense = new Set(params.map(([, p]) => p));
  }

  /** backward()'s onLeafGrad: a parameter's final gradient joins the open bucket. */
  ready(leaf: Tensor): void {
    if (!this.dense.has(leaf) || !leaf.grad) return;
    this.open.push(leaf.grad);
    this.openBytes += 4 * leaf.grad.size;
    if (this.openBytes >= this.bucketBytes) this.close();
  }

  /** Starts the open bucket's read-back (one buffer of its gradients). */
  close(): void {
    if (this.open.length === 0) return;
    const grads = this.open;
    const joined = noGrad(() => tidy(() => concatRows(grads.map((g) => g.reshape([g.size, 1])))));
    // The copy is recorded and submitted now; the buffer may go back to the pool after it.
    this.closed.push({ grads, read: this.precision === 'f16' ? readHalves(joined) : joined.data().then((d) => d as Float32Array) });
    joined.dispose();
    this.open = [];
    this.openBytes = 0;
  }
}

/** The f16 bit patterns of `x`'s values, converted on the GPU (half the bytes to read back). */
function readHalves(x: Tensor): Promise<Uint16Array> {
  const half = castRaw(x, 'f16');
  // A copy's size is a multiple of 4 bytes: an odd count reads one half more.
  const read = rt()
    .read(half.buffer, 4 * Math.ceil(x.size / 2))
    .then((b) => new Uint16Array(b, 0, x.size));
  half.dispose();
  return read;
}

export class DataParallel {
  readonly comm: Mpi;
  private stats = noStats();

  constructor(
    readonly world: World,
    readonly precision: AllReducePrecision = 'f32',
  ) {
    if (!world.comm) throw new Error('flstm: DataParallel needs a world of more than one process');
    if (precision === 'f16' && !info().features.includes('shader-f16')) {
      throw new Error(
        `flstm: --allreduce f16 converts the gradients on the GPU, and this adapter (${info().description}) has no shader-f16: use --allreduce f32`,
      );
    }
    this.comm = world.comm;
  }

  get size(): number {
    return this.world.size;
  }

  /** This rank's streams of a batch of the global batch's streams. */
  slice(b: Batch): Batch {
    const B = b.batchSize / this.size;
    if (!Number.isInteger(B)) throw new Error(`flstm: a batch of ${b.batchSize} streams does not split over ${this.size} ranks`);
    const from = this.world.rank * B;
    const pick = <A extends Int32Array | Uint8Array>(a: A): A => {
      const out = new (a.constructor as new (n: number) => A)(b.steps * B);
      for (let t = 0; t < b.steps; t++) out.set(a.subarray(t * b.batchSize + from, t * b.batchSize + from + B), t * B);
      return out;
    };
    return {
      index: b.index,
      steps: b.steps,
      batchSize: B,
      inputs: pick(b.inputs),
      targets: pick(b.targets),
      ...(b.mask ? { mask: pick(b.mask) } : {}),
    };
  }

  /**
   * Replaces each gradient of `buckets` with its mean over the ranks: each bucket, read back
   * while the backward ran on, is all-reduced in turn and written back.
   */
  async averageDense(buckets: GradientBuckets): Promise<void> {
    buckets.close();
    const inv = 1 / this.size;
    for (const b of buckets.closed) {
      let t = performance.now();
      const host = await b.read;
      this.stats.readSeconds += (performance.now() - t) / 1e3;
      t = performance.now();
      if (host instanceof Uint16Array) this.comm.sumF16(host);
      else this.comm.sumF32(host);
      this.stats.reduceSeconds += (performance.now() - t) / 1e3;
      t = performance.now();
      // The halves become f32 means; f32 sums are scaled where they lie.
      const mean = host instanceof Uint16Array ? floatsOf(host, inv) : scaleInPlace(host, inv);
      let at = 0;
      for (const g of b.grads) {
        writeTensor(g, mean.subarray(at, at + g.size));
        at += g.size;
      }
      this.stats.uploadSeconds += (performance.now() - t) / 1e3;
      this.stats.denseBytes += host.byteLength;
      this.stats.buckets++;
    }
    this.stats.steps++;
  }

  /** The exchanges' bytes and seconds per step since the last call (null: no step). */
  takeStats(): ExchangeStats | null {
    const s = this.stats;
    this.stats = noStats();
    if (s.steps === 0) return null;
    const per = (v: number) => v / s.steps;
    return {
      steps: s.steps,
      buckets: per(s.buckets),
      denseBytes: per(s.denseBytes),
      sparseBytes: per(s.sparseBytes),
      readSeconds: per(s.readSeconds),
      reduceSeconds: per(s.reduceSeconds),
      uploadSeconds: per(s.uploadSeconds),
    };
  }

  /**
   * A table's row gradients from every rank, combined: the union of the ranks' row ids (sorted),
   * each row the sum of the ranks' rows for it times `factor` (1/N for a mean over the ranks).
   * `rows` may hold more rows than `ids` (the sampled softmax's padding after them): only the
   * first are read back. The first `shared` rows have the same ids on every rank (the samples):
   * they are summed in place (an all-reduce), the others gathered from every rank.
   */
  async combineRows(ids: Int32Array, rows: Tensor, factor: number, shared = 0): Promise<{ ids: Int32Array; rows: Tensor }> {
    const width = rows.size / Math.max(rows.shape[0], 1);
    let t = performance.now();
    const local = new Float32Array(await rt().read(rows.buffer, 4 * ids.length * width));
    this.stats.readSeconds += (performance.now() - t) / 1e3;
    t = performance.now();
    const common = local.slice(0, shared * width);
    this.comm.sumF32(common);
    const theirIds = this.comm.gatherVarI32(ids.subarray(shared)).data;
    const theirRows = this.comm.gatherVarF32(local.subarray(shared * width)).data;
    this.stats.reduceSeconds += (performance.now() - t) / 1e3;
    this.stats.sparseBytes += common.byteLength + theirIds.byteLength + theirRows.byteLength;
    const union = Int32Array.from(new Set([...ids.subarray(0, shared), ...theirIds])).sort();
    const where = new Map<number, number>();
    union.forEach((id, i) => where.set(id, i));
    const sums = new Float32Array(union.length * width);
    const add = (id: number, from: Float32Array, k: number) => {
      const at = where.get(id)! * width;
      for (let j = 0; j < width; j++) sums[at + j] += from[k * width + j];
    };
    for (let k = 0; k < shared; k++) add(ids[k], common, k);
    for (let k = 0; k < theirIds.length; k++) add(theirIds[k], theirRows, k);
    for (let i = 0; i < sums.length; i++) sums[i] *= factor;
    return { ids: union, rows: tensor(sums, [union.length, ...rows.shape.slice(1)]) };
  }

  /** The mean of `value` over the ranks (each rank's loss over its own streams). */
  mean(value: number): number {
    const x = Float64Array.of(value);
    this.comm.sumF64(x);
    return x[0] / this.size;
  }

  /**
   * The first of the ranks' reasons to stop, in the order of `reasons` (a signal or a time
   * limit reaches ranks at different steps: they stop at the same one), or null.
   */
  agreeOnStop<R extends string>(reason: R | null, reasons: readonly R[]): R | null {
    const code = Int32Array.of(reason === null ? reasons.length : reasons.indexOf(reason));
    const all = this.comm.gatherI32(code);
    const first = Math.min(...all);
    return first < reasons.length ? reasons[first] : null;
  }

  /** Whether `flag` holds on any rank. */
  any(flag: boolean): boolean {
    return this.comm.gatherI32(Int32Array.of(flag ? 1 : 0)).some((f) => f !== 0);
  }

  /** What evaluate() needs to share an evaluation among the ranks: each scores its streams, the figures are summed. */
  sharedEvaluation(): { processes: number; slice(b: Batch): Batch; sum(figures: Float64Array): void } {
    return { processes: this.size, slice: (b) => this.slice(b), sum: (f) => this.comm.sumF64(f) };
  }

  /** Every rank's rows [B, ...] of a carried state tensor, stacked in rank order: the global batch's. */
  async gatherStreams(t: Tensor): Promise<Float32Array> {
    return this.comm.gatherVarF32((await t.data()) as Float32Array).data;
  }
}

function scaleInPlace(x: Float32Array, factor: number): Float32Array {
  for (let i = 0; i < x.length; i++) x[i] *= factor;
  return x;
}
