// The optimizer base: parameters and their GPU state, the step (norm pass, then one fused
// update dispatch per parameter, no host round trip), sparse row updates, the non-finite
// skip counter, and state dicts for checkpoints (bit-exact resume).
import { rt } from '../gpu/runtime.js';
import { Tensor, fmtShape } from '../tensor.js';
import { writeTensor } from '../ops/create.js';
import { fill } from '../ops/elementwise.js';
import { resolveIds } from '../ops/embedding.js';
import type { StateEntry } from '../nn/module.js';
import { STATS_WORDS, Stat, encodeNormPass, initialStats } from './norm.js';

/** Parameters: tensors (named "0", "1", ...) or [name, tensor] pairs as Module.parameters() gives. */
export type ParamList = readonly Tensor[] | readonly (readonly [string, Tensor])[];

export interface ClipOptions {
  /** Clip the gradients of the chosen parameters together to this global L2 norm. */
  maxNorm: number;
  /** Which parameters are clipped: names or tensors, or a test on the name. Default: all. */
  params?: readonly (string | Tensor)[] | ((name: string) => boolean);
}

export interface OptimizerOptions {
  lr?: number;
  /** Global-norm clipping: a max norm (all parameters) or { maxNorm, params }. */
  clip?: number | ClipOptions | null;
  /**
   * Check every gradient (not only the clipped ones) for NaN / Inf each step (default true):
   * a step whose gradients are not all finite changes nothing and is counted (nonFiniteSteps()).
   * Costs one read of every gradient; off, with no clipping, the norm pass is skipped.
   */
  checkFinite?: boolean;
}

/**
 * A sparse gradient of a parameter [V, ...] (an embedding or softmax table, or a bias [V]):
 * unique row ids and their gradient rows [ids.length, ...] (any shape with ids.length rows).
 */
export interface SparseGrad {
  param: Tensor | string;
  ids: Int32Array | readonly number[];
  rows: Tensor;
}

export interface StepOptions {
  /** Sparse gradients (embedding or softmax tables) updated in this step, rows only. */
  sparse?: readonly SparseGrad[];
  /** Update the parameters that have a dense .grad (default true). */
  dense?: boolean;
}

export interface OptimizerStats {
  /** Steps taken (finite ones; Adam's t). */
  step: number;
  /** Steps skipped because the gradient norm was NaN or infinite. */
  nonFiniteSteps: number;
  /** All steps, taken or skipped. */
  attempts: number;
  /** The global norm of the last step (of the clipped gradients when clipping). */
  norm: number;
  /** The clip factor of the last step (1 when not clipped). */
  scale: number;
  /** Whether the last step was finite (and so applied). */
  finite: boolean;
}

export type OptimizerKind = 'adagrad' | 'adam' | 'sgd';

/**
 * An optimizer's state for a checkpoint: named state tensors (`${param}.${slot}`, e.g.
 * 'layers.0.W.acc') and JSON scalars: the kind, the step counters, Adam's running beta
 * powers (f32 values, exact in JSON) and the hyperparameters at save time (for the record;
 * loadStateDict does not change them).
 */
export type OptimizerScalars = {
  kind: OptimizerKind;
  step: number;
  nonFiniteSteps: number;
  attempts: number;
  beta1Power: number;
  beta2Power: number;
  options: Record<string, number>;
};
export type OptimizerStateDict = {
  tensors: Record<string, StateEntry>;
  scalars: OptimizerScalars;
};

/** What loadStateDict accepts: stateDict()'s shape, as a checkpoint reader gives it back. */
export type OptimizerStateInput = {
  tensors: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>;
  scalars: Record<string, unknown>;
};

export interface ParamEntry {
  name: string;
  param: Tensor;
  /** State tensors, one per slot name (same shape as the parameter). */
  state: Tensor[];
}

/** How an optimizer encodes its update of one parameter. */
export interface UpdateArgs {
  entry: ParamEntry;
  grad: Tensor;
  /** Sparse: the uploaded row ids (i32) and the row width; dense: null. */
  ids: Tensor | null;
  d: number;
  clipped: boolean;
  stats: Tensor;
}

