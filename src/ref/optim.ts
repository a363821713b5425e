// Float64 references for the optimizers (Adagrad, Adam, SGD with momentum), global-norm
// clipping, the skip of a step whose gradient norm is not finite, and sparse row updates.
// The GPU kernels (kernels/optim_*.wgsl) must match these.

/** sqrt(sum of g^2 over every element of every gradient). */
export function globalNormRef(grads: readonly ArrayLike<number>[]): number {
  return Math.sqrt(sumSquaresRef(grads));
}

export function sumSquaresRef(grads: readonly ArrayLike<number>[]): number {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return s;
}

/** The clip factor of clip-by-global-norm: maxNorm / max(norm, maxNorm) (= min(1, maxNorm / norm)). */
export function clipScaleRef(norm: number, maxNorm: number): number {
  return maxNorm / Math.max(norm, maxNorm);
}

/** The GPU sums squares in f32: a sum of squares beyond f32's range counts as not finite. */
const F32_MAX = 3.4028234663852886e38;
export function isFiniteSumRef(sumSq: number): boolean {
  return Number.isFinite(sumSq) && sumSq <= F32_MAX;
}

/** Adagrad (TensorFlow's, as in the paper's code): acc += g^2; w -= lr * g / (sqrt(acc) + eps). In place. */
export function adagradRef(
  w: Float64Array,
  acc: Float64Array,
  g: ArrayLike<number>,
  lr: number,
  eps = 0,
  index?: (i: number) => number,
): void {
  for (let i = 0; i < g.length; i++) {
    const j = index ? index(i) : i;
    acc[j] += g[i] * g[i];
    w[j] -= (lr * g[i]) / (Math.sqrt(acc[j]) + eps);
  }
}

/**
 * Adam with bias correction at step t (1-based):
 * m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps). In place.
 */
export function adamRef(
  w: Float64Array,
  m: Float64Array,
  v: Float64Array,
  g: ArrayLike<number>,
  t: number,
  o: { lr: number; beta1: number; beta2: number; eps: number },
  index?: (i: number) => number,
): void {
  const bc1 = 1 - Math.pow(o.beta1, t);
  const bc2 = 1 - Math.pow(o.beta2, t);
  for (let i = 0; i < g.length; i++) {
    const j = index ? index(i) : i;
    m[j] = o.beta1 * m[j] + (1 - o.beta1) * g[i];
    v[j] = o.beta2 * v[j] + (1 - o.beta2) * g[i] * g[i];
    w[j] -= (o.lr * (m[j] / bc1)) / (Math.sqrt(v[j] / bc2) + o.eps);
  }
}

/** SGD; with momentum (PyTorch's form): vel = momentum vel + g; w -= lr vel. In place. */
export function sgdRef(
  w: Float64Array,
  vel: Float64Array | null,
  g: ArrayLike<number>,
  lr: number,
  momentum = 0,
  index?: (i: number) => number,
): void {
  for (let i = 0; i < g.length; i++) {
    const j = index ? index(i) : i;
    if (momentum !== 0 && vel) {
      vel[j] = momentum * vel[j] + g[i];
      w[j] -= lr * vel[j];
    } else w[j] -= lr * g[i];
  }
}

export type RefKind = 'adagrad' | 'adam' | 'sgd';

export interface RefOptions {
  lr: number;
  initialAccumulator?: number;
  eps?: number;
  beta1?: number;
  beta2?: number;
  momentum?: number;
  /** Clip the gradients of these parameter indices (all when `params` is omitted) by global norm. */
  clip?: { maxNorm: number; params?: readonly number[] };
  /** Check every gradient for NaN / Inf (default true); otherwise only the clipped ones. */
  checkFinite?: boolean;
}

/** A sparse gradient: rows [ids.length, d] (flat) for the rows `ids` (unique) of parameter `param`. */
export interface RefSparse {
  param: number;
  ids: ArrayLike<number>;
  rows: ArrayLike<number>;
}

/**
 * A whole optimizer in float64, the way fl.optim runs it: per step, the global norm of the
 * clipped gradients (and a finite check over all of them), then each update with the clip
 * scale; a step whose norm is not finite changes nothing and is counted. Adam's t counts
 * finite steps only.
 */
export class RefOptimizer {
  readonly w: Float64Array[];
  readonly s1: Float64Array[];
  readonly s2: Float64Array[];
  step = 0;
  nonFiniteSteps = 0;
  attempts = 0;
  lastNorm = 0;

  constructor(
    readonly kind: RefKind,
    params: readonly ArrayLike<number>[],
    public o: RefOptions,
  ) {
    this.w = params.map((p) => Float64Array.from(p));
    const init = kind === 'adagrad' ? (o.initialAccumulator ?? 1) : 0;
    this.s1 = params.map((p) => new Float64Array(p.length).fill(init));
    this.s2 = params.map((p) => new Float64Array(p.length));
  }

  /** grads[i]: the dense gradient of parameter i, or null (not updated). */
  update(grads: readonly (ArrayLike<number> | null)[], sparse: readonly RefSparse[] = []): { norm: number; finite: boolean } {
    const o = this.o;
    const clipSet = o.clip ? new Set(o.clip.params ?? this.w.map((_, i) => i)) : new Set<number>();
    const clipped: ArrayLike<number>[] = [];
    const rest: ArrayLike<number>[] = [];
    const add = (i: number, g: ArrayLike<number>) => (clipSet.has(i) ? clipped : rest).push(g);
    grads.forEach((g, i) => g && add(i, g));
    for (const s of sparse) add(s.param, s.rows);
    const clipSq = sumSquaresRef(clipped);
    const restSq = o.checkFinite === false ? 0 : sumSquaresRef(rest);
    const finite = isFiniteSumRef(clipSq + restSq);
    const norm = o.clip ? Math.sqrt(clipSq) : Math.sqrt(clipSq + restSq);
    this.lastNorm = norm;
    this.attempts++;
    if (!finite) {
      this.nonFiniteSteps++;
      return { norm, finite };
    }
    this.step++;
    const scale = o.clip ? clipScaleRef(Math.sqrt(clipSq), o.clip.maxNorm) : 1;
    const apply = (i: number, g: ArrayLike<number>, index?: (k: number) => number) => {
      const gs = clipSet.has(i) && scale !== 1 ? Array.from(g, (x) => x * scale) : g;
      if (this.kind === 'adagrad') adagradRef(this.w[i], this.s1[i], gs, o.lr, o.eps ?? 0, index);
      else if (this.kind === 'sgd') sgdRef(this.w[i], this.s1[i], gs, o.lr, o.momentum ?? 0, index);
      else
        adamRef(
          this.w[i],
          this.s1[i],
          this.s2[i],
          gs,
          this.step,
          { lr: o.lr, beta1: o.beta1 ?? 0.9, beta2: o.beta2 ?? 0.999, eps: o.eps ?? 1e-8 },
          index,
        );
    };
    grads.forEach((g, i) => g && apply(i, g));
    for (const s of sparse) {
      const d = s.rows.length / Math.max(1, s.ids.length);
      apply(s.param, s.rows, (k) => s.ids[Math.floor(k / d)] * d + (k % d));
    }
    return { norm, finite };
  }
}
