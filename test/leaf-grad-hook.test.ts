// backward()'s onLeafGrad: each leaf once, when its gradient is final (what data-parallel
// training reads back while the rest of the backward runs).
import { describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { useDevice } from './helpers.js';

useDevice();

describe('backward onLeafGrad', () => {
  it('names each leaf once, with the gradient it ends with, the leaves nearest the loss first', async () => {
    const w1 = fl.tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
    const w2 = fl.tensor([0.5, -1, 2, 0.25], [2, 2], { requiresGrad: true });
    const x = fl.tensor([1, -2], [1, 2]);
    // w1 is used twice, so its gradient is the sum of two parts: final only after both.
    const h = fl.tanh(fl.add(fl.matmul(x, w1), fl.matmul(fl.scale(x, 0.5), w1)));
    const loss = fl.sum(fl.matmul(h, w2));
    const seen: { leaf: fl.Tensor; grad: number[] }[] = [];
    const reads: Promise<void>[] = [];
    loss.backward(undefined, {
      onLeafGrad: (leaf) => {
        const entry = { leaf, grad: [] as number[] };
        seen.push(entry);
        reads.push(
          leaf.grad!.data().then((d) => {
            entry.grad = Array.from(d);
          }),
        );
      },
    });
    await Promise.all(reads);
    expect(seen.map((s) => s.leaf)).toEqual([w2, w1]);
    for (const s of seen) expect(s.grad).toEqual(Array.from(await s.leaf.grad!.data()));
  });
});
