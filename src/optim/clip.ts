// fl.optim.clipGradNorm: global-norm clipping of gradients in place, on the GPU, without a
// host round trip (the optimizers do the same fused into their update kernels).
import { kernelFile } from '../gpu/pipelines.js';
import { rt } from '../gpu/runtime.js';
import { grid1d } from '../ops/dispatch.js';
import { Tensor, fmtShape } from '../tensor.js';
import { STATS_WORDS, encodeNormPass, withStats } from './norm.js';
import { checkNumber, type ParamList } from './optimizer.js';
import scaleSrc from '../../kernels/optim_scale_grad.wgsl';

const SCALE_GRAD = withStats(kernelFile('optim_scale_grad', scaleSrc));

/**
 * Scales the gradients (.grad) of `params` in place by maxNorm / max(norm, maxNorm), where
 * norm is their global L2 norm, all on the GPU. Returns a new scalar tensor holding the norm
 * before clipping (the caller owns it). When the norm is NaN or infinite the gradients are
 * left as they are (the returned norm shows it). Gradients that share storage are scaled once.
 */
export function clipGradNorm(params: ParamList, maxNorm: number): Tensor {
  checkNumber('clipGradNorm', 'maxNorm', maxNorm, 0, true);
  if (!Array.isArray(params)) throw new Error('flstm: clipGradNorm: params must be an array of Tensors or of [name, Tensor] pairs');
  const grads: Tensor[] = [];
  params.forEach((p: Tensor | readonly [string, Tensor], i: number) => {
    const t = p instanceof Tensor ? p : Array.isArray(p) ? p[1] : null;
    if (!(t instanceof Tensor)) throw new Error(`flstm: clipGradNorm: params[${i}] must be a Tensor or a [name, Tensor] pair`);
    const g = t.grad;
    if (!g) return;
    g.buffer;
    if (g.dtype !== 'f32')
      throw new Error(`flstm: clipGradNorm: the gradient of params[${i}] is ${g.dtype} ${fmtShape(g.shape)}, expected f32`);
    grads.push(g);
  });
  const r = rt();
  const normOut = Tensor.empty([], 'f32', 'clipGradNorm');
  // The finalize kernel also advances the counters of a stats buffer; these are not used here.
  const stats = Tensor.empty([STATS_WORDS], 'f32', 'clipGradNorm.stats');
  encodeNormPass({ clipped: grads, rest: [], maxNorm, stats, normOut });
  const done = new Set<GPUBuffer>();
  for (const g of grads) {
    if (done.has(g.buffer) || g.size === 0) continue;
    done.add(g.buffer);
    r.run(SCALE_GRAD, { params: { n: g.size }, buffers: [g.buffer, stats.buffer], workgroups: grid1d(g.size) });
  }
  stats.dispose();
  return normOut;
}
