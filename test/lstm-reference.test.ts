// The float64 LSTM / F-LSTM / G-LSTM layer reference: its hand-written BPTT against central
// finite differences, structural identities between the cells, and the paper's parameter
// counts (no GPU involved).
import { describe, expect, it } from 'vitest';
import { nd, type NDArray } from '../src/ref/array.js';
import { dot, numericGrad } from '../src/ref/gradcheck.js';
import {
  lstmBackwardRef,
  lstmEquivalentDenseW,
  lstmForwardRef,
  lstmParamCount,
  lstmStackParamCount,
  randomLstmParams,
  lstmRefOutputSize,
  type LstmRefConfig,
  type LstmRefParams,
} from '../src/ref/lstm.js';
import { expectClose, freshSeed, randomNd } from './helpers.js';

function expectGrad(analytic: Float64Array, numeric: Float64Array, what: string): void {
  expect(analytic.length, what).toBe(numeric.length);
  for (let i = 0; i < numeric.length; i++) {
    const tol = 1e-6 + 1e-5 * Math.abs(numeric[i]);
    if (!(Math.abs(analytic[i] - numeric[i]) <= tol)) {
      throw new Error(`${what}: element ${i}: analytic ${analytic[i]} vs finite difference ${numeric[i]}`);
    }
  }
}

const T = 3;
const B = 2;

const configs: [string, LstmRefConfig][] = [
  ['lstm with projection', { cell: 'lstm', inputSize: 5, hiddenSize: 4, projSize: 3 }],
  ['lstm without projection', { cell: 'lstm', inputSize: 4, hiddenSize: 3, projSize: 0 }],
  ['flstm r=2 with projection', { cell: 'flstm', inputSize: 5, hiddenSize: 4, projSize: 3, factor: 2 }],
  ['flstm r=2 without projection', { cell: 'flstm', inputSize: 4, hiddenSize: 5, projSize: 0, factor: 2 }],
  ['glstm k=2', { cell: 'glstm', inputSize: 4, hiddenSize: 6, projSize: 4, groups: 2 }],
  ['glstm k=3', { cell: 'glstm', inputSize: 6, hiddenSize: 6, projSize: 3, groups: 3 }],
  ['glstm k=3 without projection', { cell: 'glstm', inputSize: 6, hiddenSize: 3, projSize: 0, groups: 3 }],
];

function inputs(c: LstmRefConfig, seed: number) {
  return {
    x: randomNd([T, B, c.inputSize], seed + 1),
    h0: randomNd([B, lstmRefOutputSize(c)], seed + 2, 0.5),
    c0: randomNd([B, c.hiddenSize], seed + 3),
    dy: randomNd([T, B, lstmRefOutputSize(c)], seed + 4),
    dhT: randomNd([B, lstmRefOutputSize(c)], seed + 5),
    dcT: randomNd([B, c.hiddenSize], seed + 6),
  };
}

describe('lstm layer reference: BPTT agrees with finite differences', () => {
  for (const [name, cfg] of configs) {
    it(name, () => {
      const seed = freshSeed();
      const p = randomLstmParams(cfg, seed, 0.6);
      const { x, h0, c0, dy } = inputs(cfg, seed);
      const g = lstmBackwardRef(p, x, h0, c0, dy);
      const f = () => dot(dy, lstmForwardRef(p, x, h0, c0).y);
      const tag = `${name} seed=${seed}`;
      expectGrad(g.dx.data, numericGrad(f, x), `dx ${tag}`);
      expectGrad(g.dh0.data, numericGrad(f, h0), `dh0 ${tag}`);
      expectGrad(g.dc0.data, numericGrad(f, c0), `dc0 ${tag}`);
      expectGrad(g.db.data, numericGrad(f, p.b), `db ${tag}`);
      const pairs: [NDArray | undefined, NDArray | undefined, string][] = [
        [g.dW, p.W, 'dW'],
        [g.dW1, p.W1, 'dW1'],
        [g.dW2, p.W2, 'dW2'],
        [g.dP, p.P, 'dP'],
      ];
      for (const [grad, param, what] of pairs) {
        expect(!!grad, `${what} present iff its parameter is (${tag})`).toBe(!!param);
        if (grad && param) {
          expect(grad.shape).toEqual(param.shape);
          expectGrad(grad.data, numericGrad(f, param), `${what} ${tag}`);
        }
      }
      expect(g.dx.shape).toEqual(x.shape);
      expect(g.dh0.shape).toEqual(h0.shape);
      expect(g.dc0.shape).toEqual(c0.shape);
    });
  }

  it('gradients flowing in through the final state (dhT, dcT)', () => {
    for (const [name, cfg] of [configs[0], configs[2], configs[5]]) {
      const seed = freshSeed();
      const p = randomLstmParams(cfg, seed, 0.6);
      const { x, h0, c0, dy, dhT, dcT } = inputs(cfg, seed);
      const g = lstmBackwardRef(p, x, h0, c0, dy, dhT, dcT);
      const f = () => {
        const r = lstmForwardRef(p, x, h0, c0);
        return dot(dy, r.y) + dot(dhT, r.h) + dot(dcT, r.c);
      };
      const tag = `${name} seed=${seed}`;
      expectGrad(g.dx.data, numericGrad(f, x), `dx ${tag}`);
      expectGrad(g.dh0.data, numericGrad(f, h0), `dh0 ${tag}`);
      expectGrad(g.dc0.data, numericGrad(f, c0), `dc0 ${tag}`);
      expectGrad((g.dW ?? g.dW1)!.data, numericGrad(f, (p.W ?? p.W1)!), `dW ${tag}`);
    }
  });
});

