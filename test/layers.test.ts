// Op modules work imported on their own, without the package entry (src/index.ts): nothing is
// registered by a side-effect import, so backward through a reshape runs.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { init, dispose } from '../src/engine.js';
import { tensor } from '../src/ops/create.js';
import { mul } from '../src/ops/elementwise.js';
import { sum } from '../src/ops/reduce.js';

beforeAll(async () => {
  await init();
});
afterAll(() => dispose());

it('backward through reshape, with no import of src/index.ts', async () => {
  const x = tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
  const y = sum(mul(x.reshape([3, 2]), x.reshape([3, 2])));
  y.backward();
  expect(Array.from((await x.grad!.data()) as Float32Array)).toEqual([2, 4, 6, 8, 10, 12]);
});
