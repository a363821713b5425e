// fl.nn.LSTM and fl.nn.LSTMStack: the three cells of "Factorization tricks for LSTM
// networks" as sequence-level layers (one autograd node per layer and sequence, see
// src/ops/lstm.ts).
//
// The one place that documents the cell conventions (the kernels and the float64 reference
// in src/ref/lstm.ts follow them):
// - Gates [i f g o] = [x_t; h_{t-1}]·W + b, columns interleaved per cell unit: column 4u+q is
//   gate q of unit u, q = 0 i (sigmoid), 1 f (sigmoid), 2 g (tanh), 3 o (sigmoid).
// - Forget bias +1 inside the forget sigmoid: f = sigmoid(pre_f + 1); b starts at zero.
// - c_t = f*c_{t-1} + i*g;  m_t = o*tanh(c_t);  h_t = m_t·P (P: n x p, no bias) or m_t.
// - The gate matrices of each cell (their shapes are declared in src/nn/cells.ts):
//   lstm : W [(p_in + p), 4n], rows [x; h].
//   flstm: W1 [(p_in + p), r] (no bias), W2 [r, 4n]; gates = ([x; h]·W1)·W2 + b.
//   glstm: W [k, (p_in + p)/k, 4n/k]: group j maps [x^j; h^j] (the j-th contiguous slices of
//          x and h) to the gates of units j·n/k .. (j+1)·n/k. No shuffle between layers.
// - Initialization: every weight uniform(-1/sqrt(fanIn), 1/sqrt(fanIn)), fanIn the rows of
//   the product it takes part in ((p_in + p) for W and W1, (p_in + p)/k per G-LSTM block,
//   r for W2, n for P); biases zero. Seeded: the same seed gives the same weights anywhere.
import { Tensor } from '../tensor.js';
import { zeros } from '../ops/create.js';
import { dropout, type StreamSlice } from '../ops/dropout.js';
import { lstmSequence, type LstmConfig, type LstmWeights } from '../ops/lstm.js';
import { cast } from '../ops/cast.js';
import { requireF16 } from '../ops/dispatch.js';
import type { MatmulVariant } from '../ops/matmul_kernel.js';
import { Rng } from '../random.js';
import { Module, ModuleList } from './module.js';
import { uniformFanIn } from './init.js';
import { checkLayerSizes, lstmStackLayers } from './params.js';
import { cellSpec, type CellKind } from './cells.js';
import { lstmOutputSize, type LayerSizes, type LstmStackSizes } from './sizes.js';

export interface LSTMOptions extends LayerSizes {
  /** Default 'lstm'. */
  cell?: CellKind;
  seed?: number;
  /** Force one matmul kernel variant (tests, benches). */
  variant?: MatmulVariant;
  /** Storage of the weight matrices in the products: see `Precision`. */
  precision?: Precision;
}

/**
 * 'f32' (the default), or 'f16': every forward casts the weight matrices and the layer's
 * input to f16 copies that the products read (half the bytes; f32 accumulation). The
 * parameters, the recurrent state, every gradient and the optimizer stay f32. Needs the
 * adapter feature shader-f16.
 */
export type Precision = 'f32' | 'f16';

export function checkPrecision(p: unknown, who: string): Precision {
  if (p === undefined || p === 'f32') return 'f32';
  if (p !== 'f16') throw new Error(`flstm: ${who}: precision must be 'f32' or 'f16', got ${JSON.stringify(p)}`);
  requireF16(`${who} with precision 'f16'`);
  return p;
}

export interface LSTMState {
  h: Tensor;
  c: Tensor;
}

export class LSTM extends Module {
  readonly config: LstmConfig;
  readonly W?: Tensor;
  readonly W1?: Tensor;
  readonly W2?: Tensor;
  readonly b: Tensor;
  readonly P?: Tensor;
  readonly precision: Precision;

  constructor(o: LSTMOptions) {
    super();
    this.precision = checkPrecision(o.precision, 'nn.LSTM');
    const cell = o.cell ?? 'lstm';
    const projSize = o.projSize ?? 0;
    checkLayerSizes(
      { cell, inputSize: o.inputSize, hiddenSize: o.hiddenSize, projSize, factor: o.factor, groups: o.groups },
      `nn.LSTM (${cell})`,
    );
    const n = o.hiddenSize;
    const p = lstmOutputSize({ hiddenSize: n, projSize });
    this.config = { cell, inputSize: o.inputSize, hiddenSize: n, projSize, factor: o.factor, groups: o.groups, variant: o.variant };
    const rng = new Rng(o.seed ?? 0x15f3);
    const seed = () => rng.nextU32();
    const gateMatrices: Record<string, Tensor> = {};
    for (const [name, shape] of cellSpec(cell).weightShapes(this.config)) {
      gateMatrices[name] = this.registerParameter(name, uniformFanIn(shape, shape.at(-2)!, seed()));
    }
    ({ W: this.W, W1: this.W1, W2: this.W2 } = gateMatrices);
    this.b = this.registerParameter('b', zeros([4 * n]));
    if (projSize > 0) this.P = this.registerParameter('P', uniformFanIn([n, p], n, seed()));
  }