describe('lstm layer reference: structure', () => {
  it('gate order, forget bias and projection on one hand-computed step', () => {
    // p_in = 1, n = 1, no projection: W rows [x; h], columns i f g o.
    const p: LstmRefParams = {
      cell: 'lstm',
      inputSize: 1,
      hiddenSize: 1,
      projSize: 0,
      W: nd([0.1, 0.2, 0.3, 0.4, -0.5, 0.6, -0.7, 0.8], [2, 4]),
      b: nd([0.01, -0.02, 0.03, -0.04], [4]),
    };
    const x = 0.7,
      h = -0.3,
      c = 0.9;
    const s = (v: number) => 1 / (1 + Math.exp(-v));
    const i = s(0.1 * x - 0.5 * h + 0.01);
    const f = s(0.2 * x + 0.6 * h - 0.02 + 1);
    const g = Math.tanh(0.3 * x - 0.7 * h + 0.03);
    const o = s(0.4 * x + 0.8 * h - 0.04);
    const cn = f * c + i * g;
    const r = lstmForwardRef(p, nd([x], [1, 1, 1]), nd([h], [1, 1]), nd([c], [1, 1]));
    expect(r.c.data[0]).toBeCloseTo(cn, 14);
    expect(r.h.data[0]).toBeCloseTo(o * Math.tanh(cn), 14);
    expect(r.y.data[0]).toBe(r.h.data[0]);
  });

  it('glstm with k = 1 equals lstm with the same W reshaped', () => {
    const seed = freshSeed();
    const cfg: LstmRefConfig = { cell: 'glstm', inputSize: 5, hiddenSize: 4, projSize: 3, groups: 1 };
    const pg = randomLstmParams(cfg, seed);
    const pl: LstmRefParams = { ...pg, cell: 'lstm', groups: undefined, W: nd(pg.W!.data, [8, 16]) };
    const { x, h0, c0, dy } = inputs(cfg, seed);
    const a = lstmForwardRef(pg, x, h0, c0);
    const b = lstmForwardRef(pl, x, h0, c0);
    expectClose(a.y.data, b.y, { atol: 1e-12, rtol: 1e-12, what: `y seed=${seed}` });
    expectClose(a.c.data, b.c, { atol: 1e-12, rtol: 1e-12, what: `c seed=${seed}` });
    const ga = lstmBackwardRef(pg, x, h0, c0, dy);
    const gb = lstmBackwardRef(pl, x, h0, c0, dy);
    for (const k of ['dx', 'dh0', 'dc0', 'db', 'dW', 'dP'] as const)
      expectClose(ga[k]!.data, gb[k]!.data, { atol: 1e-12, rtol: 1e-12, what: `${k} seed=${seed}` });
  });

  it('glstm with k = 2, 3 equals lstm with the scattered block-diagonal W', () => {
    for (const cfg of [configs[4][1], configs[5][1]]) {
      const seed = freshSeed();
      const pg = randomLstmParams(cfg, seed);
      const pl: LstmRefParams = { ...pg, cell: 'lstm', groups: undefined, W: lstmEquivalentDenseW(pg) };
      const { x, h0, c0, dy } = inputs(cfg, seed);
      expectClose(lstmForwardRef(pg, x, h0, c0).y.data, lstmForwardRef(pl, x, h0, c0).y, {
        atol: 1e-12,
        rtol: 1e-12,
        what: `y k=${cfg.groups} seed=${seed}`,
      });
      // the dense W's gradient, restricted to the blocks, is the grouped gradient
      const dense = lstmBackwardRef(pl, x, h0, c0, dy);
      const grouped = lstmBackwardRef(pg, x, h0, c0, dy);
      const asDense = lstmEquivalentDenseW({ ...pg, W: grouped.dW! });
      const W = lstmEquivalentDenseW(pg);
      const masked = dense.dW!.data.map((v, i) => (W.data[i] !== 0 ? v : 0));
      expectClose(asDense.data, masked, { atol: 1e-12, rtol: 1e-10, what: `dW k=${cfg.groups} seed=${seed}` });
      expectClose(grouped.dx.data, dense.dx, { atol: 1e-12, rtol: 1e-10, what: `dx k=${cfg.groups} seed=${seed}` });
    }
  });

  it('flstm equals lstm with W = W1·W2', () => {
    const seed = freshSeed();
    const cfg = configs[2][1];
    const pf = randomLstmParams(cfg, seed);
    const W = nd(new Float64Array(8 * 16), [8, 16]);
    for (let row = 0; row < 8; row++)
      for (let col = 0; col < 16; col++)
        for (let a = 0; a < 2; a++) W.data[row * 16 + col] += pf.W1!.data[row * 2 + a] * pf.W2!.data[a * 16 + col];
    expectClose(lstmEquivalentDenseW(pf).data, W, { atol: 1e-15, rtol: 1e-12, what: 'lstmEquivalentDenseW(flstm)' });
    const pl: LstmRefParams = { cell: 'lstm', inputSize: 5, hiddenSize: 4, projSize: 3, W, b: pf.b, P: pf.P };
    const { x, h0, c0, dy } = inputs(cfg, seed);
    const a = lstmForwardRef(pf, x, h0, c0);
    const b = lstmForwardRef(pl, x, h0, c0);
    expectClose(a.y.data, b.y, { atol: 1e-12, rtol: 1e-10, what: `y seed=${seed}` });
    expectClose(a.c.data, b.c, { atol: 1e-12, rtol: 1e-10, what: `c seed=${seed}` });
    const ga = lstmBackwardRef(pf, x, h0, c0, dy);
    const gb = lstmBackwardRef(pl, x, h0, c0, dy);
    for (const k of ['dx', 'dh0', 'dc0', 'db', 'dP'] as const)
      expectClose(ga[k]!.data, gb[k]!.data, { atol: 1e-12, rtol: 1e-10, what: `${k} seed=${seed}` });
    // chain rule through W = W1·W2: dW1 = dW·W2^T, dW2 = W1^T·dW
    const dW = gb.dW!.data;
    const dW1 = new Float64Array(16),
      dW2 = new Float64Array(32);
    for (let row = 0; row < 8; row++)
      for (let a = 0; a < 2; a++)
        for (let col = 0; col < 16; col++) {
          dW1[row * 2 + a] += dW[row * 16 + col] * pf.W2!.data[a * 16 + col];
          dW2[a * 16 + col] += pf.W1!.data[row * 2 + a] * dW[row * 16 + col];
        }
    expectClose(ga.dW1!.data, dW1, { atol: 1e-12, rtol: 1e-10, what: `dW1 seed=${seed}` });
    expectClose(ga.dW2!.data, dW2, { atol: 1e-12, rtol: 1e-10, what: `dW2 seed=${seed}` });
  });

  it('two halves with the carried (h, c) equal one run', () => {
    for (const [name, cfg] of configs) {
      const seed = freshSeed();
      const p = randomLstmParams(cfg, seed);
      const T2 = 5;
      const x = randomNd([T2, B, cfg.inputSize], seed + 1);
      const h0 = randomNd([B, lstmRefOutputSize(cfg)], seed + 2);
      const c0 = randomNd([B, cfg.hiddenSize], seed + 3);
      const whole = lstmForwardRef(p, x, h0, c0);
      const cut = 2 * B * cfg.inputSize;
      const first = lstmForwardRef(p, nd(x.data.slice(0, cut), [2, B, cfg.inputSize]), h0, c0);
      const second = lstmForwardRef(p, nd(x.data.slice(cut), [T2 - 2, B, cfg.inputSize]), first.h, first.c);
      const y = new Float64Array([...first.y.data, ...second.y.data]);
      const tag = `${name} seed=${seed}`;
      expectClose(y, whole.y, { atol: 0, rtol: 0, what: `y ${tag}` });
      expectClose(second.h.data, whole.h, { atol: 0, rtol: 0, what: `h ${tag}` });
      expectClose(second.c.data, whole.c, { atol: 0, rtol: 0, what: `c ${tag}` });
      expect(whole.h.data).toEqual(whole.y.data.slice((T2 - 1) * B * lstmRefOutputSize(cfg)));
    }
  });

  it('clear errors for wrong shapes and sizes', () => {
    const cfg = configs[0][1];
    const p = randomLstmParams(cfg, 1);
    const { x, h0, c0 } = inputs(cfg, 1);
    expect(() => lstmForwardRef(p, x, randomNd([B, 4], 1), c0)).toThrow(/h0 has shape \[2, 4\], expected \[2, 3\]/);
    expect(() => lstmForwardRef({ ...p, W: randomNd([8, 15], 1) }, x, h0, c0)).toThrow(/W has shape \[8, 15\], expected \[8, 16\]/);
    expect(() => randomLstmParams({ ...configs[4][1], groups: 3 }, 1)).toThrow(/groups k=3 must divide/);
    expect(() => randomLstmParams({ ...cfg, projSize: -1 }, 1)).toThrow(/projSize must be a positive integer \(or 0 for none\), got -1/);
    expect(() => randomLstmParams({ ...cfg, cell: 'flstm' }, 1)).toThrow(/factor/);
  });
});

