// Float64 reference of one LSTM layer over a whole sequence (forward, and a hand-written
// BPTT backward) for the three cells: LSTM(P), F-LSTM and G-LSTM. Tests and benches only;
// the GPU layer (docs/model.md) follows exactly these conventions.
//
// Shapes (row-major):
//   x [T, B, p_in], h0 and every h_t [B, p], c0 and every c_t [B, n], y [T, B, p].
//   Without projection p === n and h_t = m_t.
//
// Weights. Rows of W (and W1) are [x_t; h_{t-1}]: the first p_in rows multiply x_t, the
// next p rows multiply h_{t-1}.
//   lstm : W [(p_in + p), 4n];           pre = [x; h]·W + b
//   flstm: W1 [(p_in + p), r] (no bias), W2 [r, 4n];
//                                       pre = ([x; h]·W1)·W2 + b
//   glstm: W [k, (p_in + p)/k, 4n/k];   group j reads x columns j·p_in/k .. (j+1)·p_in/k
//          and h columns j·p/k .. (j+1)·p/k; rows of W[j] are [x^j; h^j] (first p_in/k
//          rows for x^j, next p/k rows for h^j); it produces gate columns
//          j·4n/k .. (j+1)·4n/k, i.e. cell units j·n/k .. (j+1)·n/k. k must divide p_in,
//          p and n. No shuffle between groups; P mixes them.
//   b [4n]: one bias per gate column (for every cell).
//   P [n, p]: dense projection, no bias (only with a projection: projSize > 0).
//
// Gate columns are interleaved per cell unit: column 4u + q belongs to unit u, with
//   q = 0: i  input gate,  sigmoid(pre)
//   q = 1: f  forget gate, sigmoid(pre + FORGET_BIAS)   (+1 inside the sigmoid: lstm_convention.ts)
//   q = 2: g  candidate,   tanh(pre)
//   q = 3: o  output gate, sigmoid(pre)
//
// Step:   c_t = f*c_{t-1} + i*g;  m_t = o*tanh(c_t);  h_t = m_t·P (or m_t);  y_t = h_t.
// Returned h, c are h_T, c_T.
//
// Backward: gradients of sum(dy*y) (+ sum(dhT*h_T) + sum(dcT*c_T) when given) with respect
// to x, h0, c0 and every parameter.
//
// Parameter count per layer:
//   lstm  (p_in + p)·4n + 4n + (projection ? n·p : 0)
//   flstm r(p_in + p) + 4nr + 4n + (projection ? n·p : 0)
//   glstm (p_in + p)·4n/k + 4n + (projection ? n·p : 0)
import { Rng } from '../random.js';
import { nd, zerosNd, type NDArray } from './array.js';
import { FORGET_BIAS } from './lstm_convention.js';

export type CellKind = 'lstm' | 'flstm' | 'glstm';

/** The sizes of one layer (no weights). */
export interface LstmRefConfig {
  cell: CellKind;
  inputSize: number; // p_in
  hiddenSize: number; // n, cell size
  projSize?: number; // p; omitted or 0: no projection, the output is m (width n)
  factor?: number; // r (flstm)
  groups?: number; // k (glstm)
}

export interface LstmRefParams extends LstmRefConfig {
  W?: NDArray; // lstm: [(p_in + p), 4n]; glstm: [k, (p_in + p)/k, 4n/k]
  W1?: NDArray; // flstm: [(p_in + p), r]
  W2?: NDArray; // flstm: [r, 4n]
  b: NDArray; // [4n]
  P?: NDArray; // [n, p] with a projection
}

export interface LstmRefGrads {
  dx: NDArray;
  dh0: NDArray;
  dc0: NDArray;
  db: NDArray;
  dW?: NDArray;
  dW1?: NDArray;
  dW2?: NDArray;
  dP?: NDArray;
}

/** The width of h and y: p, or n without projection. */
export const lstmRefOutputSize = (c: LstmRefConfig): number => c.projSize || c.hiddenSize;
const width = lstmRefOutputSize;
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function checkShape(a: NDArray | undefined, want: number[], name: string): NDArray {
  if (!a) throw new Error(`lstm reference: ${name} is missing (expected shape [${want.join(', ')}])`);
  if (a.shape.length !== want.length || a.shape.some((v, i) => v !== want[i]))
    throw new Error(`lstm reference: ${name} has shape [${a.shape.join(', ')}], expected [${want.join(', ')}]`);
  if (a.data.length !== prod(want)) throw new Error(`lstm reference: ${name} holds ${a.data.length} values for shape [${want.join(', ')}]`);
  return a;
}