let nextOptimizer = 1;

export abstract class Optimizer {
  abstract readonly kind: OptimizerKind;
  /** State slot names, e.g. ['acc'] for Adagrad. */
  protected abstract readonly slots: readonly string[];
  protected readonly entries: ParamEntry[] = [];
  private readonly byTensor = new Map<Tensor, ParamEntry>();
  private readonly byName = new Map<string, ParamEntry>();
  private clipSet = new Set<Tensor>();
  private maxNorm: number | null = null;
  private _lr: number;
  readonly checkFinite: boolean;
  /** The stats buffer (struct Stats of kernels/optim_norm_finalize.wgsl). */
  protected readonly stats: Tensor;
  private disposed = false;
  protected readonly id = nextOptimizer++;

  constructor(
    params: ParamList,
    opts: OptimizerOptions,
    defaultLr: number | undefined,
    protected readonly who: string,
  ) {
    if (opts === null || typeof opts !== 'object')
      throw new Error(`flstm: ${who}: options must be an object, got ${opts === null ? 'null' : typeof opts}`);
    const lr = opts.lr ?? defaultLr;
    if (lr === undefined) throw new Error(`flstm: ${who}: the learning rate { lr } is required`);
    this._lr = checkNumber(who, 'lr', lr, 0);
    this.checkFinite = opts.checkFinite ?? true;
    if (!Array.isArray(params))
      throw new Error(
        `flstm: ${who}: params must be an array of Tensors or of [name, Tensor] pairs, got ${params === null ? 'null' : typeof params}`,
      );
    params.forEach((p: Tensor | readonly [string, Tensor], i: number) => {
      const [name, t] = p instanceof Tensor ? [String(i), p] : Array.isArray(p) && p.length === 2 ? p : [null, null];
      if (typeof name !== 'string' || !(t instanceof Tensor)) {
        throw new Error(`flstm: ${who}: params[${i}] must be a Tensor or a [name, Tensor] pair`);
      }
      t.buffer; // throws a clear message when disposed
      if (t.dtype !== 'f32') throw new Error(`flstm: ${who}: parameter '${name}' must be f32, got ${t.dtype} ${fmtShape(t.shape)}`);
      if (this.byTensor.has(t))
        throw new Error(
          `flstm: ${who}: parameter '${name}' is the same tensor as '${this.byTensor.get(t)!.name}' (give each parameter once)`,
        );
      if (this.byName.has(name)) throw new Error(`flstm: ${who}: two parameters are named '${name}'`);
      const entry: ParamEntry = { name, param: t, state: [] };
      this.entries.push(entry);
      this.byTensor.set(t, entry);
      this.byName.set(name, entry);
    });
    this.stats = Tensor.empty([STATS_WORDS], 'f32', `${who}.stats`).keep();
    rt().recorder.upload(this.stats.buffer, initialStats());
    this.setClip(opts.clip ?? null);
  }

  /** Makes the state tensors (called by subclasses once their options are set). */
  protected initState(init: (slot: string, p: Tensor) => number): void {
    for (const e of this.entries) e.state = this.slots.map((s) => fill(e.param.shape, init(s, e.param)).keep());
  }

  get lr(): number {
    return this._lr;
  }

  /** Changes the learning rate for the next steps (no new pipeline: lr is a uniform value). */
  set lr(v: number) {
    this._lr = checkNumber(this.who, 'lr', v, 0);
  }

  /** The parameters, in order, with their names. */
  get parameters(): [string, Tensor][] {
    return this.entries.map((e) => [e.name, e.param]);
  }