describe('parameter counts', () => {
  it('per layer, by the formulas', () => {
    expect(lstmParamCount({ cell: 'lstm', inputSize: 5, hiddenSize: 4, projSize: 3 })).toBe(8 * 16 + 16 + 12);
    expect(lstmParamCount({ cell: 'lstm', inputSize: 4, hiddenSize: 3, projSize: 0 })).toBe(7 * 12 + 12);
    expect(lstmParamCount({ cell: 'flstm', inputSize: 5, hiddenSize: 4, projSize: 3, factor: 2 })).toBe(2 * 8 + 16 * 2 + 16 + 12);
    expect(lstmParamCount({ cell: 'glstm', inputSize: 6, hiddenSize: 6, projSize: 3, groups: 3 })).toBe((9 * 24) / 3 + 24 + 18);
    for (const [, cfg] of configs) {
      const p = randomLstmParams(cfg, 7);
      const held = [p.W, p.W1, p.W2, p.b, p.P].reduce((a, t) => a + (t ? t.data.length : 0), 0);
      expect(lstmParamCount(cfg)).toBe(held);
    }
  });

  it("the paper's table: 2 layers, n = 8192, p = p_in = 1024", () => {
    const base = { layers: 2, inputSize: 1024, hiddenSize: 8192, projSize: 1024 };
    expect(lstmStackParamCount({ ...base, cell: 'lstm' })).toBe(151_060_480);
    expect(lstmStackParamCount({ ...base, cell: 'flstm', factor: 512 })).toBe(52_494_336);
    expect(lstmStackParamCount({ ...base, cell: 'glstm', groups: 2 })).toBe(83_951_616);
    expect(lstmStackParamCount({ ...base, cell: 'glstm', groups: 4 })).toBe(50_397_184);
    expect(lstmStackParamCount({ ...base, cell: 'glstm', groups: 8 })).toBe(33_619_968);
    // hierarchical: one k per layer
    expect(lstmStackParamCount({ ...base, cell: 'glstm', groups: [2, 4] })).toBe((83_951_616 + 50_397_184) / 2);
    expect(() => lstmStackParamCount({ ...base, cell: 'glstm', groups: [2] })).toThrow(/1 group counts given for 2 layers/);
  });
});
