// An exponential moving average of some parameters, as f-lm keeps of the LSTM weights and
// evaluates with: the averages start as the weights, and after update step t (1 for the first)
// avg = d·avg + (1 − d)·w, on the GPU with no readback. The decay d is the schedule's:
// 'fixed' is D at every step (f-lm's: TensorFlow's ExponentialMovingAverage without
// num_updates), 'warmup' is min(D, (1 + t)/(10 + t)) (with num_updates = t), so that early
// averages follow the weights instead of staying near the initial ones (after 200 fixed steps
// at D = 0.999 they are still 82% initial weights). `withAverages` puts the averages in the
// weights' place for an evaluation and the trained weights back after, so training continues
// from what it trained. A checkpoint stores each average beside the weights as `ema.<parameter name>`.
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

/** How the decay goes: D at every step, or TensorFlow's num_updates warm-up towards D. */
export type AverageSchedule = 'warmup' | 'fixed';

/** The decay of update step `t` (1 for the first) of an average of decay `decay` on `schedule`. */
export function averageDecay(decay: number, schedule: AverageSchedule, t: number): number {
  return schedule === 'fixed' ? decay : Math.min(decay, (1 + t) / (10 + t));
}

export class MovingAverage {
  private readonly averages: [string, Tensor, Tensor][];

  /** `params`: the averaged parameters by name; `decay` in [0, 1), the most the schedule reaches. */
  constructor(
    params: readonly [string, Tensor][],
    readonly decay: number,
    readonly schedule: AverageSchedule,
  ) {
    if (!(decay >= 0 && decay < 1)) throw new Error(`flstm: MovingAverage: decay must be a number in [0, 1), got ${decay}`);
    if (params.length === 0) throw new Error('flstm: MovingAverage: no parameters to average');
    this.averages = params.map(([name, w]) => [name, w, copyOf(w)]);
  }

  /**
   * avg = d·avg + (1 − d)·w for every parameter, d the decay of update step `t` (the steps
   * trained so far, this one included: a resume continues the schedule); encoded only. Call
   * after each update. The new average takes the old one's place (no copy); the old goes back
   * to the pool.
   */
  update(t: number): void {
    if (!Number.isSafeInteger(t) || t < 1) throw new Error(`flstm: MovingAverage.update: the step must be a positive integer, got ${t}`);
    const d = averageDecay(this.decay, this.schedule, t);
    noGrad(() => {
      for (const entry of this.averages) {
        const [, w, avg] = entry;
        entry[2] = tidy(() => add(scale(avg, d), scale(w, 1 - d))).keep();
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
    for (const [name, avg] of this.stateTensors()) out[name] = { shape: [...avg.shape], data: (await avg.data()) as Float32Array };
    return out;
  }

  /** The averages by stateDict()'s names, in its order, unread (a checkpoint reads them a piece at a time). */
  stateTensors(): [string, Tensor][] {
    return this.averages.map(([name, , avg]) => [AVERAGE_PREFIX + name, avg]);
  }

  /** Restores the averages of a checkpoint: every averaged parameter's `ema.<name>`, of its shape. */
  loadStateDict(dict: Readonly<Record<string, { shape: readonly number[]; data: Float32Array }>>, source: string): void {
    this.checkSizes(Object.fromEntries(Object.entries(dict).map(([k, e]) => [k, e.data.length])), source);
    for (const [name, , avg] of this.averages) writeTensor(avg, dict[AVERAGE_PREFIX + name].data);
  }

  /**
   * Checks that a checkpoint's averages (their value counts by name) hold every averaged
   * parameter's `ema.<name>` at its size: loadStateDict's checks, for a loader that then
   * writes stateTensors() a piece at a time.
   */
  checkSizes(sizes: Readonly<Record<string, number>>, source: string): void {
    for (const [name, , avg] of this.averages) {
      const n = Object.prototype.hasOwnProperty.call(sizes, AVERAGE_PREFIX + name) ? sizes[AVERAGE_PREFIX + name] : undefined;
      if (n === undefined)
        throw new Error(
          `flstm: ${source} holds no moving average '${AVERAGE_PREFIX + name}' (the run averages the LSTM weights: --ema ${this.decay} --ema-schedule ${this.schedule})`,
        );
      if (n !== avg.size) throw new Error(`flstm: ${source}: '${AVERAGE_PREFIX + name}' has ${n} values; the parameter has ${avg.size}`);
    }
  }

  dispose(): void {
    for (const [, , avg] of this.averages) avg.dispose();
  }
}
