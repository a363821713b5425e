// Kernel cases of the elementwise ops (with broadcasting) and the reductions.
import { add, exp, mul, relu, scale, sigmoid, sub, tanh } from '../ops/elementwise.js';
import { mean, sum } from '../ops/reduce.js';
import type { Tensor } from '../tensor.js';
import {
  binaryBackwardRef,
  binaryRef,
  sumAxisBackwardRef,
  sumAxisRef,
  unaryBackwardRef,
  unaryRef,
  type UnaryRefOp,
} from '../ref/elementwise.js';
import { close, randomNd, T, type CheckCase } from './check.js';

const UNARY: [UnaryRefOp, (x: Tensor) => Tensor][] = [
  ['sigmoid', sigmoid],
  ['tanh', tanh],
  ['relu', relu],
  ['exp', exp],
];
const BINARY: ['add' | 'sub' | 'mul', (a: Tensor, b: Tensor) => Tensor][] = [
  ['add', add],
  ['sub', sub],
  ['mul', mul],
];
/** [a's shape, b's shape]: equal, b broadcast along rows, a broadcast, a scalar b, a 3-D a. */
const BROADCASTS = [
  [[7], [7]],
  [[33, 129], [129]],
  [[129], [33, 129]],
  [[1000, 7], [1]],
  [
    [2, 3, 5],
    [3, 5],
  ],
];
/** [shape, axis]: the whole tensor, or one axis. */
const REDUCTIONS: [number[], number | undefined][] = [
  [[1], undefined],
  [[1000], undefined],
  [[129, 33], 0],
  [[129, 33], 1],
  [[3, 129, 7], 1],
  [[100000], undefined],
];

function unaryCases(): CheckCase[] {
  const cases = UNARY.map(
    ([op, f]): CheckCase => ({
      group: 'elementwise',
      name: op,
      run: async (seed) => {
        for (const n of [1, 7, 129, 1000]) {
          const x = randomNd([n], seed, 3);
          const dy = randomNd([n], seed + 1);
          const xt = T(x, true);
          const y = f(xt);
          y.backward(T(dy));
          close(await y.data(), unaryRef(op, x), `${op} n=${n}`);
          close(await xt.grad!.data(), unaryBackwardRef(op, x, dy), `${op}' n=${n}`);
          seed += 10;
        }
      },
    }),
  );
  cases.push({
    group: 'elementwise',
    name: 'scale',
    run: async (seed) => {
      const x = randomNd([129], seed);
      const xt = T(x, true);
      const y = scale(xt, -2.5);
      sum(y).backward();
      close(await y.data(), unaryRef('scale', x, -2.5), 'y');
      close(await xt.grad!.data(), new Array(129).fill(-2.5), 'dx');
    },
  });
  return cases;
}

function binaryCases(): CheckCase[] {
  return BINARY.map(
    ([op, f]): CheckCase => ({
      group: 'elementwise',
      name: `${op} with broadcasting`,
      run: async (seed) => {
        for (const [sa, sb] of BROADCASTS) {
          const a = randomNd(sa, seed);
          const b = randomNd(sb, seed + 7);
          const at = T(a, true);
          const bt = T(b, true);
          const c = f(at, bt);
          const want = binaryRef(op, a, b);
          const dy = randomNd(want.shape, seed + 9);
          c.backward(T(dy));
          close(await c.data(), want, `${op} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`);
          const [ga, gb] = binaryBackwardRef(op, a, b, dy);
          close(await at.grad!.data(), ga, 'da', 1e-4);
          close(await bt.grad!.data(), gb, 'db', 1e-4);
          seed += 10;
        }
      },
    }),
  );
}

function reduceCases(): CheckCase[] {
  return (['sum', 'mean'] as const).map(
    (op): CheckCase => ({
      group: 'reduce',
      name: op,
      run: async (seed) => {
        for (const [shape, axis] of REDUCTIONS) {
          const x = randomNd(shape, seed);
          const xt = T(x, true);
          const y = (op === 'sum' ? sum : mean)(xt, axis);
          const alpha = op === 'mean' ? 1 / (axis === undefined ? x.data.length : shape[axis]) : 1;
          const want = sumAxisRef(x, axis, alpha);
          const dy = randomNd(want.shape, seed + 3);
          y.backward(T(dy));
          close(await y.data(), want, `${op} ${JSON.stringify(shape)} axis ${axis ?? 'all'}`, 1e-4);
          close(await xt.grad!.data(), sumAxisBackwardRef(shape, dy, axis, alpha), 'dx');
          seed += 10;
        }
      },
    }),
  );
}

export function elementwiseCases(): CheckCase[] {
  return [...unaryCases(), ...binaryCases(), ...reduceCases()];
}
