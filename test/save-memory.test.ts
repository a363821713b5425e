// The host memory of a checkpoint save at a large vocabulary: a model whose two tables are
// about 100 MiB each (with their Adagrad state, about 390 MiB of tensors, each table in four
// shards) is saved with its tensors streamed in 4 MiB pieces. Every read the save makes from
// the GPU goes through the runtime's read, which is counted here: the largest is one piece,
// never a table (a whole copy read a shard, 32 MiB, or joined the table on the host). The
// growth of the process's ArrayBuffer memory during the writing, sampled at each written
// chunk, is printed and bounded loosely (the garbage collector frees read pieces when it runs,
// so it is a figure to read, not an exact one); the count of the largest read is the exact one.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { rt } from '../src/gpu/runtime.js';
import { saveCheckpoint } from '../src/train/checkpoint.js';
import { LanguageModel } from '../src/nn/lm.js';
import { makeOptimizer } from '../src/train/step.js';
import { streamedModel, streamedOptimizer } from '../src/train/streamed_state.js';
import type { TrainConfig } from '../src/train/config.js';

const MiB = 1 << 20;
const PIECE = 4 * MiB;
let dir = '';
afterAll(async () => {
  fl.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('a save reads the GPU one piece at a time: the largest host buffer is the piece, not the table', async () => {
  await fl.init({ maxBindingBytes: 32 * MiB });
  const V = 100_000;
  const D = 256;
  const tableBytes = V * D * 4;
  const model = new LanguageModel({ vocabSize: V, emb: D, layers: 1, hidden: D, seed: 1, drawTables: false });
  const opt = makeOptimizer({ optimizer: 'adagrad', lr: 0.2, clip: 0 } as TrainConfig, model);
  expect(model.embeddingTable.shards.length).toBe(4);
  dir = await mkdtemp(join(tmpdir(), 'flstm-save-memory-'));

  const runtime = rt();
  const read = runtime.read.bind(runtime);
  let largest = 0;
  let total = 0;
  runtime.read = async (buffer, bytes, offset) => {
    largest = Math.max(largest, bytes);
    total += bytes;
    return read(buffer, bytes, offset);
  };
  const base = process.memoryUsage().arrayBuffers;
  let peak = base;
  try {
    const optimizer = await streamedOptimizer(model, opt);
    await saveCheckpoint(
      dir,
      { model: streamedModel(model), optimizer: optimizer as never, config: {} },
      { pieceBytes: PIECE, onBytes: () => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)) },
    );
  } finally {
    delete (runtime as { read?: unknown }).read;
  }
  const written = (await stat(join(dir, 'model-1.safetensors'))).size + (await stat(join(dir, 'optimizer-1.safetensors'))).size;
  console.log(
    `save of ${(written / MiB).toFixed(0)} MiB (tables of ${(tableBytes / MiB).toFixed(1)} MiB): largest GPU read ${(largest / MiB).toFixed(1)} MiB, ` +
      `ArrayBuffer growth at most ${((peak - base) / MiB).toFixed(1)} MiB while writing`,
  );
  expect(total).toBeGreaterThanOrEqual(4 * tableBytes); // every value of both tables and their state was read
  expect(written).toBeGreaterThanOrEqual(4 * tableBytes);
  expect(largest).toBeLessThanOrEqual(PIECE);
  expect(peak - base).toBeLessThan(tableBytes);
  opt.dispose();
  model.dispose();
}, 120_000);
