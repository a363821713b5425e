// Adagrad as in the paper's code (TensorFlow's AdagradOptimizer): acc += g^2; w -= lr g / sqrt(acc).
import { kernelFile } from '../gpu/pipelines.js';
import { rt } from '../gpu/runtime.js';
import { updateKernel } from './norm.js';
import { grid1d } from '../ops/dispatch.js';
import { useVec4, widthKernel } from '../gpu/width.js';
import { Optimizer, checkNumber, type OptimizerOptions, type ParamList, type UpdateArgs } from './optimizer.js';
import adagradSrc from '../../kernels/optim_adagrad.wgsl';

const ADAGRAD = updateKernel(kernelFile('optim_adagrad', adagradSrc));

export interface AdagradOptions extends OptimizerOptions {
  /** Default 0.2 (the paper's). */
  lr?: number;
  /** The accumulator's starting value (default 1.0, the paper's; must be > 0 when eps is 0). */
  initialAccumulator?: number;
  /** Added to sqrt(acc) in the denominator (default 0, as TensorFlow 1's Adagrad). */
  eps?: number;
}

export class Adagrad extends Optimizer {
  readonly kind = 'adagrad' as const;
  protected readonly slots = ['acc'] as const;
  readonly initialAccumulator: number;
  readonly eps: number;

  constructor(params: ParamList, opts: AdagradOptions = {}) {
    super(params, opts, 0.2, 'Adagrad');
    this.eps = checkNumber('Adagrad', 'eps', opts.eps ?? 0, 0);
    this.initialAccumulator = checkNumber('Adagrad', 'initialAccumulator', opts.initialAccumulator ?? 1.0, 0, this.eps === 0);
    this.initState(() => this.initialAccumulator);
  }

  protected encodeUpdate(a: UpdateArgs): void {
    // n: invocations, one element each or four (see width.ts).
    const vec4 = useVec4(a.grad.size, a.ids ? a.d : null);
    const n = a.grad.size / (vec4 ? 4 : 1);
    const r = rt();
    r.run(widthKernel(ADAGRAD, vec4), {
      overrides: { SPARSE: a.ids !== null },
      params: { n, d: a.d, lr: this.lr, eps: this.eps, clipped: a.clipped ? 1 : 0 },
      buffers: [a.entry.param.buffer, a.grad.buffer, a.entry.state[0].buffer, a.stats.buffer, a.ids ? a.ids.buffer : r.dummy],
      workgroups: grid1d(n),
    });
  }

  protected hyper(): Record<string, number> {
    return { lr: this.lr, initialAccumulator: this.initialAccumulator, eps: this.eps };
  }
}
