// SGD, with optional momentum (PyTorch's form: vel = momentum vel + g; w -= lr vel).
import { kernelFile } from '../gpu/pipelines.js';
import { rt } from '../gpu/runtime.js';
import { updateKernel } from './norm.js';
import { grid1d } from '../ops/dispatch.js';
import { useVec4, widthKernel } from '../gpu/width.js';
import { Tensor } from '../tensor.js';
import { Optimizer, checkNumber, type OptimizerOptions, type ParamList, type UpdateArgs } from './optimizer.js';
import sgdSrc from '../../kernels/optim_sgd.wgsl';

const SGD_KERNEL = updateKernel(kernelFile('optim_sgd', sgdSrc));

export interface SGDOptions extends OptimizerOptions {
  lr: number;
  /** Default 0 (plain SGD, no state). */
  momentum?: number;
}

export class SGD extends Optimizer {
  readonly kind = 'sgd' as const;
  protected readonly slots: readonly string[];
  readonly momentum: number;
  /** Bound at the unused velocity binding when momentum is 0 (writable: not rt().dummy, bound read-only alongside). */
  private noVelocity: Tensor | null = null;

  constructor(params: ParamList, opts: SGDOptions) {
    super(params, opts ?? ({} as SGDOptions), undefined, 'SGD');
    this.momentum = checkNumber('SGD', 'momentum', opts.momentum ?? 0, 0, false, 1, true);
    this.slots = this.momentum > 0 ? ['momentum'] : [];
    this.initState(() => 0);
    if (this.momentum === 0) this.noVelocity = Tensor.empty([4], 'f32', 'SGD.noVelocity').keep();
  }

  protected encodeUpdate(a: UpdateArgs): void {
    // n: invocations, one element each or four (see width.ts).
    const vec4 = useVec4(a.grad.size, a.ids ? a.d : null);
    const n = a.grad.size / (vec4 ? 4 : 1);
    const r = rt();
    const m = this.momentum > 0;
    r.run(widthKernel(SGD_KERNEL, vec4), {
      overrides: { SPARSE: a.ids !== null, MOMENTUM: m },
      params: { n, d: a.d, lr: this.lr, momentum: this.momentum, clipped: a.clipped ? 1 : 0 },
      buffers: [
        a.entry.param.buffer,
        a.grad.buffer,
        m ? a.entry.state[0].buffer : this.noVelocity!.buffer,
        a.stats.buffer,
        a.ids ? a.ids.buffer : r.dummy,
      ],
      workgroups: grid1d(n),
    });
  }

  protected hyper(): Record<string, number> {
    return { lr: this.lr, momentum: this.momentum };
  }

  protected override extraDispose(): void {
    this.noVelocity?.dispose();
  }
}