  /** Sets (or with null, removes) global-norm clipping. */
  setClip(clip: number | ClipOptions | null): void {
    if (clip === null || clip === undefined) {
      this.maxNorm = null;
      this.clipSet = new Set();
      return;
    }
    const c: ClipOptions = typeof clip === 'number' ? { maxNorm: clip } : clip;
    if (typeof c !== 'object') throw new Error(`flstm: ${this.who}: clip must be a number or { maxNorm, params }, got ${typeof clip}`);
    const maxNorm = checkNumber(this.who, 'clip.maxNorm', c.maxNorm, 0, true);
    const set = new Set<Tensor>();
    if (c.params === undefined) for (const e of this.entries) set.add(e.param);
    else if (typeof c.params === 'function') {
      for (const e of this.entries) if (c.params(e.name)) set.add(e.param);
    } else if (Array.isArray(c.params)) {
      for (const p of c.params) {
        const e = typeof p === 'string' ? this.byName.get(p) : this.byTensor.get(p);
        if (!e) {
          const names = this.entries.map((x) => `'${x.name}'`).join(', ');
          throw new Error(
            `flstm: ${this.who}: clip.params names ${typeof p === 'string' ? `'${p}'` : `a tensor ${p}`}, which is not one of the optimizer's parameters (${names})`,
          );
        }
        set.add(e.param);
      }
    } else throw new Error(`flstm: ${this.who}: clip.params must be an array of names or tensors, or a function of the name`);
    this.maxNorm = maxNorm;
    this.clipSet = set;
  }

  /** Names of the clipped parameters (empty when clipping is off). */
  get clippedNames(): string[] {
    return this.maxNorm === null ? [] : this.entries.filter((e) => this.clipSet.has(e.param)).map((e) => e.name);
  }

  private live(): void {
    if (this.disposed) throw new Error(`flstm: ${this.who}: the optimizer was disposed`);
  }

  private entryOf(p: Tensor | string, what: string): ParamEntry {
    const e = typeof p === 'string' ? this.byName.get(p) : p instanceof Tensor ? this.byTensor.get(p) : undefined;
    if (!e)
      throw new Error(
        `flstm: ${this.who}: ${what} ${typeof p === 'string' ? `'${p}'` : String(p)} is not one of the optimizer's parameters`,
      );
    return e;
  }

  /**
   * One optimizer step: every parameter with a dense .grad (and each sparse gradient given) is
   * updated in place. Encoded only: no host round trip. Gradients are clipped by global norm
   * on the GPU; a step whose gradient norm is not finite is skipped on the GPU and counted.
   * Returns a new scalar tensor holding the step's global norm before clipping: of the
   * clipped gradients when clipping, else of all gradients (0 when checkFinite is off and
   * nothing is clipped, as no norm is computed). Read it later for logging; the caller owns
   * it (fl.tidy disposes it). Dispatches: one per gradient for the norm, one to finish it,
   * one update per parameter.
   */
  step(opts: StepOptions = {}): Tensor {
    this.live();
    const who = `${this.who}.step`;
    const dense: { e: ParamEntry; g: Tensor }[] = [];
    const sparseNames = new Set<ParamEntry>();
    const sparse: { e: ParamEntry; ids: Int32Array; rows: Tensor; d: number }[] = [];
    for (const [k, s] of (opts.sparse ?? []).entries()) {
      if (!s || typeof s !== 'object') throw new Error(`flstm: ${who}: sparse[${k}] must be { param, ids, rows }`);
      const e = this.entryOf(s.param, `sparse[${k}].param`);
      if (sparseNames.has(e))
        throw new Error(`flstm: ${who}: parameter '${e.name}' has two sparse gradients in one step (sum them: give each row once)`);
      sparseNames.add(e);
      sparse.push({ e, ...this.checkSparse(e, s.ids, s.rows, `${who}: sparse gradient of '${e.name}'`) });
    }
    if (opts.dense !== false) {
      for (const e of this.entries) {
        const g = e.param.grad;
        if (!g) continue;
        if (sparseNames.has(e)) {
          throw new Error(
            `flstm: ${who}: parameter '${e.name}' has both a dense .grad and a sparse gradient in this step (dispose its .grad, or do not make the table require grad)`,
          );
        }
        g.buffer;
        if (g.dtype !== 'f32' || g.size !== e.param.size) {
          throw new Error(
            `flstm: ${who}: the gradient of '${e.name}' is ${g.dtype} ${fmtShape(g.shape)}, expected f32 ${fmtShape(e.param.shape)}`,
          );
        }
        dense.push({ e, g });
      }
    }
    const r = rt();
    const clipOn = this.maxNorm !== null;
    const isClipped = (e: ParamEntry) => clipOn && this.clipSet.has(e.param);
    const grads = [...dense.map((x) => ({ e: x.e, g: x.g })), ...sparse.map((x) => ({ e: x.e, g: x.rows }))];
    const normOut = Tensor.empty([], 'f32', `${this.who}.norm`);
    const [beta1, beta2] = this.betas();
    encodeNormPass({
      clipped: grads.filter((x) => isClipped(x.e)).map((x) => x.g),
      rest: this.checkFinite ? grads.filter((x) => !isClipped(x.e)).map((x) => x.g) : [],
      maxNorm: this.maxNorm,
      beta1,
      beta2,
      stats: this.stats,
      normOut,
    });
    for (const { e, g } of dense) {
      this.encodeUpdate({ entry: e, grad: g, ids: null, d: 1, clipped: isClipped(e), stats: this.stats });
    }
    for (const { e, ids, rows, d } of sparse) {
      if (ids.length === 0 || d === 0) continue;
      const idsT = Tensor.empty([ids.length], 'i32', `${this.who}.sparse.ids`);
      r.recorder.upload(idsT.buffer, ids);
      this.encodeUpdate({ entry: e, grad: rows, ids: idsT, d, clipped: isClipped(e), stats: this.stats });
      idsT.dispose(); // safe: later users of the recycled buffer are encoded after this dispatch
    }
    return normOut;
  }

