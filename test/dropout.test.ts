import { describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { dropoutBackwardRef, dropoutHash, dropoutMaskRef, dropoutRef, pcgHash } from '../src/ref/dropout.js';
import { expectClose, f32, freshSeed, randomNd, toTensor, useDevice } from './helpers.js';

useDevice();

/** The GPU's mask: dropout of ones is 1/(1-rate) where kept, 0 where dropped. */
async function gpuMask(n: number, rate: number, seed?: number): Promise<Uint8Array> {
  const y = fl.dropout(fl.ones([n]), rate, seed === undefined ? {} : { seed });
  const d = await y.data();
  return Uint8Array.from(d, (v) => (v !== 0 ? 1 : 0));
}

function expectSameMask(got: Uint8Array, want: Uint8Array, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const bad: number[] = [];
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) bad.push(i);
  expect(bad.slice(0, 8), `${what}: ${bad.length} of ${want.length} mask entries differ`).toEqual([]);
}

describe('the reference hash', () => {
  it('is the 32-bit PCG hash, unsigned', () => {
    // pcg(0): state = 2891336453; by hand with BigInt.
    const pcgBig = (v: bigint): bigint => {
      const m = (1n << 32n) - 1n;
      const state = (v * 747796405n + 2891336453n) & m;
      const word = (((state >> ((state >> 28n) + 4n)) ^ state) * 277803737n) & m;
      return (word >> 22n) ^ word;
    };
    for (const v of [0, 1, 2, 12345, 0x7fffffff, 0x80000000, 0xffffffff]) {
      expect(pcgHash(v)).toBe(Number(pcgBig(BigInt(v))));
    }
    expect(dropoutHash(7, 3)).toBe(pcgHash((pcgHash(3) ^ pcgHash(7)) >>> 0));
    expect(dropoutHash(7, 3)).toBeGreaterThanOrEqual(0);
  });
});