function checkConfig(c: LstmRefConfig): void {
  const { inputSize: pin, hiddenSize: n } = c;
  for (const [k, v] of [
    ['inputSize', pin],
    ['hiddenSize', n],
  ] as const)
    if (!Number.isInteger(v) || v < 1) throw new Error(`lstm reference: ${k} must be a positive integer, got ${v}`);
  const proj = c.projSize ?? 0;
  if (!Number.isInteger(proj) || proj < 0)
    throw new Error(`lstm reference: projSize must be a positive integer (or 0 for none), got ${proj}`);
  const p = width(c);
  if (c.cell === 'flstm' && !(Number.isInteger(c.factor) && c.factor! >= 1))
    throw new Error(`lstm reference: flstm needs a positive integer factor r, got ${c.factor}`);
  if (c.cell === 'glstm') {
    const k = c.groups;
    if (!(Number.isInteger(k) && k! >= 1)) throw new Error(`lstm reference: glstm needs a positive integer groups k, got ${k}`);
    if (pin % k! || p % k! || n % k!)
      throw new Error(`lstm reference: glstm groups k=${k} must divide inputSize ${pin}, projSize ${p} and hiddenSize ${n}`);
  }
  if (c.cell !== 'lstm' && c.cell !== 'flstm' && c.cell !== 'glstm') throw new Error(`lstm reference: unknown cell '${c.cell as string}'`);
}

/** The weight shapes of a layer, by name. */
export function lstmParamShapes(c: LstmRefConfig): Record<'W' | 'W1' | 'W2' | 'b' | 'P', number[] | undefined> {
  checkConfig(c);
  const { inputSize: pin, hiddenSize: n } = c;
  const p = width(c);
  const k = c.groups ?? 1;
  const r = c.factor ?? 0;
  return {
    W: c.cell === 'lstm' ? [pin + p, 4 * n] : c.cell === 'glstm' ? [k, (pin + p) / k, (4 * n) / k] : undefined,
    W1: c.cell === 'flstm' ? [pin + p, r] : undefined,
    W2: c.cell === 'flstm' ? [r, 4 * n] : undefined,
    b: [4 * n],
    P: c.projSize ? [n, p] : undefined,
  };
}

function checkParams(p: LstmRefParams): void {
  const shapes = lstmParamShapes(p);
  for (const name of ['W', 'W1', 'W2', 'b', 'P'] as const) {
    const s = shapes[name];
    if (s) checkShape(p[name], s, name);
  }
}

/** Parameters of one layer (see the table at the top of the file). */
export function lstmParamCount(c: LstmRefConfig): number {
  const shapes = lstmParamShapes(c);
  return Object.values(shapes).reduce((a, s) => a + (s ? prod(s) : 0), 0);
}

export interface LstmStackConfig {
  cell: CellKind;
  layers: number;
  inputSize: number; // embedding size: the input of layer 1; later layers read p
  hiddenSize: number;
  projSize?: number; // omitted or 0: no projection
  factor?: number;
  groups?: number | number[]; // one k for all layers, or one per layer (hierarchical G-LSTM)
}

/** RNN parameters of a stack of layers (no embedding, no softmax). */
export function lstmStackParamCount(s: LstmStackConfig): number {
  if (!Number.isInteger(s.layers) || s.layers < 1) throw new Error(`lstm reference: layers must be a positive integer, got ${s.layers}`);
  if (Array.isArray(s.groups) && s.groups.length !== s.layers)
    throw new Error(`lstm reference: ${s.groups.length} group counts given for ${s.layers} layers`);
  let total = 0;
  for (let l = 0; l < s.layers; l++) {
    total += lstmParamCount({
      cell: s.cell,
      inputSize: l === 0 ? s.inputSize : s.projSize || s.hiddenSize,
      hiddenSize: s.hiddenSize,
      projSize: s.projSize,
      factor: s.factor,
      groups: Array.isArray(s.groups) ? s.groups[l] : s.groups,
    });
  }
  return total;
}