  /**
   * A step of one sparse gradient alone: `step({ sparse: [{ param, ids, rows }], dense: false })`.
   * It is a step of its own (Adam's t advances): to update dense and sparse parameters in one
   * step, pass the sparse gradients to step().
   */
  stepSparse(param: Tensor | string, ids: Int32Array | readonly number[], rows: Tensor): Tensor {
    return this.step({ sparse: [{ param, ids, rows }], dense: false });
  }

  private checkSparse(
    e: ParamEntry,
    idsIn: Int32Array | readonly number[],
    rows: Tensor,
    who: string,
  ): { ids: Int32Array; rows: Tensor; d: number } {
    const p = e.param;
    if (p.rank < 1) throw new Error(`flstm: ${who}: sparse updates need a parameter with rows ([rows] or [rows, ...]), got a scalar`);
    const V = p.shape[0];
    const D = V > 0 ? p.size / V : 0;
    const ids = resolveIds(idsIn as Int32Array, who, 'ids').host!;
    const rowShape = `[${[ids.length, ...p.shape.slice(1)].join(', ')}]`;
    if (!(rows instanceof Tensor)) throw new Error(`flstm: ${who}: rows must be a Tensor ${rowShape}`);
    rows.buffer;
    if (rows.dtype !== 'f32' || rows.rank < 1 || rows.shape[0] !== ids.length || rows.size !== ids.length * D) {
      throw new Error(`flstm: ${who}: rows are ${rows.dtype} ${fmtShape(rows.shape)}, expected f32 ${rowShape} (one row per id)`);
    }
    const sorted = Int32Array.from(ids).sort();
    for (let k = 0; k < sorted.length; k++) {
      if (sorted[k] < 0 || sorted[k] >= V) {
        throw new Error(`flstm: ${who}: id ${sorted[k]} is out of range for a parameter of ${V} rows (expected 0 <= id < ${V})`);
      }
      if (k > 0 && sorted[k] === sorted[k - 1]) {
        throw new Error(`flstm: ${who}: id ${sorted[k]} appears twice; rows must be summed per id first (fl.embeddingBackwardSparse does)`);
      }
    }
    return { ids, rows, d: D };
  }

  /** Adam's (beta1, beta2) for the running powers in the stats buffer; 1 for the others. */
  protected betas(): [number, number] {
    return [1, 1];
  }

  protected abstract encodeUpdate(a: UpdateArgs): void;

  /** Hyperparameters for the state dict's record. */
  protected abstract hyper(): Record<string, number>;

  /** Disposes every parameter's gradient. */
  zeroGrad(): void {
    for (const e of this.entries) {
      if (e.param.grad) {
        e.param.grad.dispose();
        e.param.grad = null;
      }
    }
  }

