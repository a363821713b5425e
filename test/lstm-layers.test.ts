// fl.nn.LSTM / LSTMStack: structural equalities between the cells, the fused cell against an
// unfused composition of elementwise ops, carried state, stacks against the reference.
import { describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { lstmForwardRef, type LstmRefParams } from '../src/ref/lstm.js';
import { nd } from '../src/ref/array.js';
import { expectClose, f32, freshSeed, randomNd, toTensor, useDevice } from './helpers.js';

useDevice();

async function paramsOf(m: fl.nn.Module): Promise<Record<string, { shape: number[]; data: Float32Array }>> {
  return m.stateDict();
}

describe('nn.LSTM structure', () => {
  it('G-LSTM with k = 1 equals LSTM (outputs and gradients)', async () => {
    const seed = freshSeed();
    const opts = { inputSize: 6, hiddenSize: 5, projSize: 3, seed };
    const a = new fl.nn.LSTM({ ...opts, cell: 'lstm' });
    const g = new fl.nn.LSTM({ ...opts, cell: 'glstm', groups: 1 });
    const sa = await paramsOf(a);
    g.loadStateDict({ W: { shape: [1, 9, 20], data: sa.W.data }, b: sa.b, P: sa.P });
    const x = randomNd([4, 3, 6], seed + 1);
    const xa = toTensor(x, true);
    const xg = toTensor(x, true);
    const ya = a.forward(xa).y;
    const yg = g.forward(xg).y;
    fl.sum(fl.mul(ya, ya)).backward();
    fl.sum(fl.mul(yg, yg)).backward();
    expectClose(await yg.data(), await ya.data(), { atol: 1e-6, what: `y seed=${seed}` });
    expectClose(await xg.grad!.data(), await xa.grad!.data(), { atol: 1e-6, what: `dx seed=${seed}` });
    expectClose(await g.W!.grad!.data(), await a.W!.grad!.data(), { atol: 1e-6, what: `dW seed=${seed}` });
  });

  it('F-LSTM equals LSTM with W = W1·W2', async () => {
    const seed = freshSeed();
    const f = new fl.nn.LSTM({ inputSize: 7, hiddenSize: 6, projSize: 4, cell: 'flstm', factor: 3, seed });
    const l = new fl.nn.LSTM({ inputSize: 7, hiddenSize: 6, projSize: 4, cell: 'lstm', seed: seed + 1 });
    const W = fl.noGrad(() => fl.matmul(f.W1!, f.W2!));
    const sf = await paramsOf(f);
    l.loadStateDict({ W: { shape: [11, 24], data: (await W.data()) as Float32Array }, b: sf.b, P: sf.P });
    const x = toTensor(randomNd([5, 2, 7], seed + 2));
    const yf = await f.forward(x).y.data();
    const yl = await l.forward(x).y.data();
    expectClose(yf, yl, { atol: 1e-5, what: `seed=${seed}` });
  });

  it('the fused cell equals the unfused composition of matmul and elementwise ops (forward and backward)', async () => {
    const seed = freshSeed();
    const [B, pin, n, p] = [3, 5, 4, 3];
    const layer = new fl.nn.LSTM({ inputSize: pin, hiddenSize: n, projSize: p, seed });
    const sd = await paramsOf(layer);
    // Nonzero biases, so their gradient path is exercised too.
    layer.loadStateDict({ ...sd, b: { shape: [4 * n], data: Float32Array.from(randomNd([4 * n], seed + 9).data) } });
    const x = f32(randomNd([1, B, pin], seed + 1));
    const h0 = f32(randomNd([B, p], seed + 2));
    const c0 = f32(randomNd([B, n], seed + 3));
    const dy = f32(randomNd([1, B, p], seed + 4));
    // Fused.
    const xt = toTensor(x, true);
    const h0t = toTensor(h0, true);
    const c0t = toTensor(c0, true);
    const fused = layer.forward(xt, { h: h0t, c: c0t }).y;
    fused.backward(toTensor(dy));
    // Unfused: pre = x·Wx + h·Wh + b, gate q picked by a 0/1 selection matrix S_q [4n, n].
    const Wfull = (await paramsOf(layer)).W;
    const Wx = fl.tensor(Wfull.data.slice(0, pin * 4 * n), [pin, 4 * n], { requiresGrad: true });
    const Wh = fl.tensor(Wfull.data.slice(pin * 4 * n), [p, 4 * n], { requiresGrad: true });
    const b = fl.tensor((await layer.b.data()) as Float32Array, [4 * n], { requiresGrad: true });
    const P = fl.tensor((await layer.P!.data()) as Float32Array, [n, p], { requiresGrad: true });
    const xu = toTensor(nd(x.data, [B, pin]), true);
    const hu = toTensor(h0, true);
    const cu = toTensor(c0, true);
    const pre = fl.add(fl.add(fl.matmul(xu, Wx), fl.matmul(hu, Wh)), b);
    const sel = (q: number) => {
      const s = new Float32Array(4 * n * n);
      for (let u = 0; u < n; u++) s[(4 * u + q) * n + u] = 1;
      return fl.tensor(s, [4 * n, n]);
    };
    const i = fl.sigmoid(fl.matmul(pre, sel(0)));
    const f = fl.sigmoid(fl.scale(fl.matmul(pre, sel(1)), 1, 1));
    const g = fl.tanh(fl.matmul(pre, sel(2)));
    const o = fl.sigmoid(fl.matmul(pre, sel(3)));
    const c = fl.add(fl.mul(f, cu), fl.mul(i, g));
    const y = fl.matmul(fl.mul(o, fl.tanh(c)), P);
    y.backward(toTensor(nd(dy.data, [B, p])));
    const tag = `seed=${seed}`;
    expectClose(await fused.data(), await y.data(), { atol: 1e-6, what: `y ${tag}` });
    expectClose(await xt.grad!.data(), await xu.grad!.data(), { atol: 1e-5, what: `dx ${tag}` });
    expectClose(await h0t.grad!.data(), await hu.grad!.data(), { atol: 1e-5, what: `dh0 ${tag}` });
    expectClose(await c0t.grad!.data(), await cu.grad!.data(), { atol: 1e-5, what: `dc0 ${tag}` });
    const dW = await layer.W!.grad!.data();
    expectClose(dW.slice(0, pin * 4 * n), await Wx.grad!.data(), { atol: 1e-5, what: `dWx ${tag}` });
    expectClose(dW.slice(pin * 4 * n), await Wh.grad!.data(), { atol: 1e-5, what: `dWh ${tag}` });
    expectClose(await layer.b.grad!.data(), await b.grad!.data(), { atol: 1e-5, what: `db ${tag}` });
    expectClose(await layer.P!.grad!.data(), await P.grad!.data(), { atol: 1e-5, what: `dP ${tag}` });
  });

  for (const cell of ['lstm', 'flstm', 'glstm'] as const) {
    it(`${cell}: T steps in two halves with the carried state equal one run of T steps`, async () => {
      const seed = freshSeed();
      const layer = new fl.nn.LSTM({
        inputSize: 8,
        hiddenSize: 8,
        projSize: 4,
        cell,
        factor: cell === 'flstm' ? 4 : undefined,
        groups: cell === 'glstm' ? 2 : undefined,
        seed,
      });
      const x = randomNd([6, 3, 8], seed + 1);
      const whole = layer.forward(toTensor(x));
      const first = layer.forward(toTensor(nd(x.data.slice(0, 3 * 3 * 8), [3, 3, 8])));
      const second = layer.forward(toTensor(nd(x.data.slice(3 * 3 * 8), [3, 3, 8])), first.state);
      const joined = new Float32Array([...(await first.y.data()), ...(await second.y.data())]);
      expect(Array.from(joined)).toEqual(Array.from(await whole.y.data()));
      expect(Array.from(await second.state.c.data())).toEqual(Array.from(await whole.state.c.data()));
      expect(Array.from(await second.state.h.data())).toEqual(Array.from(await whole.state.h.data()));
    });
  }

  it('bad input gets one clear error at the call', () => {
    expect(() => new fl.nn.LSTM({ inputSize: 6, hiddenSize: 8, projSize: 4, cell: 'glstm', groups: 4 })).toThrow(
      /groups k=4 must divide .* input size 6/,
    );
    expect(() => new fl.nn.LSTM({ inputSize: 6, hiddenSize: 8, cell: 'flstm' })).toThrow(/flstm needs a positive integer factor r/);
    const l = new fl.nn.LSTM({ inputSize: 4, hiddenSize: 3 });
    expect(() => l.forward(fl.zeros([2, 2, 5]))).toThrow(/input has width 5/);
    expect(() => l.forward(fl.zeros([2, 2, 4]), { h: fl.zeros([2, 4]), c: fl.zeros([2, 3]) })).toThrow(
      /state h has shape \[2, 4\], expected \[2, 3\]/,
    );
    expect(() => new fl.nn.LSTMStack({ layers: 2, inputSize: 8, hiddenSize: 8, cell: 'glstm', groups: '2,3' })).toThrow(
      /layer 2: glstm groups k=3/,
    );
    const cfg = { ...l.config, cell: 'xlstm' as fl.CellKind };
    expect(() => fl.lstmSequence(fl.zeros([2, 2, 4]), fl.zeros([2, 3]), fl.zeros([2, 3]), { W: l.W, b: l.b }, cfg)).toThrow(
      /lstm: unknown cell 'xlstm' \(expected lstm, flstm or glstm\)/,
    );
  });
});

describe('nn.LSTMStack', () => {
  it('a hierarchical G-LSTM stack ("2,4") equals the chained float64 reference; parameters count as the formula says', async () => {
    const seed = freshSeed();
    const stack = new fl.nn.LSTMStack({ layers: 2, inputSize: 8, hiddenSize: 16, projSize: 8, cell: 'glstm', groups: '2,4', seed });
    expect(stack.numParams()).toBe(
      fl.nn.lstmStackParamCount({ cell: 'glstm', layers: 2, inputSize: 8, hiddenSize: 16, projSize: 8, groups: [2, 4] }),
    );
    const sd = await stack.stateDict();
    expect(Object.keys(sd).sort()).toEqual(['layers.0.P', 'layers.0.W', 'layers.0.b', 'layers.1.P', 'layers.1.W', 'layers.1.b']);
    const x = f32(randomNd([4, 3, 8], seed + 1));
    const y = await stack.forward(toTensor(x)).y.data();
    let h = x;
    for (let l = 0; l < 2; l++) {
      const g = [2, 4][l];
      const ref: LstmRefParams = {
        cell: 'glstm',
        inputSize: 8,
        hiddenSize: 16,
        projSize: 8,
        groups: g,
        W: nd(sd[`layers.${l}.W`].data, sd[`layers.${l}.W`].shape),
        b: nd(sd[`layers.${l}.b`].data, [64]),
        P: nd(sd[`layers.${l}.P`].data, [16, 8]),
      };
      h = lstmForwardRef(ref, h, nd(new Float64Array(24), [3, 8]), nd(new Float64Array(48), [3, 16])).y;
    }
    expectClose(y, h, { atol: 2e-5, rtol: 2e-4, what: `stack seed=${seed}` });
  });

  it('dropout between layers: active in training with fresh masks per call, off in eval; gradients flow', async () => {
    const seed = freshSeed();
    const stack = new fl.nn.LSTMStack({ layers: 2, inputSize: 4, hiddenSize: 8, cell: 'lstm', dropout: 0.5, seed });
    const x = toTensor(randomNd([3, 2, 4], seed + 1), true);
    const a = await stack.forward(x).y.data();
    const b = stack.forward(x);
    const bData = await b.y.data();
    expect(Array.from(a)).not.toEqual(Array.from(bData));
    expect(bData.some((v) => v === 0)).toBe(true);
    fl.sum(b.y).backward();
    expect((await x.grad!.data()).some((v) => v !== 0)).toBe(true);
    stack.eval();
    const e1 = await stack.forward(x).y.data();
    const e2 = await stack.forward(x).y.data();
    expect(Array.from(e1)).toEqual(Array.from(e2));
  });
});
