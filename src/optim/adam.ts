// Adam with bias correction; t counts the finite steps and lives on the GPU.
import { kernelFile } from '../gpu/pipelines.js';
import { rt } from '../gpu/runtime.js';
import { updateKernel } from './norm.js';
import { grid1d } from '../ops/dispatch.js';
import { useVec4, widthKernel } from '../gpu/width.js';
import { Optimizer, checkNumber, type OptimizerOptions, type ParamList, type UpdateArgs } from './optimizer.js';
import adamSrc from '../../kernels/optim_adam.wgsl';

const ADAM = updateKernel(kernelFile('optim_adam', adamSrc));

export interface AdamOptions extends OptimizerOptions {
  /** Default 0.001. */
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export class Adam extends Optimizer {
  readonly kind = 'adam' as const;
  protected readonly slots = ['m', 'v'] as const;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;

  constructor(params: ParamList, opts: AdamOptions = {}) {
    super(params, opts, 0.001, 'Adam');
    this.beta1 = checkNumber('Adam', 'beta1', opts.beta1 ?? 0.9, 0, false, 1, true);
    this.beta2 = checkNumber('Adam', 'beta2', opts.beta2 ?? 0.999, 0, false, 1, true);
    this.eps = checkNumber('Adam', 'eps', opts.eps ?? 1e-8, 0);
    this.initState(() => 0);
  }

  protected override betas(): [number, number] {
    return [this.beta1, this.beta2];
  }

  protected encodeUpdate(a: UpdateArgs): void {
    // n: invocations, one element each or four (see width.ts).
    const vec4 = useVec4(a.grad.size, a.ids ? a.d : null);
    const n = a.grad.size / (vec4 ? 4 : 1);
    const r = rt();
    r.run(widthKernel(ADAM, vec4), {
      overrides: { SPARSE: a.ids !== null },
      params: {
        n,
        d: a.d,
        lr: this.lr,
        beta1: this.beta1,
        beta2: this.beta2,
        omb1: 1 - this.beta1,
        omb2: 1 - this.beta2,
        eps: this.eps,
        clipped: a.clipped ? 1 : 0,
      },
      buffers: [
        a.entry.param.buffer,
        a.grad.buffer,
        a.entry.state[0].buffer,
        a.entry.state[1].buffer,
        a.stats.buffer,
        a.ids ? a.ids.buffer : r.dummy,
      ],
      workgroups: grid1d(n),
    });
  }

  protected hyper(): Record<string, number> {
    return { lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps };
  }
}