  /** Reads the step counters and the last step's norm (waits for the GPU). */
  async readStats(): Promise<OptimizerStats> {
    this.live();
    const f = (await this.stats.data()) as Float32Array;
    const u = new Uint32Array(f.buffer, f.byteOffset, STATS_WORDS);
    return {
      step: u[Stat.step],
      nonFiniteSteps: u[Stat.nonFinite],
      attempts: u[Stat.attempts],
      norm: f[Stat.norm],
      scale: f[Stat.scale],
      finite: u[Stat.finite] !== 0,
    };
  }

  /** Steps skipped so far because the gradient norm was NaN or infinite (waits for the GPU). */
  async nonFiniteSteps(): Promise<number> {
    return (await this.readStats()).nonFiniteSteps;
  }

  /** Steps taken so far (finite ones; waits for the GPU). */
  async stepCount(): Promise<number> {
    return (await this.readStats()).step;
  }

  /** The state for a checkpoint: step counters and every state tensor, copied to the host. */
  async stateDict(): Promise<OptimizerStateDict> {
    const scalars = await this.stateScalars();
    const tensors: Record<string, StateEntry> = {};
    for (const [key, t] of this.stateTensors()) tensors[key] = { shape: [...t.shape], data: (await t.data()) as Float32Array };
    return { tensors, scalars };
  }

  /** The state tensors by stateDict()'s keys, in its order, unread (a checkpoint reads them a piece at a time). */
  stateTensors(): [string, Tensor][] {
    this.live();
    return this.entries.flatMap((e) => this.slots.map((slot, s): [string, Tensor] => [`${e.name}.${slot}`, e.state[s]]));
  }

  /** stateDict()'s scalars: the step counters (read from the GPU) and the hyperparameters. */
  async stateScalars(): Promise<OptimizerScalars> {
    this.live();
    const f = (await this.stats.data()) as Float32Array;
    const u = new Uint32Array(f.buffer, f.byteOffset, STATS_WORDS);
    return {
      kind: this.kind,
      step: u[Stat.step],
      nonFiniteSteps: u[Stat.nonFinite],
      attempts: u[Stat.attempts],
      beta1Power: f[Stat.beta1Power],
      beta2Power: f[Stat.beta2Power],
      options: this.hyper(),
    };
  }

  /**
   * Restores a state from stateDict() (same kind, same parameter names and shapes). Written
   * in stream order, so the next step continues bit-exactly. Everything is checked first.
   * Hyperparameters (lr, betas, ...) stay as this optimizer was made.
   */
  loadStateDict(dict: OptimizerStateInput): void {
    this.live();
    const who = `${this.who}.loadStateDict`;
    if (
      !dict ||
      typeof dict !== 'object' ||
      !dict.scalars ||
      typeof dict.scalars !== 'object' ||
      !dict.tensors ||
      typeof dict.tensors !== 'object'
    ) {
      throw new Error(`flstm: ${who}: expected { tensors, scalars } as stateDict() returns`);
    }
    const kind = dict.scalars.kind;
    if (kind !== this.kind)
      throw new Error(
        `flstm: ${who}: the state is of ${typeof kind === 'string' ? `an optimizer of kind '${kind}'` : 'no known optimizer (scalars.kind is missing)'}, this one is '${this.kind}'`,
      );
    const want = new Set<string>();
    const writes: [Tensor, Float32Array][] = [];
    for (const e of this.entries) {
      for (let s = 0; s < this.slots.length; s++) {
        const key = `${e.name}.${this.slots[s]}`;
        want.add(key);
        const t = dict.tensors[key];
        if (!t) throw new Error(`flstm: ${who}: missing state tensor '${key}'`);
        const same = Array.isArray(t.shape) && t.shape.length === e.param.rank && t.shape.every((d, i) => d === e.param.shape[i]);
        if (!same || !t.data || t.data.length !== e.param.size) {
          throw new Error(
            `flstm: ${who}: state tensor '${key}' has shape ${fmtShape(t.shape ?? [])} and ${t.data?.length} values, expected ${fmtShape(e.param.shape)}`,
          );
        }
        const bad = impossibleState(this.slots[s], t.data);
        if (bad) throw new Error(`flstm: ${who}: state tensor '${key}' must hold ${bad}`);
        writes.push([e.state[s], t.data instanceof Float32Array ? t.data : Float32Array.from(t.data)]);
      }
    }
    const extra = Object.keys(dict.tensors).filter((k) => !want.has(k));
    if (extra.length)
      throw new Error(`flstm: ${who}: unexpected state tensor${extra.length > 1 ? 's' : ''} ${extra.map((k) => `'${k}'`).join(', ')}`);
    const stats = this.statsOf(dict.scalars, who);
    for (const [t, data] of writes) writeTensor(t, data);
    writeTensor(this.stats, stats);
  }

