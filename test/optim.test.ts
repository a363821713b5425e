import { describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { Rng } from '../src/random.js';
import {
  RefOptimizer,
  adagradRef,
  adamRef,
  clipScaleRef,
  globalNormRef,
  sgdRef,
  type RefKind,
  type RefOptions,
  type RefSparse,
} from '../src/ref/optim.js';
import { expectClose, freshSeed, useDevice } from './helpers.js';

useDevice();

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Awkward sizes: 1, 7, 33, 1000 elements. */
const SHAPES = [[1], [7], [3, 11], [40, 25]];
const NAMES = ['a', 'b', 'c', 'd'];

function randomF32(n: number, rng: Rng, scale = 1): Float32Array {
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = scale * (2 * rng.uniform() - 1);
  return d;
}

function makeParams(seed: number, shapes = SHAPES): { host: Float32Array[]; tensors: fl.Tensor[] } {
  const rng = new Rng(seed);
  const host = shapes.map((s) =>
    randomF32(
      s.reduce((a, b) => a * b, 1),
      rng,
    ),
  );
  return { host, tensors: host.map((h, i) => fl.tensor(h, shapes[i], { requiresGrad: true })) };
}

function setGrad(t: fl.Tensor, data: Float32Array | null): void {
  t.grad?.dispose();
  t.grad = data ? fl.tensor(data, t.shape) : null;
}

type Kind = 'adagrad' | 'adam' | 'sgd';
function makeOpt(kind: Kind, params: fl.optim.ParamList, o: Record<string, unknown>): fl.optim.Optimizer {
  if (kind === 'adagrad') return new fl.optim.Adagrad(params, o);
  if (kind === 'adam') return new fl.optim.Adam(params, o);
  return new fl.optim.SGD(params, o as unknown as fl.optim.SGDOptions);
}

const CONFIGS: { kind: Kind; opts: Record<string, number>; ref: RefOptions; lr2: number }[] = [
  { kind: 'adagrad', opts: {}, ref: { lr: 0.2, initialAccumulator: 1 }, lr2: 0.1 },
  {
    kind: 'adagrad',
    opts: { lr: 0.05, initialAccumulator: 0.1, eps: 1e-3 },
    ref: { lr: 0.05, initialAccumulator: 0.1, eps: 1e-3 },
    lr2: 0.3,
  },
  { kind: 'adam', opts: { lr: 0.01 }, ref: { lr: 0.01 }, lr2: 0.003 },
  {
    kind: 'adam',
    opts: { lr: 0.02, beta1: 0.8, beta2: 0.99, eps: 1e-6 },
    ref: { lr: 0.02, beta1: 0.8, beta2: 0.99, eps: 1e-6 },
    lr2: 0.05,
  },
  { kind: 'sgd', opts: { lr: 0.1 }, ref: { lr: 0.1 }, lr2: 0.05 },
  { kind: 'sgd', opts: { lr: 0.1, momentum: 0.9 }, ref: { lr: 0.1, momentum: 0.9 }, lr2: 0.02 },
];

async function expectParams(tensors: fl.Tensor[], ref: RefOptimizer, what: string, tol = { atol: 2e-5, rtol: 2e-4 }): Promise<void> {
  for (let i = 0; i < tensors.length; i++) {
    expectClose(await tensors[i].data(), ref.w[i], { ...tol, what: `${what}: param ${i}` });
  }
}

describe('optimizer references', () => {
  it('single steps match hand-computed values', () => {
    const w = Float64Array.of(1);
    const acc = Float64Array.of(1);
    adagradRef(w, acc, [2], 0.2);
    expect(acc[0]).toBe(5);
    expect(w[0]).toBeCloseTo(1 - 0.4 / Math.sqrt(5), 14);
    // Adam's first step moves each weight by about lr against the sign of its gradient.
    const wa = Float64Array.of(0, 0);
    adamRef(wa, new Float64Array(2), new Float64Array(2), [3, -0.01], 1, { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    expect(wa[0]).toBeCloseTo(-0.1, 6);
    expect(wa[1]).toBeCloseTo(0.1, 5);
    const ws = Float64Array.of(1);
    const vel = Float64Array.of(0);
    sgdRef(ws, vel, [1], 0.1, 0.5);
    sgdRef(ws, vel, [1], 0.1, 0.5);
    expect(ws[0]).toBeCloseTo(1 - 0.1 - 0.15, 14);
    expect(globalNormRef([[3], [4]])).toBe(5);
    expect(clipScaleRef(5, 1)).toBeCloseTo(0.2, 15);
    expect(clipScaleRef(0.5, 1)).toBe(1);
  });

  it('RefOptimizer skips a non-finite step and clips only its subset', () => {
    const ref = new RefOptimizer('sgd', [[1], [1]], { lr: 1, clip: { maxNorm: 1, params: [0] } });
    ref.update([[NaN], [1]]);
    expect([...ref.w[0], ...ref.w[1]]).toEqual([1, 1]);
    expect(ref.nonFiniteSteps).toBe(1);
    const { norm } = ref.update([[4], [4]]);
    expect(norm).toBe(4);
    expect([...ref.w[0], ...ref.w[1]]).toEqual([0, -3]);
  });
});

describe('optimizers on the GPU against the float64 reference', () => {
  for (const c of CONFIGS) {
    it(`${c.kind} ${JSON.stringify(c.opts)}: 5 steps, sizes 1/7/33/1000, an lr change, a parameter without grad`, async () => {
      const seed = freshSeed();
      const what = `${c.kind} seed=${seed}`;
      const { host, tensors } = makeParams(seed);
      const opt = makeOpt(c.kind, tensors, c.opts);
      const ref = new RefOptimizer(c.kind as RefKind, host, { ...c.ref });
      const rng = new Rng(seed + 1);
      let pipelines = 0;
      for (let s = 0; s < 5; s++) {
        if (s === 3) {
          opt.lr = c.lr2;
          ref.o.lr = c.lr2;
        }
        const grads = host.map((h, i) => (s === 1 && i === 2 ? null : randomF32(h.length, rng)));
        tensors.forEach((t, i) => setGrad(t, grads[i]));
        const before = fl.stats();
        const norm = opt.step();
        const after = fl.stats();
        // No host round trip; one dispatch per gradient for the norm, one finalize, one update each.
        expect(after.readbacks, what).toBe(before.readbacks);
        const n = grads.filter((g) => g).length;
        expect(after.dispatches - before.dispatches, what).toBe(2 * n + 1);
        const r = ref.update(grads);
        expect((await norm.data())[0], what).toBeCloseTo(r.norm, 4);
        norm.dispose();
        if (s === 0) pipelines = fl.stats().pipelines;
      }
      // Changing the learning rate made no new pipeline.
      expect(fl.stats().pipelines, what).toBe(pipelines);
      await expectParams(tensors, ref, what);
      const sd = await opt.stateDict();
      expect(sd.scalars.step).toBe(5);
      expect(sd.scalars.attempts).toBe(5);
      const slots = c.kind === 'adagrad' ? ['acc'] : c.kind === 'adam' ? ['m', 'v'] : c.opts.momentum ? ['momentum'] : [];
      expect(Object.keys(sd.tensors).sort()).toEqual(tensors.flatMap((_, i) => slots.map((s) => `${i}.${s}`)).sort());
      for (let i = 0; i < tensors.length; i++) {
        if (slots[0])
          expectClose(sd.tensors[`${i}.${slots[0]}`].data, ref.s1[i], { atol: 2e-5, rtol: 2e-4, what: `${what}: ${slots[0]} ${i}` });
        if (slots[1])
          expectClose(sd.tensors[`${i}.${slots[1]}`].data, ref.s2[i], { atol: 1e-7, rtol: 2e-4, what: `${what}: ${slots[1]} ${i}` });
      }
      opt.zeroGrad();
      expect(tensors.every((t) => t.grad === null)).toBe(true);
      opt.dispose();
    });
  }

  it('trains from autograd gradients (Module.parameters() pairs)', async () => {
    const seed = freshSeed();
    class M extends fl.nn.Module {
      w = this.registerParameter('w', fl.randn([7, 5], { seed, scale: 0.5 }));
      b = this.registerParameter('b', fl.zeros([5]));
    }
    const m = new M();
    const x = fl.randn([33, 7], { seed: seed + 1 });
    const opt = new fl.optim.Adagrad(m.parameters(), { lr: 0.2 });
    const lossAt = () => {
      const y = fl.tanh(fl.add(fl.matmul(x, m.w), m.b));
      return fl.sum(fl.mul(y, y));
    };
    let first = 0;
    for (let s = 0; s < 10; s++) {
      opt.zeroGrad();
      const loss = lossAt();
      loss.backward();
      if (s === 0) first = (await loss.data())[0];
      opt.step().dispose();
    }
    const last = (await lossAt().data())[0];
    expect(last, `seed=${seed}`).toBeLessThan(first * 0.5);
    expect(Object.keys((await opt.stateDict()).tensors)).toEqual(['w.acc', 'b.acc']);
  });
});

describe('global-norm clipping on the GPU', () => {
  const kinds: Kind[] = ['adagrad', 'adam', 'sgd'];
  for (const kind of kinds) {
    it(`${kind}: norm above and below the threshold, all parameters clipped; norms readable later`, async () => {
      const seed = freshSeed();
      const what = `${kind} clip seed=${seed}`;
      const { host, tensors } = makeParams(seed);
      const opts = kind === 'sgd' ? { lr: 0.1, momentum: 0.5 } : { lr: 0.05 };
      const opt = makeOpt(kind, tensors, { ...opts, clip: 1.0 });
      const ref = new RefOptimizer(kind, host, { ...opts, clip: { maxNorm: 1.0 } });
      const rng = new Rng(seed + 1);
      const norms: fl.Tensor[] = [];
      const want: number[] = [];
      // Large gradients (norm ~ 100: clipped), then tiny ones (norm ~ 0.01: untouched).
      for (const scale of [5, 5, 0.0005, 5]) {
        const grads = host.map((h) => randomF32(h.length, rng, scale));
        tensors.forEach((t, i) => setGrad(t, grads[i]));
        norms.push(opt.step());
        want.push(ref.update(grads).norm);
      }
      expect(want[0]).toBeGreaterThan(10);
      expect(want[2]).toBeLessThan(1);
      for (let k = 0; k < norms.length; k++) {
        expectClose(await norms[k].data(), [want[k]], { rtol: 1e-5, atol: 0, what: `${what}: norm of step ${k}` });
      }
      const st = await opt.readStats();
      expect(st.scale).toBeCloseTo(1 / want[3], 5);
      await expectParams(tensors, ref, what);
    });
  }

  it('clips a named subset only (LSTM weights), by names and by a test on the name', async () => {
    for (const sel of [['b', 'd'], (n: string) => n === 'b' || n === 'd']) {
      const seed = freshSeed();
      const what = `subset clip seed=${seed}`;
      const { host, tensors } = makeParams(seed);
      const pairs = tensors.map((t, i) => [NAMES[i], t] as [string, fl.Tensor]);
      const opt = new fl.optim.Adagrad(pairs, { lr: 0.2, clip: { maxNorm: 0.5, params: sel } });
      expect(opt.clippedNames).toEqual(['b', 'd']);
      const ref = new RefOptimizer('adagrad', host, { lr: 0.2, clip: { maxNorm: 0.5, params: [1, 3] } });
      const rng = new Rng(seed + 1);
      for (let s = 0; s < 3; s++) {
        const grads = host.map((h) => randomF32(h.length, rng, 3));
        tensors.forEach((t, i) => setGrad(t, grads[i]));
        const norm = opt.step();
        const r = ref.update(grads);
        // The reported norm is the subset's.
        expect(r.norm).toBeCloseTo(globalNormRef([grads[1]!, grads[3]!]), 10);
        expectClose(await norm.data(), [r.norm], { rtol: 1e-5, atol: 0, what: `${what}: norm` });
      }
      await expectParams(tensors, ref, what);
    }
  });

  it('gradients of many workgroups (70001 and 40000 elements): norm and clipped update match', async () => {
    const seed = freshSeed();
    const what = `large clip seed=${seed}`;
    const shapes = [[70001], [1], [200, 200]];
    const { host, tensors } = makeParams(seed, shapes);
    const opt = new fl.optim.SGD(tensors, { lr: 0.5, clip: { maxNorm: 10, params: [tensors[0], tensors[1]] } });
    const ref = new RefOptimizer('sgd', host, { lr: 0.5, clip: { maxNorm: 10, params: [0, 1] } });
    const rng = new Rng(seed + 1);
    for (let s = 0; s < 2; s++) {
      const grads = host.map((h) => randomF32(h.length, rng));
      tensors.forEach((t, i) => setGrad(t, grads[i]));
      const norm = opt.step();
      const again = fl.optim.clipGradNorm([tensors[0], tensors[1]], 1e30);
      const r = ref.update(grads);
      expectClose(await norm.data(), [r.norm], { rtol: 1e-5, atol: 0, what: `${what}: norm` });
      // The same gradients give the same bits (a fixed summation order).
      expect(bits((await again.data()) as Float32Array)).toEqual(bits((await norm.data()) as Float32Array));
    }
    await expectParams(tensors, ref, what);
  });

  it('fl.optim.clipGradNorm scales gradients in place and returns the norm', async () => {
    const seed = freshSeed();
    const { host, tensors } = makeParams(seed);
    const rng = new Rng(seed + 1);
    const grads = host.map((h) => randomF32(h.length, rng, 2));
    tensors.forEach((t, i) => setGrad(t, grads[i]));
    const norm = fl.optim.clipGradNorm(tensors, 1.5);
    const n = globalNormRef(grads);
    expectClose(await norm.data(), [n], { rtol: 1e-5, atol: 0, what: `clipGradNorm seed=${seed}` });
    for (let i = 0; i < grads.length; i++) {
      expectClose(
        await tensors[i].grad!.data(),
        Array.from(grads[i], (g) => g * clipScaleRef(n, 1.5)),
        { rtol: 1e-5, atol: 1e-7 },
      );
    }
    // A NaN leaves the gradients as they were.
    const bad = Float32Array.from(grads[2]);
    bad[4] = NaN;
    setGrad(tensors[2], bad);
    setGrad(tensors[0], grads[0]);
    const nanNorm = fl.optim.clipGradNorm(tensors, 1.5);
    expect(Number.isNaN((await nanNorm.data())[0])).toBe(true);
    expect(bits((await tensors[0].grad!.data()) as Float32Array)).toEqual(bits(grads[0]));
  });
});

describe('non-finite gradients', () => {
  it('a NaN or Inf anywhere skips the whole step on the GPU, is counted, and training continues', async () => {
    const seed = freshSeed();
    const what = `non-finite seed=${seed}`;
    const { host, tensors } = makeParams(seed);
    const pairs = tensors.map((t, i) => [NAMES[i], t] as [string, fl.Tensor]);
    const opt = new fl.optim.Adam(pairs, { lr: 0.01, clip: { maxNorm: 1, params: ['a', 'b'] } });
    const ref = new RefOptimizer('adam', host, { lr: 0.01, clip: { maxNorm: 1, params: [0, 1] } });
    const rng = new Rng(seed + 1);
    const poison: (null | [number, number, number])[] = [null, [3, 17, NaN], [1, 2, Infinity], null, [0, 0, -Infinity], null];
    for (let s = 0; s < poison.length; s++) {
      const grads = host.map((h) => randomF32(h.length, rng));
      const p = poison[s];
      if (p) grads[p[0]][p[1]] = p[2];
      tensors.forEach((t, i) => setGrad(t, grads[i]));
      const before = await Promise.all(tensors.map((t) => t.data()));
      const readbacks = fl.stats().readbacks;
      opt.step().dispose();
      expect(fl.stats().readbacks).toBe(readbacks);
      const r = ref.update(grads);
      expect(r.finite).toBe(p === null);
      if (p) {
        // Nothing moved.
        for (let i = 0; i < tensors.length; i++)
          expect(bits((await tensors[i].data()) as Float32Array), `${what} step ${s}`).toEqual(bits(before[i] as Float32Array));
        expect((await opt.readStats()).finite).toBe(false);
      }
    }
    await expectParams(tensors, ref, what);
    expect(await opt.nonFiniteSteps()).toBe(3);
    expect(await opt.stepCount()).toBe(3);
    expect((await opt.readStats()).attempts).toBe(6);
  });
});

describe('sparse row updates', () => {
  const cases: { kind: Kind; opts: Record<string, number>; V: number; D: number; P: number }[] = [
    { kind: 'adagrad', opts: { lr: 0.2 }, V: 50, D: 33, P: 40 },
    { kind: 'adagrad', opts: { lr: 0.2 }, V: 7, D: 1, P: 20 },
    { kind: 'adam', opts: { lr: 0.01 }, V: 1000, D: 7, P: 33 },
    { kind: 'sgd', opts: { lr: 0.1, momentum: 0.9 }, V: 33, D: 7, P: 1 },
    { kind: 'sgd', opts: { lr: 0.1 }, V: 33, D: 7, P: 7 },
    // Rows of a multiple of 4: the vec4 update kernels.
    { kind: 'adagrad', opts: { lr: 0.2 }, V: 50, D: 8, P: 24 },
    { kind: 'adam', opts: { lr: 0.01 }, V: 50, D: 12, P: 9 },
    { kind: 'sgd', opts: { lr: 0.1, momentum: 0.9 }, V: 50, D: 4, P: 9 },
  ];
  for (const c of cases) {
    it(`${c.kind} ${JSON.stringify(c.opts)}, table [${c.V}, ${c.D}], ${c.P} ids with repeats: only those rows (and state rows) change`, async () => {
      const seed = freshSeed();
      const what = `sparse ${c.kind} seed=${seed}`;
      const rng = new Rng(seed);
      const tableHost = randomF32(c.V * c.D, rng);
      const table = fl.tensor(tableHost, [c.V, c.D], { requiresGrad: true });
      const dense = fl.tensor(randomF32(33, rng), [3, 11], { requiresGrad: true });
      const pairs: [string, fl.Tensor][] = [
        ['emb', table],
        ['w', dense],
      ];
      const opt = makeOpt(c.kind, pairs, c.opts);
      const ref = new RefOptimizer(c.kind, [tableHost, await dense.data()], { ...c.opts } as unknown as RefOptions);
      const slot0 = c.kind === 'adagrad' ? 'acc' : c.kind === 'adam' ? 'm' : c.opts.momentum ? 'momentum' : null;
      let state0 = slot0 ? (await opt.stateDict()).tensors[`emb.${slot0}`].data : null;
      for (let s = 0; s < 3; s++) {
        // Repeated ids (P ids over a few distinct values), summed per id by embeddingBackwardSparse.
        const ids = new Int32Array(c.P);
        const distinct = Math.max(1, Math.min(c.V, Math.ceil(c.P / 3)));
        const pool = Array.from({ length: distinct }, () => Math.floor(rng.uniform() * c.V));
        for (let k = 0; k < c.P; k++) ids[k] = pool[Math.floor(rng.uniform() * distinct)];
        const dy = fl.tensor(randomF32(c.P * c.D, rng), [c.P, c.D]);
        const sp = fl.embeddingBackwardSparse(ids, dy, c.V);
        const rows = (await sp.rows.data()) as Float32Array;
        const before = (await table.data()) as Float32Array;
        const refSparse: RefSparse[] = [{ param: 0, ids: sp.ids, rows }];
        if (s === 1) {
          // Sparse and dense in one step.
          const g = randomF32(33, rng);
          setGrad(dense, g);
          opt.step({ sparse: [{ param: 'emb', ids: sp.ids, rows: sp.rows }] }).dispose();
          ref.update([null, g], refSparse);
          setGrad(dense, null);
        } else {
          opt.stepSparse(table, sp.ids, sp.rows).dispose();
          ref.update([null, null], refSparse);
        }
        const after = (await table.data()) as Float32Array;
        const touched = new Set(sp.ids);
        for (let v = 0; v < c.V; v++) {
          const b = bits(before.subarray(v * c.D, (v + 1) * c.D));
          const a = bits(after.subarray(v * c.D, (v + 1) * c.D));
          if (!touched.has(v)) expect(a, `${what}: untouched row ${v} changed`).toEqual(b);
        }
        if (slot0) {
          const st = (await opt.stateDict()).tensors[`emb.${slot0}`].data;
          for (let v = 0; v < c.V; v++) {
            if (touched.has(v)) continue;
            expect(bits(st.subarray(v * c.D, (v + 1) * c.D)), `${what}: state row ${v}`).toEqual(
              bits(state0!.subarray(v * c.D, (v + 1) * c.D)),
            );
          }
          state0 = st;
        }
        sp.rows.dispose();
        dy.dispose();
      }
      expectClose(await table.data(), ref.w[0], { atol: 2e-5, rtol: 2e-4, what: `${what}: table` });
      expectClose(await dense.data(), ref.w[1], { atol: 2e-5, rtol: 2e-4, what: `${what}: dense` });
      if (slot0)
        expectClose((await opt.stateDict()).tensors[`emb.${slot0}`].data, ref.s1[0], { atol: 2e-5, rtol: 2e-4, what: `${what}: ${slot0}` });
    });
  }

  it('a 1-D table (a softmax bias [V]) takes rows [U, 1]', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const h = randomF32(20, rng);
    const bias = fl.tensor(h, [20], { requiresGrad: true });
    const opt = new fl.optim.Adagrad([['softmax_b', bias]], { lr: 0.2 });
    const ref = new RefOptimizer('adagrad', [h], { lr: 0.2 });
    const g = randomF32(3, rng);
    opt.stepSparse('softmax_b', Int32Array.of(19, 3, 5), fl.tensor(g, [3, 1])).dispose();
    ref.update([null], [{ param: 0, ids: [19, 3, 5], rows: g }]);
    const got = (await bias.data()) as Float32Array;
    expectClose(got, ref.w[0], { atol: 1e-6, rtol: 1e-5, what: `bias seed=${seed}` });
    expect(got.filter((v, i) => v !== h[i]).length).toBe(3);
  });

  it('rejects repeated ids, ids out of range, rows of the wrong shape, and a dense grad alongside', () => {
    const table = fl.zeros([10, 3], { requiresGrad: true });
    const opt = new fl.optim.Adagrad([['emb', table]]);
    const rows = fl.zeros([3, 3]);
    expect(() => opt.stepSparse(table, [1, 4, 1], rows)).toThrow(/id 1 appears twice.*embeddingBackwardSparse/);
    expect(() => opt.stepSparse(table, [1, 4, 10], rows)).toThrow(/id 10 is out of range for a parameter of 10 rows/);
    expect(() => opt.stepSparse(table, [1, 4], rows)).toThrow(/rows are f32 \[3, 3\], expected f32 \[2, 3\] \(one row per id\)/);
    expect(() => opt.stepSparse('nope', [1], rows)).toThrow(/'nope' is not one of the optimizer's parameters/);
    table.grad = fl.zeros([10, 3]);
    expect(() => opt.step({ sparse: [{ param: table, ids: [0, 1, 2], rows }] })).toThrow(/both a dense \.grad and a sparse gradient/);
  });
});

describe('state dicts', () => {
  const cases: { kind: Kind; opts: Record<string, unknown> }[] = [
    { kind: 'adagrad', opts: { lr: 0.2, clip: { maxNorm: 1, params: ['b', 'd'] } } },
    { kind: 'adam', opts: { lr: 0.01, clip: 2 } },
    { kind: 'sgd', opts: { lr: 0.05, momentum: 0.9 } },
  ];
  for (const c of cases) {
    it(`${c.kind}: 2 steps, save, load into a fresh optimizer, 2 more steps = 4 uninterrupted steps, bit for bit`, async () => {
      const seed = freshSeed();
      const what = `${c.kind} resume seed=${seed}`;
      const rng = new Rng(seed + 1);
      const shapes = [...SHAPES, [20, 5]];
      const { host } = makeParams(seed, shapes);
      const gradSteps = [0, 1, 2, 3].map((s) => host.map((h) => randomF32(h.length, rng, 3)));
      gradSteps[1][0][0] = NaN; // a skipped step: the counters must resume too
      const sparseSteps = [0, 1, 2, 3].map(() => ({ ids: Int32Array.of(1, 7, 19), rows: randomF32(15, rng) }));
      const make = (values: Float32Array[]) => {
        const ts = values.map((h, i) => fl.tensor(h, shapes[i], { requiresGrad: true }));
        const pairs = ts.map((t, i) => [i === 4 ? 'emb' : NAMES[i], t] as [string, fl.Tensor]);
        return { ts, opt: makeOpt(c.kind, pairs, c.opts) };
      };
      const run = (ts: fl.Tensor[], opt: fl.optim.Optimizer, s: number) => {
        ts.forEach((t, i) => setGrad(t, i === 4 ? null : gradSteps[s][i]));
        const rows = fl.tensor(sparseSteps[s].rows, [3, 5]);
        opt.step({ sparse: [{ param: 'emb', ids: sparseSteps[s].ids, rows }] }).dispose();
        rows.dispose();
      };
      const A = make(host);
      for (let s = 0; s < 4; s++) run(A.ts, A.opt, s);
      const B = make(host);
      for (let s = 0; s < 2; s++) run(B.ts, B.opt, s);
      // Through JSON and copies, as a checkpoint would be.
      const saved = await B.opt.stateDict();
      const scalars = JSON.parse(JSON.stringify(saved.scalars));
      const tensors = Object.fromEntries(
        Object.entries(saved.tensors).map(([k, v]) => [k, { shape: v.shape, data: Float32Array.from(v.data) }]),
      );
      const paramsB = await Promise.all(B.ts.map(async (t) => Float32Array.from((await t.data()) as Float32Array)));
      B.opt.dispose();
      const C = make(paramsB);
      C.opt.loadStateDict({ scalars, tensors });
      for (let s = 2; s < 4; s++) run(C.ts, C.opt, s);
      for (let i = 0; i < shapes.length; i++) {
        expect(bits((await C.ts[i].data()) as Float32Array), `${what}: param ${i}`).toEqual(bits((await A.ts[i].data()) as Float32Array));
      }
      const sa = await A.opt.stateDict();
      const sc = await C.opt.stateDict();
      expect(sc.scalars).toEqual(sa.scalars);
      expect(sa.scalars.nonFiniteSteps).toBe(1);
      expect(sa.scalars.step).toBe(3);
      for (const k of Object.keys(sa.tensors)) expect(bits(sc.tensors[k].data), `${what}: ${k}`).toEqual(bits(sa.tensors[k].data));
    });
  }

  it('rejects a state of another kind, a missing or misshapen tensor, and bad scalars', async () => {
    const { tensors } = makeParams(freshSeed());
    const opt = new fl.optim.Adagrad(tensors);
    const sd = await opt.stateDict();
    const adam = new fl.optim.Adam(tensors);
    expect(() => adam.loadStateDict(sd)).toThrow(/state is of an optimizer of kind 'adagrad', this one is 'adam'/);
    const { '2.acc': _, ...missing } = sd.tensors;
    expect(() => opt.loadStateDict({ ...sd, tensors: missing })).toThrow(/missing state tensor '2.acc'/);
    expect(() => opt.loadStateDict({ ...sd, tensors: { ...sd.tensors, '2.acc': { shape: [33], data: new Float32Array(33) } } })).toThrow(
      /'2.acc' has shape \[33\].*expected \[3, 11\]/,
    );
    expect(() => opt.loadStateDict({ ...sd, tensors: { ...sd.tensors, 'x.acc': sd.tensors['0.acc'] } })).toThrow(
      /unexpected state tensor 'x.acc'/,
    );
    expect(() => opt.loadStateDict({ ...sd, scalars: { ...sd.scalars, step: -1 } })).toThrow(/scalars.step must be a non-negative integer/);
    const { kind: _k, ...noKind } = sd.scalars;
    expect(() => opt.loadStateDict({ ...sd, scalars: noKind })).toThrow(/scalars.kind is missing/);
  });
});

describe('options', () => {
  it('rejects bad options with clear messages', () => {
    const { tensors } = makeParams(freshSeed());
    expect(() => new fl.optim.SGD(tensors, {} as fl.optim.SGDOptions)).toThrow(/SGD: the learning rate \{ lr \} is required/);
    expect(() => new fl.optim.Adagrad(tensors, { lr: -1 })).toThrow(/Adagrad: lr must be a finite number >= 0, got -1/);
    expect(() => new fl.optim.Adagrad(tensors, { initialAccumulator: 0 })).toThrow(/initialAccumulator must be a finite number > 0/);
    expect(() => new fl.optim.Adam(tensors, { beta2: 1 })).toThrow(/beta2 must be a finite number >= 0 and < 1/);
    expect(() => new fl.optim.Adam(tensors, { clip: 0 })).toThrow(/clip.maxNorm must be a finite number > 0/);
    expect(() => new fl.optim.Adam(tensors, { clip: { maxNorm: 1, params: ['zz'] } })).toThrow(
      /clip.params names 'zz', which is not one of the optimizer's parameters \('0', '1', '2', '3'\)/,
    );
    expect(() => new fl.optim.Adam([tensors[0], tensors[0]])).toThrow(/parameter '1' is the same tensor as '0'/);
    expect(() => new fl.optim.Adam([fl.tensor(Int32Array.of(1))])).toThrow(/parameter '0' must be f32/);
    const opt = new fl.optim.Adam(tensors);
    expect(() => (opt.lr = NaN)).toThrow(/lr must be a finite number/);
    opt.dispose();
    expect(() => opt.step()).toThrow(/the optimizer was disposed/);
  });
});