  /** The zero state for a batch of B streams. */
  zeroState(B: number): LSTMState {
    return { h: zeros([B, lstmOutputSize(this.config)]), c: zeros([B, this.config.hiddenSize]) };
  }

  /**
   * x: [T, B, inputSize] -> y: [T, B, p]. `state` (h [B, p], c [B, n]) defaults to zeros; the
   * returned state is detached (carry it into the next call for truncated BPTT).
   */
  forward(x: Tensor, state?: LSTMState): { y: Tensor; state: LSTMState } {
    const B = x.shape[1];
    const s = state ?? this.zeroState(B);
    const m = <T extends Tensor | undefined>(t: T): T => (t && this.precision === 'f16' ? (cast(t, 'f16') as T) : t);
    const w: LstmWeights = { W: m(this.W), W1: m(this.W1), W2: m(this.W2), b: this.b, P: m(this.P) };
    const { y, h, c } = lstmSequence(m(x), s.h, s.c, w, this.config);
    // A zero state made here is an input of the recorded node (backward reads it); without
    // a node nothing will, so it can go now. Otherwise it goes with the enclosing fl.tidy.
    if (!state && !y.node) {
      s.h.dispose();
      s.c.dispose();
    }
    return { y, state: { h, c } };
  }
}

export interface LSTMStackOptions extends Omit<LstmStackSizes, 'cell' | 'groups'> {
  /** Default 'lstm'. */
  cell?: CellKind;
  /** k for every layer, or one per layer (hierarchical G-LSTM), also as a string "4,8". */
  groups?: number | readonly number[] | string;
  /** Dropout after each layer, in training mode. */
  dropout?: number;
  seed?: number;
  variant?: MatmulVariant;
  precision?: Precision;
}

/** Parses "4,8" or 4 or [4, 8] into what LSTMStack takes. */
export function parseGroups(g: number | readonly number[] | string | undefined): number | number[] | undefined {
  if (typeof g !== 'string') return g as number | number[] | undefined;
  const parts = g.split(',').map((s) => Number(s.trim()));
  if (parts.some((v) => !Number.isInteger(v) || v < 1))
    throw new Error(`flstm: groups must be a positive integer or a list like "4,8", got "${g}"`);
  return parts.length === 1 ? parts[0] : parts;
}

export class LSTMStack extends Module {
  readonly layers: ModuleList<LSTM>;
  readonly dropoutRate: number;
  /** Counts forward calls; without an explicit dropoutSeed the masks derive from it. */
  forwardCount = 0;
  private readonly seedBase: number;

  constructor(o: LSTMStackOptions) {
    super();
    const groups = parseGroups(o.groups);
    const sizes = lstmStackLayers({
      cell: o.cell ?? 'lstm',
      layers: o.layers,
      inputSize: o.inputSize,
      hiddenSize: o.hiddenSize,
      projSize: o.projSize,
      factor: o.factor,
      groups,
    });
    const rate = o.dropout ?? 0;
    if (!(rate >= 0 && rate < 1)) throw new Error(`flstm: LSTMStack: dropout must be in [0, 1), got ${o.dropout}`);
    this.dropoutRate = rate;
    const rng = new Rng(o.seed ?? 0x57ac);
    this.seedBase = rng.nextU32();
    this.layers = this.registerModule('layers', new ModuleList<LSTM>());
    for (const s of sizes) {
      this.layers.push(new LSTM({ ...s, projSize: s.projSize, seed: rng.nextU32(), variant: o.variant, precision: o.precision }));
    }
  }

  get outputSize(): number {
    return lstmOutputSize(this.layers.at(this.layers.length - 1).config);
  }

  zeroState(B: number): LSTMState[] {
    return Array.from({ length: this.layers.length }, (_, l) => this.layers.at(l).zeroState(B));
  }

  /**
   * x: [T, B, inputSize] -> y: [T, B, p]; one state per layer in and out (detached).
   * `dropoutSeed` picks this call's masks (a trainer passes one derived from the step, so a
   * resumed run draws the same masks); by default they follow the call count.
   */
  forward(x: Tensor, state?: LSTMState[], opts: { dropoutSeed?: number; streams?: StreamSlice } = {}): { y: Tensor; state: LSTMState[] } {
    if (state && state.length !== this.layers.length) {
      throw new Error(`flstm: LSTMStack: ${state.length} layer states given for ${this.layers.length} layers`);
    }
    const call = opts.dropoutSeed ?? this.forwardCount;
    this.forwardCount++;
    let h = x;
    const out: LSTMState[] = [];
    for (let l = 0; l < this.layers.length; l++) {
      const r = this.layers.at(l).forward(h, state?.[l]);
      out.push(r.state);
      h = r.y;
      if (this.training && this.dropoutRate > 0) {
        h = dropout(h, this.dropoutRate, { seed: (this.seedBase + call * 7919 + l * 104729) >>> 0, streams: opts.streams });
      }
    }
    return { y: h, state: out };
  }
}