/** Random parameters, uniform in (-scale, scale), drawn from new Rng(seed) in the order W|W1,W2, b, P. */
export function randomLstmParams(c: LstmRefConfig, seed: number, scale = 0.5): LstmRefParams {
  const shapes = lstmParamShapes(c);
  const rng = new Rng(seed);
  const make = (s: number[] | undefined) => {
    if (!s) return undefined;
    const d = new Float64Array(prod(s));
    for (let i = 0; i < d.length; i++) d[i] = scale * (2 * rng.uniform() - 1);
    return nd(d, s);
  };
  const W = make(shapes.W);
  const W1 = make(shapes.W1);
  const W2 = make(shapes.W2);
  const b = make(shapes.b)!;
  const P = make(shapes.P);
  const out: LstmRefParams = { ...c, b };
  if (W) out.W = W;
  if (W1) out.W1 = W1;
  if (W2) out.W2 = W2;
  if (P) out.P = P;
  return out;
}

/**
 * The dense [(p_in + p), 4n] matrix W of the plain LSTM that computes the same gates:
 * W itself, W1·W2 for flstm, the scattered block-diagonal matrix for glstm.
 */
export function lstmEquivalentDenseW(p: LstmRefParams): NDArray {
  checkParams(p);
  const { inputSize: pin, hiddenSize: n } = p;
  const ps = width(p);
  const N = 4 * n;
  const K = pin + ps;
  const out = zerosNd([K, N]);
  if (p.cell === 'lstm') out.data.set(p.W!.data);
  else if (p.cell === 'flstm') {
    const r = p.factor!;
    for (let row = 0; row < K; row++)
      for (let a = 0; a < r; a++) {
        const v = p.W1!.data[row * r + a];
        for (let col = 0; col < N; col++) out.data[row * N + col] += v * p.W2!.data[a * N + col];
      }
  } else {
    const k = p.groups!;
    const kx = pin / k,
      kh = ps / k,
      kin = kx + kh,
      kout = N / k;
    for (let j = 0; j < k; j++)
      for (let r = 0; r < kin; r++) {
        const row = r < kx ? j * kx + r : pin + j * kh + (r - kx);
        for (let c = 0; c < kout; c++) out.data[row * N + j * kout + c] = p.W!.data[(j * kin + r) * kout + c];
      }
  }
  return out;
}

// ---- the gate pre-activation [x; h]·W (+ b added by the caller), per cell -------------

interface GateMap {
  /** pre[B, 4n] (without bias) from x_t [B, p_in] and h_{t-1} [B, p]; aux: flstm's [x; h]·W1. */
  forward(x: Float64Array, h: Float64Array, B: number): { pre: Float64Array; aux?: Float64Array };
  /** Given dpre [B, 4n]: returns dx, dh and accumulates the weight gradients. */
  backward(
    x: Float64Array,
    h: Float64Array,
    aux: Float64Array | undefined,
    dpre: Float64Array,
    B: number,
  ): { dx: Float64Array; dh: Float64Array };
}

type WeightGrads = { dW?: Float64Array; dW1?: Float64Array; dW2?: Float64Array };

function gateMap(p: LstmRefParams, grads: WeightGrads): GateMap {
  if (p.cell === 'lstm') return denseGateMap(p, p.W!.data, grads.dW!);
  if (p.cell === 'flstm') return factoredGateMap(p, p.W1!.data, p.W2!.data, grads.dW1!, grads.dW2!);
  return groupedGateMap(p, p.W!.data, grads.dW!);
}

/** The value of row `row` of [x; h] for batch row b. */
function zRow(p: LstmRefParams, x: Float64Array, h: Float64Array, b: number, row: number): number {
  return row < p.inputSize ? x[b * p.inputSize + row] : h[b * width(p) + row - p.inputSize];
}

/** lstm: pre = [x; h]·W. */
function denseGateMap(p: LstmRefParams, W: Float64Array, dW: Float64Array): GateMap {
  const pin = p.inputSize,
    ps = width(p),
    N = 4 * p.hiddenSize,
    K = pin + ps;
  return {
    forward(x, h, B) {
      const pre = new Float64Array(B * N);
      for (let b = 0; b < B; b++)
        for (let row = 0; row < K; row++) {
          const z = zRow(p, x, h, b, row);
          for (let col = 0; col < N; col++) pre[b * N + col] += z * W[row * N + col];
        }
      return { pre };
    },
    backward: (x, h, _aux, dpre, B) => zRowsBackward(p, x, h, W, dW, dpre, N, B),
  };
}

