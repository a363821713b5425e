// Module: the base class of layers. A module owns named parameters (leaf f32 tensors that
// require grad and outlive fl.tidy scopes) and named child modules; parameter names are
// dotted paths ("layers.0.W"). State dicts are named host arrays with their shapes.
import { Tensor, fmtShape, shapeSize } from '../tensor.js';
import { writeTensor } from '../ops/create.js';

export interface StateEntry {
  shape: number[];
  data: Float32Array;
}
export type StateDict = Record<string, StateEntry>;

const NAME = /^[A-Za-z0-9_]+$/;

export class Module {
  /** Training mode (dropout on); `eval()` turns it off, recursively. */
  training = true;
  private readonly ownParams = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  private checkName(name: string, what: string): void {
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new Error(`flstm: ${this.constructor.name}: ${what} name must be letters, digits or _ (no dots), got ${JSON.stringify(name)}`);
    }
    if (this.ownParams.has(name) || this.children.has(name)) {
      throw new Error(`flstm: ${this.constructor.name}: the name '${name}' is already registered`);
    }
  }

  /**
   * Registers `t` as the parameter `name`: it requires grad and is kept out of fl.tidy scopes.
   * It must be a leaf f32 tensor (made from data or by an init function, not by a recorded op).
   */
  registerParameter(name: string, t: Tensor): Tensor {
    this.checkName(name, 'parameter');
    if (!(t instanceof Tensor))
      throw new Error(`flstm: ${this.constructor.name}: parameter '${name}' must be a Tensor, got ${t === null ? 'null' : typeof t}`);
    t.buffer; // throws a clear message when disposed
    if (t.dtype !== 'f32')
      throw new Error(`flstm: ${this.constructor.name}: parameter '${name}' must be f32, got ${t.dtype} ${fmtShape(t.shape)}`);
    if (t.node) {
      throw new Error(
        `flstm: ${this.constructor.name}: parameter '${name}' must be a leaf tensor, but it is the output of ${t.node.op} ` +
          '(make it under fl.noGrad, or from data / an init function)',
      );
    }
    t.requiresGrad = true;
    t.keep();
    this.ownParams.set(name, t);
    return t;
  }

  /** Registers a child module; its parameters are named `${name}.${childName}`. */
  registerModule<M extends Module>(name: string, child: M): M {
    this.checkName(name, 'module');
    if (!(child instanceof Module)) throw new Error(`flstm: ${this.constructor.name}: module '${name}' must be a Module`);
    if ((child as Module) === (this as Module))
      throw new Error(`flstm: ${this.constructor.name}: a module cannot be its own child ('${name}')`);
    this.children.set(name, child);
    return child;
  }

  /** Child modules in registration order, with their names. */
  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /**
   * All parameters, own ones first then each child's, in registration order, with dotted
   * names. A tensor registered in two places (tied weights) appears once, under its first name.
   */
  parameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const visiting = new Set<Module>();
    const walk = (m: Module, prefix: string): void => {
      if (visiting.has(m)) throw new Error(`flstm: module cycle at '${prefix.slice(0, -1)}'`);
      visiting.add(m);
      for (const [n, t] of m.ownParams) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([prefix + n, t]);
      }
      for (const [n, c] of m.children) walk(c, `${prefix}${n}.`);
      visiting.delete(m);
    };
    walk(this, '');
    return out;
  }

  /** Number of parameter values (each tensor counted once). */
  numParams(): number {
    return this.parameters().reduce((a, [, t]) => a + t.size, 0);
  }

  /** Disposes every parameter's gradient. */
  zeroGrad(): void {
    for (const [, t] of this.parameters()) {
      if (t.grad) {
        t.grad.dispose();
        t.grad = null;
      }
    }
  }

  /** Sets training mode on this module and every child. */
  train(mode = true): this {
    this.training = mode;
    for (const c of this.children.values()) c.train(mode);
    return this;
  }

  /** Evaluation mode: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Disposes every parameter (and its gradient). The module cannot be used afterwards. */
  dispose(): void {
    for (const [, t] of this.parameters()) t.dispose();
  }

  /** Every parameter's values copied to the host, by dotted name. */
  async stateDict(): Promise<StateDict> {
    const out: StateDict = {};
    for (const [name, t] of this.parameters()) {
      out[name] = { shape: [...t.shape], data: (await t.data()) as Float32Array };
    }
    return out;
  }

  /**
   * Writes the values of `dict` into the existing parameters (same names and shapes; every
   * parameter must be given and nothing else). Everything is checked before anything is written.
   */
  loadStateDict(dict: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>): void {
    const who = `${this.constructor.name}.loadStateDict`;
    if (dict === null || typeof dict !== 'object')
      throw new Error(
        `flstm: ${who}: expected an object of { shape, data } by parameter name, got ${dict === null ? 'null' : typeof dict}`,
      );
    const params = this.parameters();
    const names = new Set(params.map(([n]) => n));
    const missing = params.map(([n]) => n).filter((n) => !Object.prototype.hasOwnProperty.call(dict, n));
    if (missing.length) {
      throw new Error(`flstm: ${who}: missing parameter${missing.length > 1 ? 's' : ''} ${missing.map((n) => `'${n}'`).join(', ')}`);
    }
    const extra = Object.keys(dict).filter((n) => !names.has(n));
    if (extra.length) {
      throw new Error(
        `flstm: ${who}: unexpected parameter${extra.length > 1 ? 's' : ''} ${extra.map((n) => `'${n}'`).join(', ')} ` +
          `(the module has ${[...names].map((n) => `'${n}'`).join(', ') || 'no parameters'})`,
      );
    }
    const host: [Tensor, Float32Array][] = [];
    for (const [name, t] of params) {
      const e = dict[name];
      if (!e || typeof e !== 'object' || !Array.isArray(e.shape) || !e.data || typeof e.data.length !== 'number') {
        throw new Error(`flstm: ${who}: '${name}' must be { shape: number[], data: Float32Array }`);
      }
      const same = e.shape.length === t.shape.length && e.shape.every((d, i) => d === t.shape[i]);
      if (!same)
        throw new Error(
          `flstm: ${who}: '${name}' has shape ${fmtShape(e.shape)} in the state dict, but the parameter has shape ${fmtShape(t.shape)}`,
        );
      if (e.data.length !== shapeSize(t.shape)) {
        throw new Error(
          `flstm: ${who}: '${name}' has ${e.data.length} values for shape ${fmtShape(t.shape)} (${shapeSize(t.shape)} expected)`,
        );
      }
      host.push([t, e.data instanceof Float32Array ? e.data : Float32Array.from(e.data)]);
    }
    for (const [t, data] of host) writeTensor(t, data);
  }
}

/** An ordered list of modules, named "0", "1", ... (so parameters read "layers.0.W"). */
export class ModuleList<M extends Module = Module> extends Module {
  private readonly items: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.push(m);
  }

  push(m: M): M {
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
    return m;
  }

  at(i: number): M {
    const m = this.items[i < 0 ? this.items.length + i : i];
    if (!m) throw new Error(`flstm: ModuleList: index ${i} is out of range for ${this.items.length} modules`);
    return m;
  }

  get length(): number {
    return this.items.length;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}
