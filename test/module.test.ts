import { describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { expectClose, useDevice } from './helpers.js';

useDevice();

class Inner extends fl.nn.Module {
  P: fl.Tensor;
  constructor(seed: number) {
    super();
    this.P = this.registerParameter('P', fl.nn.init.uniform([3, 2], 0.5, seed + 2));
  }
}

class Tiny extends fl.nn.Module {
  W: fl.Tensor;
  b: fl.Tensor;
  child: Inner;
  constructor(seed: number) {
    super();
    this.W = this.registerParameter('W', fl.nn.init.uniformFanIn([4, 3], 4, seed));
    this.b = this.registerParameter('b', fl.nn.init.uniform([3], 0.1, seed + 1));
    this.child = this.registerModule('child', new Inner(seed));
  }
  forward(x: fl.Tensor): fl.Tensor {
    return fl.matmul(fl.add(fl.matmul(x, this.W), this.b), this.child.P);
  }
}

describe('nn.Module', () => {
  it('names parameters by dotted path and counts them', () => {
    const m = new Tiny(1);
    expect(m.parameters().map(([n]) => n)).toEqual(['W', 'b', 'child.P']);
    expect(m.numParams()).toBe(12 + 3 + 6);
    for (const [, t] of m.parameters()) expect(t.requiresGrad).toBe(true);
    const list = new fl.nn.ModuleList([new Inner(1), new Inner(2)]);
    class Stack extends fl.nn.Module {
      layers = this.registerModule('layers', list);
    }
    const s = new Stack();
    expect(s.parameters().map(([n]) => n)).toEqual(['layers.0.P', 'layers.1.P']);
    expect(list.length).toBe(2);
    expect(list.at(-1)).toBe([...list][1]);
    m.dispose();
    s.dispose();
  });

  it('tied weights appear once', () => {
    const m = new Tiny(1);
    const outer = new fl.nn.Module();
    outer.registerModule('a', m);
    outer.registerModule('b', m.child);
    expect(outer.parameters().map(([n]) => n)).toEqual(['a.W', 'a.b', 'a.child.P']);
    expect(outer.numParams()).toBe(21);
    m.dispose();
  });

  it('parameters made inside fl.tidy outlive the scope', async () => {
    const m = fl.tidy(() => {
      fl.zeros([5]); // a temporary, disposed
      return { m: new Tiny(3) };
    }).m;
    const m2 = fl.tidy(() => {
      const t = new Tiny(4);
      return 0 * t.numParams();
    });
    expect(m2).toBe(0);
    for (const [, t] of m.parameters()) {
      expect(t.disposed).toBe(false);
      expect((await t.data()).length).toBe(t.size);
    }
    m.dispose();
    for (const [, t] of m.parameters()) expect(t.disposed).toBe(true);
  });

  it('init.uniform is seeded and within [-scale, scale); the default scale is 1/sqrt(fanIn)', async () => {
    const a = await fl.nn.init.uniform([1000], 0.25, 9).data();
    const b = await fl.nn.init.uniform([1000], 0.25, 9).data();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Math.max(...a)).toBeLessThan(0.25);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-0.25);
    expect(Math.max(...a)).toBeGreaterThan(0.2);
    expect(fl.nn.init.defaultScale(16)).toBe(0.25);
    const c = await fl.nn.init.uniformFanIn([1000], 16, 9).data();
    expect(Array.from(c)).toEqual(Array.from(a));
    expect(() => fl.nn.init.uniform([2], -1)).toThrow(/scale must be a finite number >= 0, got -1/);
    expect(() => fl.nn.init.defaultScale(0)).toThrow(/fanIn must be a positive integer, got 0/);
  });

  it('stateDict round trip through loadStateDict into a fresh module gives identical values', async () => {
    const a = new Tiny(10);
    const b = new Tiny(20);
    const sa = await a.stateDict();
    expect(Object.keys(sa)).toEqual(['W', 'b', 'child.P']);
    expect(sa['child.P'].shape).toEqual([3, 2]);
    expect(sa.W.data).toBeInstanceOf(Float32Array);
    const before = await b.stateDict();
    expect(Array.from(before.W.data)).not.toEqual(Array.from(sa.W.data));
    // Work recorded before the load reads the old values; work after it the new ones.
    const oldCopy = fl.scale(b.W, 1);
    b.loadStateDict(sa);
    const newCopy = fl.scale(b.W, 1);
    const sb = await b.stateDict();
    for (const k of Object.keys(sa)) {
      expect(sb[k].shape).toEqual(sa[k].shape);
      expect(Array.from(sb[k].data), k).toEqual(Array.from(sa[k].data));
    }
    expect(Array.from(await oldCopy.data())).toEqual(Array.from(before.W.data));
    expect(Array.from(await newCopy.data())).toEqual(Array.from(sa.W.data));
    // The same outputs on the same input.
    const x = fl.rand([2, 4], { seed: 5 });
    expectClose(await b.forward(x).data(), await a.forward(x).data(), { atol: 0, rtol: 0 });
    // Plain number arrays load too.
    const plain = Object.fromEntries(Object.entries(before).map(([k, v]) => [k, { shape: v.shape, data: Array.from(v.data) }]));
    b.loadStateDict(plain);
    expect(Array.from(await b.W.data())).toEqual(Array.from(before.W.data));
    a.dispose();
    b.dispose();
  });

  it('loadStateDict errors: missing, unexpected, shape mismatch, wrong length; nothing is written', async () => {
    const m = new Tiny(1);
    const good = await new Tiny(2).stateDict();
    const orig = await m.stateDict();
    const { b: _b, ...noB } = good;
    expect(() => m.loadStateDict(noB)).toThrow(/loadStateDict: missing parameter 'b'$/);
    expect(() => m.loadStateDict({ ...good, extra: { shape: [1], data: new Float32Array(1) } })).toThrow(
      /unexpected parameter 'extra' \(the module has 'W', 'b', 'child.P'\)/,
    );
    expect(() => m.loadStateDict({ ...good, 'child.P': { shape: [2, 3], data: new Float32Array(6) } })).toThrow(
      /'child.P' has shape \[2, 3\] in the state dict, but the parameter has shape \[3, 2\]/,
    );
    expect(() => m.loadStateDict({ ...good, 'child.P': { shape: [3, 2], data: new Float32Array(5) } })).toThrow(
      /'child.P' has 5 values for shape \[3, 2\] \(6 expected\)/,
    );
    expect(() => m.loadStateDict({ ...good, b: 7 as unknown as { shape: number[]; data: Float32Array } })).toThrow(
      /'b' must be \{ shape: number\[\], data: Float32Array \}/,
    );
    const after = await m.stateDict();
    for (const k of Object.keys(orig)) expect(Array.from(after[k].data)).toEqual(Array.from(orig[k].data));
    m.dispose();
  });

  it('registration errors: bad or duplicate names, non-leaf and non-f32 parameters', () => {
    const m = new fl.nn.Module();
    m.registerParameter('w', fl.zeros([2]));
    expect(() => m.registerParameter('w', fl.zeros([2]))).toThrow(/the name 'w' is already registered/);
    expect(() => m.registerModule('w', new fl.nn.Module())).toThrow(/already registered/);
    expect(() => m.registerParameter('a.b', fl.zeros([2]))).toThrow(/no dots\), got "a.b"/);
    expect(() => m.registerParameter('c', fl.zeros([2], { dtype: 'i32' }))).toThrow(/parameter 'c' must be f32, got i32/);
    const x = fl.zeros([2], { requiresGrad: true });
    expect(() => m.registerParameter('d', fl.scale(x, 2))).toThrow(/parameter 'd' must be a leaf tensor, but it is the output of scale/);
    expect(() => m.registerModule('self', m)).toThrow(/cannot be its own child/);
    m.dispose();
  });

  it('train() and eval() are recursive; zeroGrad disposes the gradients', async () => {
    const m = new Tiny(1);
    expect(m.training && m.child.training).toBe(true);
    m.eval();
    expect(m.training || m.child.training).toBe(false);
    expect(m.train()).toBe(m);
    expect(m.training && m.child.training).toBe(true);
    m.train(false);
    expect(m.child.training).toBe(false);
    fl.sum(m.forward(fl.rand([2, 4], { seed: 1 }))).backward();
    const grads = m.parameters().map(([, t]) => t.grad!);
    for (const g of grads) expect(g).not.toBeNull();
    m.zeroGrad();
    for (const [, t] of m.parameters()) expect(t.grad).toBeNull();
    for (const g of grads) expect(g.disposed).toBe(true);
    m.dispose();
  });
});