/**
 * The backward of out = [x; h]·W (W [pin + p, cols], rows of [x; h] by zRow): dW += [x; h]ᵀ·dOut,
 * and d[x; h] = dOut·Wᵀ split into dx and dh.
 */
function zRowsBackward(
  p: LstmRefParams,
  x: Float64Array,
  h: Float64Array,
  W: Float64Array,
  dW: Float64Array,
  dOut: Float64Array,
  cols: number,
  B: number,
) {
  const pin = p.inputSize,
    ps = width(p),
    K = pin + ps;
  const dx = new Float64Array(B * pin),
    dh = new Float64Array(B * ps);
  for (let b = 0; b < B; b++)
    for (let row = 0; row < K; row++) {
      const z = zRow(p, x, h, b, row);
      let s = 0;
      for (let col = 0; col < cols; col++) {
        const d = dOut[b * cols + col];
        s += d * W[row * cols + col];
        dW[row * cols + col] += d * z;
      }
      if (row < pin) dx[b * pin + row] = s;
      else dh[b * ps + row - pin] = s;
    }
  return { dx, dh };
}

/** flstm: aux = [x; h]·W1, pre = aux·W2. */
function factoredGateMap(p: LstmRefParams, W1: Float64Array, W2: Float64Array, dW1: Float64Array, dW2: Float64Array): GateMap {
  const pin = p.inputSize,
    ps = width(p),
    N = 4 * p.hiddenSize,
    K = pin + ps;
  const r = p.factor!;
  return {
    forward(x, h, B) {
      const aux = new Float64Array(B * r);
      for (let b = 0; b < B; b++)
        for (let row = 0; row < K; row++) {
          const z = zRow(p, x, h, b, row);
          for (let a = 0; a < r; a++) aux[b * r + a] += z * W1[row * r + a];
        }
      const pre = new Float64Array(B * N);
      for (let b = 0; b < B; b++)
        for (let a = 0; a < r; a++) for (let col = 0; col < N; col++) pre[b * N + col] += aux[b * r + a] * W2[a * N + col];
      return { pre, aux };
    },
    backward(x, h, aux, dpre, B) {
      const daux = new Float64Array(B * r);
      for (let b = 0; b < B; b++)
        for (let a = 0; a < r; a++) {
          let s = 0;
          for (let col = 0; col < N; col++) {
            const d = dpre[b * N + col];
            s += d * W2[a * N + col];
            dW2[a * N + col] += d * aux![b * r + a];
          }
          daux[b * r + a] = s;
        }
      return zRowsBackward(p, x, h, W1, dW1, daux, r, B);
    },
  };
}

/** glstm: pre = [x^j; h^j]·W[j] into the gate columns of group j. */
function groupedGateMap(p: LstmRefParams, W: Float64Array, dW: Float64Array): GateMap {
  const pin = p.inputSize,
    ps = width(p),
    N = 4 * p.hiddenSize;
  const k = p.groups!;
  const kx = pin / k,
    kh = ps / k,
    kin = kx + kh,
    kout = N / k;
  // value of row r of group j for batch row b
  const zg = (x: Float64Array, h: Float64Array, b: number, j: number, r: number) =>
    r < kx ? x[b * pin + j * kx + r] : h[b * ps + j * kh + (r - kx)];
  return {
    forward(x, h, B) {
      const pre = new Float64Array(B * N);
      for (let j = 0; j < k; j++)
        for (let b = 0; b < B; b++)
          for (let r = 0; r < kin; r++) {
            const z = zg(x, h, b, j, r);
            for (let c = 0; c < kout; c++) pre[b * N + j * kout + c] += z * W[(j * kin + r) * kout + c];
          }
      return { pre };
    },
    backward(x, h, _aux, dpre, B) {
      const dx = new Float64Array(B * pin),
        dh = new Float64Array(B * ps);
      for (let j = 0; j < k; j++)
        for (let b = 0; b < B; b++)
          for (let r = 0; r < kin; r++) {
            const z = zg(x, h, b, j, r);
            let s = 0;
            for (let c = 0; c < kout; c++) {
              const d = dpre[b * N + j * kout + c];
              s += d * W[(j * kin + r) * kout + c];
              dW[(j * kin + r) * kout + c] += d * z;
            }
            if (r < kx) dx[b * pin + j * kx + r] = s;
            else dh[b * ps + j * kh + (r - kx)] = s;
          }
      return { dx, dh };
    },
  };
}