describe('dropout', () => {
  it('the GPU mask equals the reference mask exactly', async () => {
    for (const n of [1, 7, 33, 129, 1000, 100_003]) {
      for (const rate of [0.1, 0.5, 0.9, 1e-6, 0.999999]) {
        const seed = freshSeed();
        expectSameMask(await gpuMask(n, rate, seed), dropoutMaskRef(n, rate, seed), `n=${n} rate=${rate} seed=${seed}`);
      }
    }
    // seeds at the ends of the uint32 range
    for (const seed of [0, 0xffffffff]) expectSameMask(await gpuMask(4099, 0.3, seed), dropoutMaskRef(4099, 0.3, seed), `seed=${seed}`);
  });

  it('the mask is right past 65535 workgroups (a 2-D grid)', async () => {
    const n = 65535 * 256 + 300;
    const seed = freshSeed();
    expectSameMask(await gpuMask(n, 0.25, seed), dropoutMaskRef(n, 0.25, seed), `n=${n} seed=${seed}`);
  });

  it('forward and backward match the float64 reference', async () => {
    for (const [shape, rate] of [
      [[1], 0.5],
      [[7], 0.3],
      [[33, 129], 0.5],
      [[3, 129, 7], 0.1],
      [[1000], 0.9],
    ] as [number[], number][]) {
      const seed = freshSeed();
      const x = f32(randomNd(shape, seed, 3));
      const dy = f32(randomNd(shape, seed + 1));
      const xt = toTensor(x, true);
      const y = fl.dropout(xt, rate, { seed });
      expect(y.shape).toEqual(shape);
      y.backward(toTensor(dy));
      expectClose(await y.data(), dropoutRef(x, rate, seed), { what: `dropout ${JSON.stringify(shape)} rate=${rate} seed=${seed}` });
      expectClose(await xt.grad!.data(), dropoutBackwardRef(dy, rate, seed), {
        what: `dropout' ${JSON.stringify(shape)} rate=${rate} seed=${seed}`,
      });
    }
  });

  it('the gradient of sum(dropout(x)) is the mask times 1/(1 - rate)', async () => {
    const seed = freshSeed();
    const x = fl.rand([513], { seed, requiresGrad: true });
    fl.sum(fl.dropout(x, 0.4, { seed })).backward();
    const want = Array.from(dropoutMaskRef(513, 0.4, seed), (k) => k / 0.6);
    expectClose(await x.grad!.data(), want);
  });

  it('keeps about 1 - rate of 100k elements', async () => {
    const n = 100_000;
    for (const rate of [0.1, 0.5, 0.75]) {
      const seed = freshSeed();
      const kept = (await gpuMask(n, rate, seed)).reduce((a, b) => a + b, 0);
      const sd = Math.sqrt(n * rate * (1 - rate));
      expect(Math.abs(kept - n * (1 - rate)), `rate=${rate} seed=${seed}: kept ${kept}`).toBeLessThan(5 * sd);
    }
  });

  it('the same seed gives the same mask; different seeds different masks', async () => {
    const n = 10_000;
    const seed = freshSeed();
    const a = await gpuMask(n, 0.5, seed);
    const b = await gpuMask(n, 0.5, seed);
    expectSameMask(a, b, `seed=${seed} twice`);
    for (const other of [seed + 1, seed ^ 0x80000000, (seed + 0x10000) >>> 0].map((s) => s >>> 0)) {
      const c = await gpuMask(n, 0.5, other);
      let differ = 0;
      for (let i = 0; i < n; i++) differ += a[i] !== c[i] ? 1 : 0;
      // independent masks at rate 0.5 differ in about half the places
      expect(differ, `seeds ${seed} and ${other}`).toBeGreaterThan(n * 0.45);
      expect(differ, `seeds ${seed} and ${other}`).toBeLessThan(n * 0.55);
    }
  });

  it('without a seed draws one from the engine generator (fl.setSeed)', async () => {
    fl.setSeed(1234);
    const a = await gpuMask(5000, 0.5);
    const a2 = await gpuMask(5000, 0.5);
    fl.setSeed(1234);
    const b = await gpuMask(5000, 0.5);
    expectSameMask(b, a, 'after re-seeding');
    expect(a2.some((v, i) => v !== a[i])).toBe(true);
  });

  it('rate 0 or training false is the identity (x itself)', () => {
    const x = fl.rand([17], { requiresGrad: true });
    expect(fl.dropout(x, 0)).toBe(x);
    expect(fl.dropout(x, 0.5, { training: false, seed: 3 })).toBe(x);
  });

  it('rejects a rate outside [0, 1), a bad seed and an i32 input, naming the value', () => {
    const x = fl.zeros([4]);
    expect(() => fl.dropout(x, 1)).toThrow(/dropout: rate must be a number in \[0, 1\), got 1$/);
    expect(() => fl.dropout(x, -0.1)).toThrow(/rate must be a number in \[0, 1\), got -0\.1/);
    expect(() => fl.dropout(x, NaN)).toThrow(/got NaN/);
    expect(() => fl.dropout(x, 1, { training: false })).toThrow(/got 1/);
    expect(() => fl.dropout(x, '0.5' as unknown as number)).toThrow(/got "0.5"/);
    expect(() => fl.dropout(x, 0.5, { seed: -1 })).toThrow(/seed must be an integer in \[0, 2\^32\), got -1/);
    expect(() => fl.dropout(x, 0.5, { seed: 1.5 })).toThrow(/got 1.5/);
    expect(() => fl.dropout(fl.zeros([4], { dtype: 'i32' }), 0.5)).toThrow(/dropout: x must be f32, got i32/);
  });
});

describe('dropout of some streams of a batch (data-parallel training)', () => {
  it("each part's mask and gradient are its streams' part of the whole batch's", async () => {
    const seed = freshSeed();
    const [T, parts, B, H] = [3, 3, 2, 5];
    const whole = toTensor(randomNd([T, parts * B, H], seed), true);
    const yWhole = fl.dropout(whole, 0.4, { seed });
    fl.sum(fl.mul(yWhole, yWhole)).backward();
    const want = (await yWhole.data()) as Float32Array;
    const wantGrad = (await whole.grad!.data()) as Float32Array;
    const streamsOf = (a: Float32Array, p: number) => {
      const out: number[] = [];
      for (let t = 0; t < T; t++) out.push(...a.subarray((t * parts * B + p * B) * H, (t * parts * B + (p + 1) * B) * H));
      return out;
    };
    for (let p = 0; p < parts; p++) {
      const x = fl.tensor(streamsOf((await whole.data()) as Float32Array, p), [T, B, H], { requiresGrad: true });
      const y = fl.dropout(x, 0.4, { seed, streams: { offset: p * B, total: parts * B } });
      fl.sum(fl.mul(y, y)).backward();
      expect(Array.from(await y.data()), `part ${p}, seed ${seed}`).toEqual(streamsOf(want, p));
      expect(Array.from(await x.grad!.data()), `part ${p} gradient, seed ${seed}`).toEqual(streamsOf(wantGrad, p));
    }
  });

  it('refuses streams outside the total, naming the shape', () => {
    expect(() => fl.dropout(fl.ones([2, 4, 3]), 0.5, { seed: 1, streams: { offset: 6, total: 8 } })).toThrow(
      /streams 6\.\. of 8 for x of shape \[2, 4, 3\]/,
    );
  });
});
