// Errors are part of the interface: each mistake ends in one message naming the value and
// what was expected, thrown at the call that made it.
import { describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { rt } from '../src/gpu/runtime.js';
import { useDevice } from './helpers.js';

useDevice();

describe('clear errors', () => {
  it('a tensor used after dispose() names its shape', async () => {
    const t = fl.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    t.dispose();
    expect(t.disposed).toBe(true);
    await expect(t.data()).rejects.toThrow(/tensor \[2, 3\] \(f32, from tensor\) was used after dispose\(\)/);
    const u = fl.ones([2, 3]);
    expect(() => fl.add(t, u)).toThrow(/\[2, 3\].*used after dispose/);
    expect(() => t.reshape([6])).toThrow(/\[2, 3\].*used after dispose/);
    u.dispose();
  });

  it('tensor() with the wrong number of values names both counts and the shape', () => {
    expect(() => fl.tensor([1, 2, 3, 4, 5], [2, 3])).toThrow(/5 values do not fill shape \[2, 3\] \(6 elements\)/);
  });

  it('an i32 tensor with non-integers names the value and its index', () => {
    expect(() => fl.tensor([1, 2, 2.5], [3], { dtype: 'i32' })).toThrow(/i32 data must be integers, got 2\.5 at index 2/);
  });

  it('a shape that is not non-negative integers is refused', () => {
    expect(() => fl.zeros([2, -1])).toThrow(/non-negative integers, got \[2,-1\]/);
    expect(() => fl.zeros([1.5])).toThrow(/non-negative integers/);
  });

  it("a tensor larger than the adapter's largest buffer is refused at the call, naming the sizes", async () => {
    const max = rt().pool.maxBufferSize;
    const elements = Math.floor(max / 4) + 1;
    const before = fl.stats().bufferAllocations;
    let msg = '';
    try {
      fl.zeros([elements]);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain(`[${elements}]`);
    expect(msg).toContain(String(elements * 4));
    expect(msg).toContain(String(max));
    expect(fl.stats().bufferAllocations).toBe(before);
    // Nothing was left half-made: the engine still works.
    expect(Array.from(await fl.ones([2]).data())).toEqual([1, 1]);
  });

  it('backward() on a non-scalar without a gradient says to pass one', () => {
    const x = fl.tensor([1, 2, 3], [3], { requiresGrad: true });
    const y = fl.tanh(x);
    expect(() => y.backward()).toThrow(
      "flstm: backward() without a gradient needs a scalar (one element, such as a loss of shape []); got a tensor of shape [3]: pass the output's gradient, backward(grad)",
    );
  });

  it('backward() on a tensor that needs no grad says so', () => {
    const x = fl.tensor([1, 2, 3], [3]);
    expect(() => fl.sum(x).backward()).toThrow(
      'flstm: backward() on a scalar (shape []) that does not require grad: none of the tensors it was computed from had requiresGrad: true',
    );
    expect(() => fl.tanh(x).backward(fl.ones([3]))).toThrow('flstm: backward() on a tensor of shape [3] that does not require grad');
  });

  it('backward() with a gradient of the wrong shape names both shapes', () => {
    const x = fl.tensor([1, 2, 3, 4], [4], { requiresGrad: true });
    const y = fl.tanh(x);
    expect(() => y.backward(fl.ones([3]))).toThrow(/gradient has shape \[3\], expected \[4\]/);
  });

  it('reshape to a different number of elements names both shapes', () => {
    const x = fl.zeros([2, 3]);
    expect(() => x.reshape([4, 2])).toThrow(/cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\]/);
  });

  it('an i32 tensor cannot require grad', () => {
    expect(() => fl.tensor([1, 2], [2], { dtype: 'i32', requiresGrad: true })).toThrow(/only f32 tensors can require grad/);
  });

  it('an adapter that does not match --adapter is named', async () => {
    // init() returns the open runtime when there is one; the check happens on a fresh init.
    fl.dispose();
    await expect(fl.init({ adapter: 'no-such-gpu-xyz' })).rejects.toThrow(
      /adapter "no-such-gpu-xyz" was asked for, but the adapter found is/,
    );
    await expect(fl.init({ adapter: '/no/such/icd.json' })).rejects.toThrow(/ICD file \/no\/such\/icd\.json does not exist/);
    await fl.init();
  });
});