// ---- the sequence --------------------------------------------------------------------

interface StepSave {
  x: Float64Array; // [B, p_in]
  hPrev: Float64Array; // [B, p]
  cPrev: Float64Array; // [B, n]
  gates: Float64Array; // [B, 4n] post-activation i, f, g, o (interleaved)
  c: Float64Array; // [B, n]
  m: Float64Array; // [B, n]
  aux?: Float64Array; // flstm [B, r]
}

function checkInputs(p: LstmRefParams, x: NDArray, h0: NDArray, c0: NDArray): { T: number; B: number } {
  checkParams(p);
  if (x.shape.length !== 3) throw new Error(`lstm reference: x has shape [${x.shape.join(', ')}], expected [T, B, ${p.inputSize}]`);
  const [T, B] = x.shape;
  checkShape(x, [T, B, p.inputSize], 'x');
  checkShape(h0, [B, width(p)], 'h0');
  checkShape(c0, [B, p.hiddenSize], 'c0');
  return { T, B };
}

function run(p: LstmRefParams, x: NDArray, h0: NDArray, c0: NDArray, grads: Parameters<typeof gateMap>[1]) {
  const { T, B } = checkInputs(p, x, h0, c0);
  const pin = p.inputSize,
    n = p.hiddenSize,
    ps = width(p),
    N = 4 * n;
  const map = gateMap(p, grads);
  const bias = p.b.data;
  const P = p.P?.data;
  const y = new Float64Array(T * B * ps);
  const saves: StepSave[] = [];
  let h: Float64Array = Float64Array.from(h0.data);
  let c: Float64Array = Float64Array.from(c0.data);
  for (let t = 0; t < T; t++) {
    const xt = x.data.slice(t * B * pin, (t + 1) * B * pin);
    const { pre, aux } = map.forward(xt, h, B);
    const gates = new Float64Array(B * N);
    const cn = new Float64Array(B * n);
    const m = new Float64Array(B * n);
    for (let b = 0; b < B; b++)
      for (let u = 0; u < n; u++) {
        const o4 = b * N + 4 * u;
        const gi = sigmoid(pre[o4] + bias[4 * u]);
        const gf = sigmoid(pre[o4 + 1] + bias[4 * u + 1] + FORGET_BIAS);
        const gg = Math.tanh(pre[o4 + 2] + bias[4 * u + 2]);
        const go = sigmoid(pre[o4 + 3] + bias[4 * u + 3]);
        gates[o4] = gi;
        gates[o4 + 1] = gf;
        gates[o4 + 2] = gg;
        gates[o4 + 3] = go;
        const cv = gf * c[b * n + u] + gi * gg;
        cn[b * n + u] = cv;
        m[b * n + u] = go * Math.tanh(cv);
      }
    let hn: Float64Array;
    if (P) {
      hn = new Float64Array(B * ps);
      for (let b = 0; b < B; b++)
        for (let u = 0; u < n; u++) {
          const mv = m[b * n + u];
          for (let q = 0; q < ps; q++) hn[b * ps + q] += mv * P[u * ps + q];
        }
    } else hn = Float64Array.from(m);
    y.set(hn, t * B * ps);
    saves.push({ x: xt, hPrev: h, cPrev: c, gates, c: cn, m, aux });
    h = hn;
    c = cn;
  }
  return { T, B, y, h, c, saves, map };
}

export function lstmForwardRef(p: LstmRefParams, x: NDArray, h0: NDArray, c0: NDArray): { y: NDArray; h: NDArray; c: NDArray } {
  const { T, B, y, h, c } = run(p, x, h0, c0, {});
  return { y: nd(y, [T, B, width(p)]), h: nd(h, [B, width(p)]), c: nd(c, [B, p.hiddenSize]) };
}

/** dm = dh·P^T for one step; accumulates dP += m^T·dh. */
function projectionBackward(
  m: Float64Array,
  dh: Float64Array,
  P: Float64Array,
  dP: Float64Array,
  B: number,
  n: number,
  ps: number,
): Float64Array {
  const dm = new Float64Array(B * n);
  for (let b = 0; b < B; b++)
    for (let u = 0; u < n; u++) {
      let acc = 0;
      const mv = m[b * n + u];
      for (let q = 0; q < ps; q++) {
        acc += dh[b * ps + q] * P[u * ps + q];
        dP[u * ps + q] += mv * dh[b * ps + q];
      }
      dm[b * n + u] = acc;
    }
  return dm;
}

