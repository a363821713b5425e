// The float64 references are themselves checked: their analytic backward against central
// finite differences of their forward (no GPU involved).
import { describe, expect, it } from 'vitest';
import {
  binaryBackwardRef,
  binaryRef,
  sumAxisBackwardRef,
  sumAxisRef,
  unaryBackwardRef,
  unaryRef,
  type UnaryRefOp,
} from '../src/ref/elementwise.js';
import { groupedMatmulBackwardRef, groupedMatmulRef, matmulBackwardRef, matmulRef } from '../src/ref/matmul.js';
import { dot, numericGrad } from '../src/ref/gradcheck.js';
import { freshSeed, randomNd } from './helpers.js';

function expectGrad(analytic: Float64Array, numeric: Float64Array, what: string): void {
  expect(analytic.length, what).toBe(numeric.length);
  for (let i = 0; i < numeric.length; i++) {
    const tol = 1e-6 + 1e-5 * Math.abs(numeric[i]);
    if (!(Math.abs(analytic[i] - numeric[i]) <= tol)) {
      throw new Error(`${what}: element ${i}: analytic ${analytic[i]} vs finite difference ${numeric[i]}`);
    }
  }
}

describe('float64 references agree with finite differences', () => {
  it('unary ops', () => {
    for (const op of ['sigmoid', 'tanh', 'exp', 'relu', 'scale'] as UnaryRefOp[]) {
      const seed = freshSeed();
      const x = randomNd([33], seed, 2);
      // keep relu away from its kink
      if (op === 'relu')
        x.data.forEach((v, i) => {
          if (Math.abs(v) < 1e-3) x.data[i] = 0.5;
        });
      const w = randomNd([33], seed + 1);
      const num = numericGrad(() => dot(w, unaryRef(op, x, 1.7, 0.3)), x);
      expectGrad(unaryBackwardRef(op, x, w, 1.7).data, num, `${op} seed=${seed}`);
    }
  });

  it('binary ops with broadcasting', () => {
    for (const op of ['add', 'sub', 'mul'] as const) {
      for (const [sa, sb] of [
        [
          [7, 5],
          [7, 5],
        ],
        [[7, 5], [5]],
        [[5], [3, 5]],
      ] as number[][][]) {
        const seed = freshSeed();
        const a = randomNd(sa, seed);
        const b = randomNd(sb, seed + 1);
        const w = randomNd(binaryRef(op, a, b).shape, seed + 2);
        const [ga, gb] = binaryBackwardRef(op, a, b, w);
        expectGrad(
          ga.data,
          numericGrad(() => dot(w, binaryRef(op, a, b)), a),
          `${op} da seed=${seed}`,
        );
        expectGrad(
          gb.data,
          numericGrad(() => dot(w, binaryRef(op, a, b)), b),
          `${op} db seed=${seed}`,
        );
      }
    }
  });

  it('sum over an axis and over everything', () => {
    for (const axis of [undefined, 0, 1, 2]) {
      const seed = freshSeed();
      const x = randomNd([3, 4, 5], seed);
      const w = randomNd(sumAxisRef(x, axis).shape, seed + 1);
      expectGrad(
        sumAxisBackwardRef([3, 4, 5], w, axis, 0.5).data,
        numericGrad(() => dot(w, sumAxisRef(x, axis, 0.5)), x),
        `sum axis ${axis}`,
      );
    }
  });

  it('matmul with every transpose, batching, bias and activation', () => {
    for (const [tA, tB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      for (const activation of ['none', 'sigmoid', 'tanh'] as const) {
        const seed = freshSeed();
        const [M, K, N, batch] = [3, 4, 5, 2];
        const a = randomNd([batch, ...(tA ? [K, M] : [M, K])], seed);
        const b = randomNd(tB ? [N, K] : [K, N], seed + 1); // shared over the batch
        const bias = randomNd([N], seed + 2);
        const o = { transposeA: tA, transposeB: tB, bias, activation };
        const w = randomNd([batch, M, N], seed + 3);
        const g = matmulBackwardRef(a, b, w, o);
        const f = () => dot(w, matmulRef(a, b, o));
        const tag = `tA=${tA} tB=${tB} ${activation} seed=${seed}`;
        expectGrad(g.da.data, numericGrad(f, a), `matmul da ${tag}`);
        expectGrad(g.db.data, numericGrad(f, b), `matmul db ${tag}`);
        expectGrad(g.dbias!.data, numericGrad(f, bias), `matmul dbias ${tag}`);
      }
    }
  });

  it('grouped matmul', () => {
    const seed = freshSeed();
    const x = randomNd([3, 6], seed);
    const wt = randomNd([3, 2, 4], seed + 1);
    const w = randomNd([3, 12], seed + 2);
    const g = groupedMatmulBackwardRef(x, wt, w);
    const f = () => dot(w, groupedMatmulRef(x, wt));
    expectGrad(g.dx.data, numericGrad(f, x), `grouped dx seed=${seed}`);
    expectGrad(g.dw.data, numericGrad(f, wt), `grouped dw seed=${seed}`);
  });
});
