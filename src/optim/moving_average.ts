// An exponential moving average of some parameters, as f-lm keeps of the LSTM weights and
// evaluates with (TensorFlow's ExponentialMovingAverage without num_updates): the averages
// start as the weights, and after every update step avg = decay·avg + (1 − decay)·w, on the
// GPU with no readback. `withAverages` puts the averages in the weights' place for an
// evaluation and the trained weights back after, so training continues from what it trained.
// A checkpoint stores each average beside the weights as `ema.<parameter name>`.
import { Tensor, tidy } from '../tensor.js';
import { noGrad } from '../autograd.js';
import { rt } from '../gpu/runtime.js';
import { add, scale } from '../ops/elementwise.js';
import { writeTensor } from '../ops/create.js';
import type { StateDict } from '../nn/module.js';

/** The name a parameter's average has in a checkpoint's model file. */
export const AVERAGE_PREFIX = 'ema.';

function copyInto(dst: Tensor, src: Tensor): void {
  rt().recorder.copy(src.buffer, 0, dst.buffer, 0, src.size * 4);
}

function copyOf(t: Tensor): Tensor {
  const c = Tensor.empty(t.shape, 'f32', 'MovingAverage').keep();
  copyInto(c, t);
  return c;
}

export class MovingAverage {
  private readonly averages: [string, Tensor, Tensor][];

  /** `params`: the averaged parameters by name; `decay` in [0, 1). */
  constructor(params: readonly [string, Tensor][], readonly decay: number) {
    if (!(decay >= 0 && decay < 1)) throw new Error(`flstm: MovingAverage: decay must be a number in [0, 1), got ${decay}`);
    if (params.length === 0) throw new Error('flstm: MovingAverage: no parameters to average');
    this.averages = params.map(([name, w]) => [name, w, copyOf(w)]);
  }

  /**
   * avg = decay·avg + (1 − decay)·w for every parameter; encoded only. Call after each update.
   * The new average takes the old one's place (no copy); the old goes back to the pool.
   */
  update(): void {
    noGrad(() => {
      for (const entry of this.averages) {
        const [, w, avg] = entry;
        entry[2] = tidy(() => add(scale(avg, this.decay), scale(w, 1 - this.decay))).keep();
        avg.dispose();
      }
    });
  }

  /** Runs `fn` with the averages in the parameters' place; the trained weights come back after. */
  async withAverages<T>(fn: () => Promise<T>): Promise<T> {
    const trained = this.averages.map(([, w, avg]) => {
      const keep = copyOf(w);
      copyInto(w, avg);
      return keep;
    });
    try {
      return await fn();
    } finally {
      this.averages.forEach(([, w], i) => {
        copyInto(w, trained[i]);
        trained[i].dispose();
      });
    }
  }

  /** The averages, named `ema.<parameter>`, copied to the host. */
  async stateDict(): Promise<StateDict> {
    const out: StateDict = {};
    for (const [name, , avg] of this.averages) out[AVERAGE_PREFIX + name] = { shape: [...avg.shape], data: (await avg.data()) as Float32Array };
    return out;
  }

  /** Restores the averages of a checkpoint: every averaged parameter's `ema.<name>`, of its shape. */
  loadStateDict(dict: Readonly<Record<string, { shape: readonly number[]; data: Float32Array }>>, source: string): void {
    for (const [name, , avg] of this.averages) {
      const e = dict[AVERAGE_PREFIX + name];
      if (!e) throw new Error(`flstm: ${source} holds no moving average '${AVERAGE_PREFIX + name}' (the run averages the LSTM weights: --ema ${this.decay})`);
      if (e.data.length !== avg.size) throw new Error(`flstm: ${source}: '${AVERAGE_PREFIX + name}' has ${e.data.length} values; the parameter has ${avg.size}`);
    }
    for (const [name, , avg] of this.averages) writeTensor(avg, dict[AVERAGE_PREFIX + name].data);
  }

  dispose(): void {
    for (const [, , avg] of this.averages) avg.dispose();
  }
}