/** One step's cell backward: the pre-activation gate gradients and dc_{t-1}, from dm and dc_t. */
function cellBackward(
  s: StepSave,
  dm: Float64Array,
  dcNext: Float64Array,
  B: number,
  n: number,
): { dpre: Float64Array; dcPrev: Float64Array } {
  const N = 4 * n;
  const dpre = new Float64Array(B * N);
  const dcPrev = new Float64Array(B * n);
  for (let b = 0; b < B; b++)
    for (let u = 0; u < n; u++) {
      const o4 = b * N + 4 * u;
      const gi = s.gates[o4],
        gf = s.gates[o4 + 1],
        gg = s.gates[o4 + 2],
        go = s.gates[o4 + 3];
      const tc = Math.tanh(s.c[b * n + u]);
      const dmv = dm[b * n + u];
      const dc = dcNext[b * n + u] + dmv * go * (1 - tc * tc);
      const di = dc * gg,
        df = dc * s.cPrev[b * n + u],
        dg = dc * gi,
        dO = dmv * tc;
      dpre[o4] = di * gi * (1 - gi);
      dpre[o4 + 1] = df * gf * (1 - gf);
      dpre[o4 + 2] = dg * (1 - gg * gg);
      dpre[o4 + 3] = dO * go * (1 - go);
      dcPrev[b * n + u] = dc * gf;
    }
  return { dpre, dcPrev };
}

/**
 * Gradients of sum(dy*y) + sum(dhT*h_T) + sum(dcT*c_T) (the last two only when given)
 * by backpropagation through time.
 */
export function lstmBackwardRef(
  p: LstmRefParams,
  x: NDArray,
  h0: NDArray,
  c0: NDArray,
  dy: NDArray,
  dhT?: NDArray,
  dcT?: NDArray,
): LstmRefGrads {
  const shapes = lstmParamShapes(p);
  const grads = {
    dW: shapes.W ? new Float64Array(prod(shapes.W)) : undefined,
    dW1: shapes.W1 ? new Float64Array(prod(shapes.W1)) : undefined,
    dW2: shapes.W2 ? new Float64Array(prod(shapes.W2)) : undefined,
  };
  const { T, B, saves, map } = run(p, x, h0, c0, grads);
  const pin = p.inputSize,
    n = p.hiddenSize,
    ps = width(p),
    N = 4 * n;
  checkShape(dy, [T, B, ps], 'dy');
  const P = p.P?.data;
  const dP = P ? new Float64Array(n * ps) : undefined;
  const db = new Float64Array(N);
  const dx = new Float64Array(T * B * pin);
  let dhNext: Float64Array = dhT ? Float64Array.from(checkShape(dhT, [B, ps], 'dhT').data) : new Float64Array(B * ps);
  let dcNext: Float64Array = dcT ? Float64Array.from(checkShape(dcT, [B, n], 'dcT').data) : new Float64Array(B * n);
  for (let t = T - 1; t >= 0; t--) {
    const s = saves[t];
    const dh = new Float64Array(B * ps);
    for (let i = 0; i < dh.length; i++) dh[i] = dy.data[t * B * ps + i] + dhNext[i];
    const dm = P && dP ? projectionBackward(s.m, dh, P, dP, B, n, ps) : dh;
    const { dpre, dcPrev } = cellBackward(s, dm, dcNext, B, n);
    for (let b = 0; b < B; b++) for (let col = 0; col < N; col++) db[col] += dpre[b * N + col];
    const back = map.backward(s.x, s.hPrev, s.aux, dpre, B);
    dx.set(back.dx, t * B * pin);
    dhNext = back.dh;
    dcNext = dcPrev;
  }
  const out: LstmRefGrads = {
    dx: nd(dx, [T, B, pin]),
    dh0: nd(dhNext, [B, ps]),
    dc0: nd(dcNext, [B, n]),
    db: nd(db, [N]),
  };
  if (grads.dW) out.dW = nd(grads.dW, shapes.W!);
  if (grads.dW1) out.dW1 = nd(grads.dW1, shapes.W1!);
  if (grads.dW2) out.dW2 = nd(grads.dW2, shapes.W2!);
  if (dP) out.dP = nd(dP, [n, ps]);
  return out;
}
