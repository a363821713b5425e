// Inverted dropout: y = x * keep / (1 - rate), keep = hash(seed, i) >= rate (as a uniform in
// [0, 1)), hashed in the kernel from the seed and the element index. No mask is stored: the
// backward pass regenerates it from the same seed (dx = dy * keep / (1 - rate)).
import { rt } from '../gpu/runtime.js';
import { kernelFile } from '../gpu/pipelines.js';
import { record } from '../autograd.js';
import { rngFor } from '../random.js';
import type { Tensor } from '../tensor.js';
import { assertDType, assertTensor, grid1d, out } from './dispatch.js';
import dropoutSrc from '../../kernels/dropout.wgsl';

const DROPOUT = kernelFile('dropout', dropoutSrc);

export interface DropoutOptions {
  /** uint32 seed of the mask; drawn from the engine's seeded generator (fl.setSeed) when absent. */
  seed?: number;
  /** false: identity (evaluation). Default true. */
  training?: boolean;
}

/** Kept when hash >= threshold, i.e. hash / 2^32 >= rate (the same formula as src/ref/dropout.ts). */
function threshold(rate: number): number {
  return Math.min(Math.ceil(rate * 4294967296), 4294967295);
}

function dropoutRaw(x: Tensor, rate: number, seed: number, origin: string): Tensor {
  const y = out(x.shape, 'f32', origin);
  rt().run(DROPOUT, {
    params: { n: x.size, seed, threshold: threshold(rate), scale: 1 / (1 - rate) },
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
  const { seed: given, training = true } = opts;
  if (given !== undefined && !(Number.isInteger(given) && given >= 0 && given <= 0xffffffff)) {
    throw new Error(`flstm: dropout: seed must be an integer in [0, 2^32), got ${given}`);
  }
  if (rate === 0 || !training) return x;
  const seed = given ?? rngFor().nextU32();
  const y = dropoutRaw(x, rate, seed, 'dropout');
  return record(y, 'dropout', [x], (g) => [dropoutRaw(g, rate, seed, 'dropout.backward')]);
}