  /**
   * Restores stateDict()'s scalars alone (the step counters), checked as loadStateDict checks
   * them: for a checkpoint whose state tensors are written into stateTensors() a piece at a time.
   */
  loadScalars(scalars: Record<string, unknown>): void {
    this.live();
    const who = `${this.who}.loadScalars`;
    if (scalars?.kind !== this.kind)
      throw new Error(`flstm: ${who}: the state is of an optimizer of kind '${String(scalars?.kind)}', this one is '${this.kind}'`);
    writeTensor(this.stats, this.statsOf(scalars, who));
  }

  /** The stats buffer's values for stateDict()'s scalars, checked. */
  private statsOf(scalars: Record<string, unknown>, who: string): Float32Array {
    const sc = scalars as Record<string, number>;
    for (const k of ['step', 'nonFiniteSteps', 'attempts'] as const) {
      if (!Number.isInteger(sc[k]) || sc[k] < 0 || sc[k] > 0xffffffff)
        throw new Error(`flstm: ${who}: scalars.${k} must be a non-negative integer, got ${String(sc[k])}`);
    }
    for (const k of ['beta1Power', 'beta2Power'] as const) {
      if (typeof sc[k] !== 'number' || !Number.isFinite(sc[k]))
        throw new Error(`flstm: ${who}: scalars.${k} must be a finite number, got ${String(sc[k])}`);
    }
    const stats = initialStats();
    const u = new Uint32Array(stats.buffer);
    u[Stat.step] = sc.step;
    u[Stat.nonFinite] = sc.nonFiniteSteps;
    u[Stat.attempts] = sc.attempts;
    stats[Stat.beta1Power] = sc.beta1Power;
    stats[Stat.beta2Power] = sc.beta2Power;
    return stats;
  }

  /** Frees the state tensors. The parameters are the caller's. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const e of this.entries) for (const s of e.state) s.dispose();
    this.stats.dispose();
    this.extraDispose();
  }

  protected extraDispose(): void {}
}

/**
 * Slots whose values are never negative: Adagrad's sum of squared gradients, Adam's second
 * moment. A negative one would make the next step's sqrt NaN and poison every weight.
 */
const NON_NEGATIVE_SLOTS = new Set(['acc', 'v']);

/** Why a loaded state tensor cannot be the optimizer's (NaN, Inf, a negative sum of squares), or null. */
function impossibleState(slot: string, data: ArrayLike<number>): string | null {
  const nonNegative = NON_NEGATIVE_SLOTS.has(slot);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v) || (nonNegative && v < 0)) return `finite${nonNegative ? ', non-negative' : ''} values, got ${v} at index ${i}`;
  }
  return null;
}

export function checkNumber(
  who: string,
  what: string,
  v: unknown,
  min: number,
  exclusive = false,
  max?: number,
  maxExclusive = false,
): number {
  const ok =
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (exclusive ? v > min : v >= min) &&
    (max === undefined || (maxExclusive ? v < max : v <= max));
  if (!ok) {
    const range = `${exclusive ? '>' : '>='} ${min}${max === undefined ? '' : ` and ${maxExclusive ? '<' : '<='} ${max}`}`;
    throw new Error(`flstm: ${who}: ${what} must be a finite number ${range}, got ${String(v)}`);
  }
  return v as number;
}
