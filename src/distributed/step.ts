// One data-parallel training step (data_parallel.ts): this rank's forward and backward on its
// streams, the gradients combined over the ranks through host memory, then the update every
// rank applies alike. trainStep (train/step.ts) is the same step in one process.
import { Tensor, tidy } from '../tensor.js';
import { full } from '../ops/create.js';
import type { LanguageModel } from '../nn/lm.js';
import type { LSTMState } from '../nn/lstm.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { StepBatch, StepRecipe } from '../train/step.js';
import { GradientBuckets, type DataParallel } from './data_parallel.js';

/**
 * A step of `b`, this rank's streams of the global batch. The loss returned is this rank's
 * (its mean over the ranks is the global batch's). The forward and backward are encoded, then
 * the gradients are read back, combined (waiting for the GPU and the other ranks), and the
 * update encoded.
 */
export async function dataParallelStep(
  model: LanguageModel,
  opt: Optimizer,
  b: StepBatch,
  state: LSTMState[] | undefined,
  o: StepRecipe,
  dp: DataParallel,
): Promise<{ loss: Tensor; state: LSTMState[] }> {
  const paper = o.gradientScale === 'paper';
  const streams = { offset: dp.world.rank * b.batchSize, total: b.batchSize * dp.size };
  const buckets = new GradientBuckets(model.parameters(), dp.precision);
  const fwd = tidy(() => {
    const r = model.trainLoss(b.inputs, b.targets, b.steps, b.batchSize, state, { sampled: o.sampled, seed: o.seed, streams });
    r.loss.backward(paper ? full([], b.steps) : undefined, { onLeafGrad: (leaf) => buckets.ready(leaf) });
    return r;
  });
  await dp.averageDense(buckets);
  const combined: { table: (typeof fwd.sparse)[number]['table']; ids: Int32Array; rows: Tensor }[] = [];
  for (const s of fwd.sparse) {
    // The rows a step updates lead the gradient (the padding after them is not read back).
    const ids = s.ids.subarray(0, s.updated ?? s.ids.length);
    const grad = s.rows.grad!;
    // The mean over the ranks; the paper's scale multiplies the embedding's rows by the global batch.
    const factor = (paper && s.table === model.embeddingTable ? b.batchSize * dp.size : 1) / dp.size;
    // The sampled softmax's samples lead its rows and are the same on every rank (they depend on the step's seed alone).
    const shared = s.table === model.embeddingTable ? 0 : Math.min(o.sampled, ids.length);
    combined.push({ table: s.table, ...(await dp.combineRows(ids, grad, factor, shared)) });
  }
  tidy(() => opt.step({ sparse: combined.flatMap((c) => c.table.sparseUpdates(c.ids, c.rows)) }));
  for (const c of combined) c.rows.dispose();
  for (const s of fwd.sparse) s.rows.dispose();
  model.zeroGrad();
  return { loss: fwd.loss, state: fwd.state };
}
