import { describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import {
  binaryBackwardRef,
  binaryRef,
  sumAxisBackwardRef,
  sumAxisRef,
  unaryBackwardRef,
  unaryRef,
  type UnaryRefOp,
} from '../src/ref/elementwise.js';
import { expectClose, f32, freshSeed, randomNd, toTensor, useDevice } from './helpers.js';

useDevice();

const SIZES = [1, 7, 33, 129, 1000];

describe('unary ops', () => {
  const ops: UnaryRefOp[] = ['sigmoid', 'tanh', 'relu', 'exp'];
  for (const op of ops) {
    it(`${op} forward and backward match the float64 reference`, async () => {
      for (const n of SIZES) {
        const seed = freshSeed();
        const x = f32(randomNd([n], seed, 3));
        const dy = f32(randomNd([n], seed + 1));
        const xt = toTensor(x, true);
        const y = (fl as unknown as Record<string, (t: fl.Tensor) => fl.Tensor>)[op](xt);
        y.backward(toTensor(dy));
        expectClose(await y.data(), unaryRef(op, x), { what: `${op} n=${n} seed=${seed}`, shape: y.shape });
        expectClose(await xt.grad!.data(), unaryBackwardRef(op, x, dy), { what: `${op}' n=${n} seed=${seed}` });
      }
    });
  }

  it('scale multiplies and its gradient is the factor', async () => {
    const seed = freshSeed();
    const x = f32(randomNd([129], seed));
    const xt = toTensor(x, true);
    const y = fl.scale(xt, -2.5);
    fl.sum(y).backward();
    expectClose(await y.data(), unaryRef('scale', x, -2.5));
    expectClose(await xt.grad!.data(), new Array(129).fill(-2.5));
  });
});

describe('binary ops with broadcasting', () => {
  const cases: [number[], number[]][] = [
    [[7], [7]],
    [
      [33, 129],
      [33, 129],
    ],
    [[33, 129], [129]],
    [[129], [33, 129]],
    [[1000, 7], [1]],
    [
      [2, 3, 5],
      [3, 5],
    ],
  ];
  for (const op of ['add', 'sub', 'mul'] as const) {
    for (const [sa, sb] of cases) {
      it(`${op} ${JSON.stringify(sa)} with ${JSON.stringify(sb)}: forward and both gradients`, async () => {
        const seed = freshSeed();
        const a = f32(randomNd(sa, seed));
        const b = f32(randomNd(sb, seed + 7));
        const at = toTensor(a, true);
        const bt = toTensor(b, true);
        const c = fl[op](at, bt);
        const want = binaryRef(op, a, b);
        const dy = f32(randomNd(want.shape, seed + 9));
        c.backward(toTensor(dy));
        expectClose(await c.data(), want, { what: `${op} seed=${seed}`, shape: c.shape });
        const [ga, gb] = binaryBackwardRef(op, a, b, dy);
        expectClose(await at.grad!.data(), ga, { what: `d${op}/da seed=${seed}`, atol: 1e-4 });
        expectClose(await bt.grad!.data(), gb, { what: `d${op}/db seed=${seed}`, atol: 1e-4 });
      });
    }
  }

  it('rejects shapes that do not broadcast, naming both', () => {
    const a = fl.zeros([3, 4]);
    const b = fl.zeros([3]);
    expect(() => fl.add(a, b)).toThrow(/\[3, 4\] and \[3\] do not broadcast/);
  });
});

describe('reductions', () => {
  const shapes: [number[], number | undefined][] = [
    [[1], undefined],
    [[1000], undefined],
    [[129, 33], undefined],
    [[129, 33], 0],
    [[129, 33], 1],
    [[7, 1000], 1],
    [[3, 129, 7], 1],
    [[3, 129, 7], -1],
    [[100000], undefined],
  ];
  for (const [shape, axis] of shapes) {
    for (const op of ['sum', 'mean'] as const) {
      it(`${op} of ${JSON.stringify(shape)} over axis ${axis ?? 'all'}: forward and backward`, async () => {
        const seed = freshSeed();
        const x = f32(randomNd(shape, seed));
        const xt = toTensor(x, true);
        const y = fl[op](xt, axis);
        const a = axis === undefined ? undefined : axis < 0 ? axis + shape.length : axis;
        const len = a === undefined ? x.data.length : shape[a];
        const alpha = op === 'mean' ? 1 / len : 1;
        const want = sumAxisRef(x, axis, alpha);
        const dy = f32(randomNd(want.shape, seed + 3));
        y.backward(toTensor(dy));
        expectClose(await y.data(), want, { what: `${op} seed=${seed}`, atol: 1e-4, shape: y.shape });
        expectClose(await xt.grad!.data(), sumAxisBackwardRef(shape, dy, axis, alpha), { what: `${op}' seed=${seed}` });
      });
    }
  }

  it('rejects an axis out of range', () => {
    expect(() => fl.sum(fl.zeros([2, 3]), 2)).toThrow(/axis 2 is out of range for a tensor of shape \[2, 3\]/);
  });
});
