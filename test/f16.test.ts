// f16 storage: fl.cast both ways against the host's IEEE half rounding, the gradient through
// a cast, and clear errors. (f16 matmul operands: matmul.test.ts; f16 in the LSTM layers:
// lstm-kernels.test.ts; training with precision f16: train.test.ts.)
import { describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { fromHalfBits, roundHalf, toHalfBits } from '../src/half.js';
import { freshSeed, useDevice } from './helpers.js';
import { addHalves, floatsOf, halvesOf } from '../src/distributed/half_sum.js';
import { Rng } from '../src/random.js';

useDevice();

describe('host half precision (the references use it)', () => {
  it('rounds to nearest even, keeps subnormals, overflows to infinity', () => {
    expect(roundHalf(1)).toBe(1);
    expect(roundHalf(1 + 2 ** -11)).toBe(1); // a tie: to the even mantissa
    expect(roundHalf(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9); // a tie: up to the even one
    expect(roundHalf(1 + 2 ** -11 + 2 ** -20)).toBe(1 + 2 ** -10); // just past the tie
    expect(roundHalf(65504)).toBe(65504);
    expect(roundHalf(65520)).toBe(Infinity);
    expect(roundHalf(-70000)).toBe(-Infinity);
    expect(roundHalf(2 ** -24)).toBe(2 ** -24); // the smallest subnormal
    expect(roundHalf(2 ** -26)).toBe(0);
    expect(roundHalf(3 * 2 ** -25)).toBe(2 ** -23); // a subnormal tie to even
    expect(fromHalfBits(toHalfBits(-0.1))).toBeCloseTo(-0.1, 3);
    expect(Number.isNaN(roundHalf(NaN))).toBe(true);
    // Every f16 value survives the round trip.
    for (let h = 0; h < 0x7c00; h += 7) expect(toHalfBits(fromHalfBits(h))).toBe(h);
  });
});

describe("the all-reduce's half sum (--allreduce f16)", () => {
  it('adds halves as one rounding of their exact sum, over every magnitude', () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    // Random bit patterns, infinities and NaNs left out (0x7c00 and above, either sign).
    const bits = () => {
      const h = Math.floor(rng.uniform() * 0x7c00);
      return rng.uniform() < 0.5 ? h : h | 0x8000;
    };
    const a = Uint16Array.from({ length: 20000 }, bits);
    const b = Uint16Array.from({ length: 20000 }, bits);
    const want = Array.from(a, (h, i) => roundHalf(fromHalfBits(h) + fromHalfBits(b[i])));
    addHalves(a, b);
    const got = Array.from(floatsOf(a));
    const bad = got.findIndex((v, i) => v !== want[i] && !(v === 0 && want[i] === 0));
    expect(bad, `seed ${seed}: index ${bad}: got ${got[bad]}, want ${want[bad]}`).toBe(-1);
    expect(Array.from(floatsOf(halvesOf(Float32Array.of(0.1, -3, 1e-7)), 2))).toEqual([2 * roundHalf(0.1), -6, 2 * roundHalf(1e-7)]);
  });
});

describe('fl.cast', () => {
  it('f32 -> f16 is within one rounding of the nearest half, f16 -> f32 is exact, over range is inf', async () => {
    const rng = new fl.Rng(freshSeed());
    const n = 1037; // not a multiple of 4: the last vec4 is partly padding
    const x = Float32Array.from({ length: n }, (_, i) =>
      i < 4 ? [65520, -1e6, 1e-9, 0][i] : (rng.uniform() - 0.5) * 2 ** (Math.floor(rng.uniform() * 30) - 15),
    );
    const t = fl.tensor(x, [n]);
    const h = fl.cast(t, 'f16');
    expect(h.dtype).toBe('f16');
    expect(h.shape).toEqual([n]);
    const got = await h.data();
    expect(got[0]).toBe(Infinity);
    expect(got[1]).toBe(-Infinity);
    let exactNearest = 0;
    for (let i = 2; i < n; i++) {
      const want = roundHalf(x[i]);
      if (got[i] === want) {
        exactNearest++;
        continue;
      }
      // Some adapters round toward zero: then the neighbouring half toward zero.
      const bits = toHalfBits(want);
      const towardZero = fromHalfBits(Math.abs(want) > Math.abs(x[i]) ? bits - 1 : bits);
      expect(got[i], `x[${i}] = ${x[i]}`).toBe(towardZero);
    }
    expect(exactNearest).toBeGreaterThan(n / 4);
    const back = fl.cast(h, 'f32');
    expect(back.dtype).toBe('f32');
    expect(Array.from(await back.data())).toEqual(Array.from(got));
    for (const z of [t, h, back]) z.dispose();
  });

  it('fl.tensor and fl.full make f16 tensors from host values', async () => {
    const t = fl.tensor([0.1, -2, 70000, 3.14159], [2, 2], { dtype: 'f16' });
    expect(Array.from(await t.data())).toEqual([roundHalf(0.1), -2, Infinity, roundHalf(3.14159)]);
    const f = fl.full([3], 0.3, { dtype: 'f16' });
    expect(Array.from(await f.data())).toEqual([roundHalf(0.3), roundHalf(0.3), roundHalf(0.3)]);
    t.dispose();
    f.dispose();
  });

  it('passes the gradient through unchanged, in f32, to the master it was cast from', async () => {
    const w = fl.tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    const x = fl.tensor([0.5, -1, 2, 0.25, 3, -0.5], [3, 2]);
    const y = fl.matmul(fl.cast(w, 'f16'), x);
    y.backward(fl.tensor([1, 0, 0, 2], [2, 2]));
    // dW = dY · X^T
    expect(w.grad!.dtype).toBe('f32');
    expect(Array.from(await w.grad!.data())).toEqual(
      [0.5, 2, 3, 0.5, 0.5, -1].map((v, i) => (i < 3 ? v : [2 * -1, 2 * 0.25, 2 * -0.5][i - 3])),
    );
    w.dispose();
    x.dispose();
  });

  it('rejects i32, unknown dtypes, and f16 where an op computes in f32 only', () => {
    const i = fl.tensor(new Int32Array([1, 2]), [2]);
    expect(() => fl.cast(i, 'f16')).toThrow(/cast: x must be f32 or f16, got i32/);
    const x = fl.tensor([1, 2], [2]);
    expect(() => fl.cast(x, 'bf16' as fl.DType)).toThrow(/cast: dtype must be 'f16' or 'f32', got "bf16"/);
    expect(fl.cast(x, 'f32')).toBe(x);
    const h = fl.cast(x, 'f16');
    expect(() => fl.tanh(h)).toThrow(/tanh: x must be f32, got f16 \[2\]/);
    for (const z of [i, x, h]) z.dispose();
  });
});
