// Inverted dropout: y = x * keep / (1 - rate), keep = hash(seed, i) >= rate (as a uniform in
// [0, 1)), hashed in the kernel from the seed and the element index. No mask is stored: the
// backward pass regenerates it from the same seed (dx = dy * keep / (1 - rate)).
import { rt } from '../gpu/runtime.js';
import { kernelFile } from '../gpu/pipelines.js';
import { record } from '../autograd.js';
import { rngFor } from '../random.js';
import { fmtShape, type Tensor } from '../tensor.js';
import { assertDType, assertTensor, grid1d, out } from './dispatch.js';
import dropoutSrc from '../../kernels/dropout.wgsl';

const DROPOUT = kernelFile('dropout', dropoutSrc);

export interface DropoutOptions {
  /** uint32 seed of the mask; drawn from the engine's seeded generator (fl.setSeed) when absent. */
  seed?: number;
  /** false: identity (evaluation). Default true. */
  training?: boolean;
  /**
   * x [T, B, ...] holds streams offset .. offset + B - 1 of `total`: its mask is those streams'
   * part of the mask of the whole [T, total, ...] tensor (a batch split over processes).
   */
  streams?: StreamSlice;
}

/** Some of a batch's streams: from `offset`, of `total`. */
export interface StreamSlice {
  offset: number;
  total: number;
}

/** The kernel's mapping of x's elements to the whole batch's: chunk, globalChunk, offset. */
function wholeIndex(x: Tensor, streams?: StreamSlice): { chunk: number; globalChunk: number; offset: number } {
  if (!streams || x.size === 0) return { chunk: Math.max(x.size, 1), globalChunk: 0, offset: 0 };
  const B = x.shape[1];
  if (x.rank < 2 || !(Number.isInteger(streams.offset) && streams.offset >= 0 && streams.offset + B <= streams.total)) {
    throw new Error(
      `flstm: dropout: streams ${streams.offset}.. of ${streams.total} for x of shape ${fmtShape(x.shape)} (x must be [T, B, ...] with B streams inside the total)`,
    );
  }
  const row = x.size / (x.shape[0] * B);
  return { chunk: B * row, globalChunk: streams.total * row, offset: streams.offset * row };
}

/** Kept when hash >= threshold, i.e. hash / 2^32 >= rate (the same formula as src/ref/dropout.ts). */
function threshold(rate: number): number {
  return Math.min(Math.ceil(rate * 4294967296), 4294967295);
}

function dropoutRaw(x: Tensor, rate: number, seed: number, streams: StreamSlice | undefined, origin: string): Tensor {
  const y = out(x.shape, 'f32', origin);
  rt().run(DROPOUT, {
    params: { n: x.size, seed, threshold: threshold(rate), scale: 1 / (1 - rate), ...wholeIndex(x, streams) },
    buffers: [x.buffer, y.buffer],
    workgroups: grid1d(x.size),
  });
  return y;
}

/**
 * Inverted dropout of `x` with drop probability `rate` in [0, 1). With rate 0 or
 * `training: false` it returns `x` itself.
 */
export function dropout(x: Tensor, rate: number, opts: DropoutOptions = {}): Tensor {
  assertTensor(x, 'dropout(x)');
  assertDType(x, 'f32', 'dropout', 'x');
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) {
    throw new Error(`flstm: dropout: rate must be a number in [0, 1), got ${typeof rate === 'number' ? rate : JSON.stringify(rate)}`);
  }
  const { seed: given, training = true, streams } = opts;
  if (given !== undefined && !(Number.isInteger(given) && given >= 0 && given <= 0xffffffff)) {
    throw new Error(`flstm: dropout: seed must be an integer in [0, 2^32), got ${given}`);
  }
  if (rate === 0 || !training) return x;
  const seed = given ?? rngFor().nextU32();
  const y = dropoutRaw(x, rate, seed, streams, 'dropout');
  return record(y, 'dropout', [x], (g) => [dropoutRaw(g, rate, seed, streams, 'dropout.backward')]);
}
