// Loads read a model file a piece at a time into the parameters (a table into its shards):
// a streamed load gives the model, bit for bit, that a whole read of the file loaded with
// loadStateDict gives (weights, averages, carried state, its evaluation), with pieces that
// cross rows and shards; a resume's optimizer state and moving averages are the whole read's; a damaged value is
// refused with the whole read's message (the file, the tensor, the index); and the host
// holds one piece of a table, never the table: every upload the load makes is counted (as
// save-memory.test.ts counts a save's reads).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { rt } from '../src/gpu/runtime.js';
import { parseSafetensorsHeader } from '../src/train/safetensors.js';
import { train } from '../src/train/trainer.js';
import type { CheckpointConfig, TrainConfig } from '../src/train/config.js';
import { loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint.js';
import { modelFileParts } from '../src/train/checkpoint_schema.js';
import { loadModel, modelFromCheckpoint, readLmCheckpoint } from '../src/train/load.js';
import { loadedModelOptions, loadOptimizerState, makeMovingAverage, makeOptimizer, modelOptions } from '../src/train/step.js';
import { fillAverages, fillOptimizer } from '../src/train/streamed_load.js';
import type { OptimizerStateInput } from '../src/optim/optimizer.js';
import { evaluate } from '../src/train/evaluate.js';
import { loadCorpus } from '../src/data/corpus.js';
import { LanguageModel } from '../src/nn/lm.js';
import type { StateDict } from '../src/nn/module.js';
import { streamedModel, streamedOptimizer } from '../src/train/streamed_state.js';
import { AVERAGE_PREFIX } from '../src/optim/moving_average.js';
import { brownExcerpt } from '../tools/build-web.mjs';

const MiB = 1 << 20;
const dirs: string[] = [];
afterAll(async () => {
  fl.dispose();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** The old load: the model file read whole, the weights (averaged ones replaced) given to loadStateDict. */
async function wholeLoad(dir: string, averaged: boolean): Promise<LanguageModel> {
  const ck = await loadCheckpoint<CheckpointConfig>(dir, { optimizer: false });
  const parts = modelFileParts(ck.model);
  const weights: StateDict = { ...parts.weights };
  if (averaged) for (const [k, v] of Object.entries(parts.averages)) weights[k.slice(AVERAGE_PREFIX.length)] = v;
  const model = new LanguageModel({ ...loadedModelOptions(ck.config.train, ck.config.vocabSize), drawTables: false });
  model.loadStateDict(weights);
  return model;
}

/** Writes `value` over value `index` of tensor `name` in the .safetensors file `file`. */
async function damage(file: string, name: string, index: number, value: number): Promise<void> {
  const bytes = new Uint8Array(await readFile(file));
  const { spans, dataStart } = parseSafetensorsHeader(bytes, bytes.length, file);
  const span = spans.find((s) => s.name === name)!;
  new DataView(bytes.buffer).setFloat32(dataStart + span.begin + index * 4, value, true);
  await writeFile(file, bytes);
}

function bits(d: Float32Array): Uint32Array {
  return new Uint32Array(d.buffer, d.byteOffset, d.length);
}

async function expectSameWeights(a: LanguageModel, b: LanguageModel): Promise<void> {
  const da = await a.stateDict();
  const db = await b.stateDict();
  expect(Object.keys(db)).toEqual(Object.keys(da));
  for (const [k, t] of Object.entries(da))
    expect(
      bits(db[k].data).every((v, i) => v === bits(t.data)[i]),
      k,
    ).toBe(true);
}

describe('streamed loads', () => {
  it("a model loaded a piece at a time is the model a whole read loads, bit for bit, with sharded tables; and so is a resume's optimizer state", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flstm-streamed-load-'));
    dirs.push(dir);
    const lines = brownExcerpt(1).split('\n');
    await writeFile(join(dir, 'train.txt'), lines.slice(0, 1500).join('\n'));
    await writeFile(join(dir, 'valid.txt'), lines.slice(1500, 1520).join('\n'));
    const cfg: TrainConfig = {
      data: `text:${join(dir, 'train.txt')},${join(dir, 'valid.txt')}`,
      model: { cell: 'lstm', layers: 1, emb: 16, hidden: 32, proj: 16, dropout: 0.1 },
      batch: 4,
      bptt: 10,
      optimizer: 'adagrad',
      lr: 0.2,
      clip: 1,
      sampled: 16,
      seed: 9,
      maxVocab: 1999,
      ema: 0.9,
    };
    // 32 KiB hold 512 rows of 16 floats: each table in 4 shards.
    await fl.init({ maxBindingBytes: 32 * 1024 });
    await train(cfg, { logEvery: 1, saveEvery: 1000, evalTokens: 0, out: join(dir, 'run'), steps: 6 });
    const ckDir = join(dir, 'run', 'checkpoint');
    const config = JSON.parse(await readFile(join(ckDir, 'config.json'), 'utf8')).config as CheckpointConfig;
    expect(config.stateLayers).toBe(1);
    const corpus = await loadCorpus(cfg.data, { maxVocab: cfg.maxVocab });
    for (const weights of ['average', 'trained'] as const) {
      // 1000 bytes: 250 values, pieces that start mid-row and cross from shard to shard.
      const streamed = await loadModel(ckDir, { weights, pieceBytes: 1000 });
      expect(streamed.model.softmaxTable.shards.length).toBe(4);
      const whole = await wholeLoad(ckDir, weights === 'average');
      await expectSameWeights(streamed.model, whole);
      // The carried state is the file's.
      const ck = await loadCheckpoint(ckDir, { optimizer: false });
      expect(Array.from(await streamed.state![0].h.data())).toEqual(Array.from(ck.model['state.0.h'].data));
      expect(Array.from(await streamed.state![0].c.data())).toEqual(Array.from(ck.model['state.0.c'].data));
      const o = { batchSize: 4, bptt: 10, maxTokens: 120 };
      const a = await evaluate(streamed.model, corpus.splits.valid!, o);
      const b = await evaluate(whole, corpus.splits.valid!, o);
      expect(a.loss).toBe(b.loss);
      streamed.model.dispose();
      for (const s of streamed.state!) (s.h.dispose(), s.c.dispose());
      whole.dispose();
    }
    // A resume's optimizer state, each table's slots streamed into their shards, is the whole read's.
    const open = await readLmCheckpoint(ckDir);
    const resumed = await modelFromCheckpoint(open.ck, open.config, open.config.train, ckDir, false, false, 1000);
    const opt = makeOptimizer(open.config.train, resumed.model);
    await fillOptimizer(resumed.model, opt, open.ck.optimizer!, join(ckDir, open.ck.files.optimizer!), 1000);
    const average = makeMovingAverage(open.config.train, resumed.model)!;
    await fillAverages(average, resumed.averages, join(ckDir, open.ck.files.model), 'the checkpoint', 1000);
    await open.ck.close();
    const ck = await loadCheckpoint(ckDir);
    const averages = await average.stateDict();
    expect(Object.keys(averages).sort()).toEqual(Object.keys(modelFileParts(ck.model).averages).sort());
    for (const [k, t] of Object.entries(averages)) expect(Array.from(t.data), k).toEqual(Array.from(ck.model[k].data));
    average.dispose();
    const model = new LanguageModel({ ...modelOptions(open.config.train, open.config.vocabSize), drawTables: false });
    const opt2 = makeOptimizer(open.config.train, model);
    loadOptimizerState(model, opt2, ck.optimizer as OptimizerStateInput);
    const [a, b] = [await opt.stateDict(), await opt2.stateDict()];
    expect(a.scalars).toEqual(b.scalars);
    expect(Object.keys(a.tensors)).toEqual(Object.keys(b.tensors));
    for (const [k, t] of Object.entries(b.tensors))
      expect(
        bits(a.tensors[k].data as Float32Array).every((v, i) => v === bits(t.data as Float32Array)[i]),
        k,
      ).toBe(true);
    for (const x of [opt, opt2, resumed.model, model]) x.dispose();
    for (const s of resumed.state!) (s.h.dispose(), s.c.dispose());

    // A damaged value past the first piece: the streamed load refuses it with the whole read's message.
    const modelFile = join(ckDir, ck.files.model);
    await damage(modelFile, 'embedding', 5000, NaN);
    const nan = `flstm: ${modelFile} is corrupt: 'embedding' holds NaN at index 5000 (a trained weight is a finite number)`;
    await expect(loadCheckpoint(ckDir)).rejects.toThrow(nan);
    await expect(loadModel(ckDir, { pieceBytes: 1000 })).rejects.toThrow(nan);
    await damage(modelFile, 'embedding', 5000, 0.5);
    const optFile = join(ckDir, ck.files.optimizer!);
    await damage(optFile, 'softmax_w.acc', 3001, -1);
    const negative = `flstm: ${optFile}: tensor 'softmax_w.acc' at index 3001 must be a finite, non-negative number (the adagrad state), got -1`;
    await expect(loadCheckpoint(ckDir)).rejects.toThrow(negative);
    await expect(
      train(cfg, { logEvery: 1, saveEvery: 1000, evalTokens: 0, out: join(dir, 'run'), steps: 8, resume: true }),
    ).rejects.toThrow(negative);
    fl.dispose();
  }, 120_000);

  it('a load uploads one piece at a time: the largest host buffer is the piece, not the table', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flstm-load-memory-'));
    dirs.push(dir);
    await fl.init({ maxBindingBytes: 8 * MiB });
    const piece = MiB;
    const V = 50_000;
    const D = 128;
    const tableBytes = V * D * 4;
    const train: TrainConfig = {
      data: 'brown',
      model: { cell: 'lstm', layers: 1, emb: D, hidden: D, proj: 0, dropout: 0 },
      batch: 2,
      bptt: 5,
      optimizer: 'adagrad',
      lr: 0.2,
      clip: 1,
      sampled: 16,
      seed: 3,
      validation: { every: 100 },
    } as TrainConfig;
    const config = { format: 'flstm-lm/1', train, vocabSize: V, step: 0, epoch: 0, batchIndex: 0, stateLayers: 0 };
    const vocab = Array.from({ length: V }, (_, i) => `w${i} 1`).join('\n') + '\n';
    const model = new LanguageModel({ ...loadedModelOptions(train, V), seed: 5 });
    expect(model.embeddingTable.shards.length).toBe(4);
    const opt = makeOptimizer(train, model);
    await saveCheckpoint(dir, { model: streamedModel(model), optimizer: (await streamedOptimizer(model, opt)) as never, config, vocab });

    const recorder = rt().recorder;
    const upload = recorder.upload.bind(recorder);
    let largest = 0;
    let total = 0;
    const base = process.memoryUsage().arrayBuffers;
    let peak = base;
    recorder.upload = (dst, data, offset) => {
      largest = Math.max(largest, data.byteLength);
      total += data.byteLength;
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
      upload(dst, data, offset);
    };
    let loaded;
    let opt2;
    try {
      loaded = await loadModel(dir, { pieceBytes: piece });
      // A resume's optimizer file: the tables' Adagrad state, streamed as the weights are.
      const open = await readLmCheckpoint(dir);
      opt2 = makeOptimizer(train, loaded.model);
      await fillOptimizer(loaded.model, opt2, open.ck.optimizer!, join(dir, open.ck.files.optimizer!), piece);
      await open.ck.close();
    } finally {
      delete (recorder as { upload?: unknown }).upload;
    }
    console.log(
      `load of two tables and their Adagrad state, each of ${(tableBytes / MiB).toFixed(1)} MiB in ${piece / MiB} MiB pieces: largest upload ${(largest / MiB).toFixed(2)} MiB, ` +
        `ArrayBuffer growth at most ${((peak - base) / MiB).toFixed(1)} MiB while loading`,
    );
    expect(total).toBeGreaterThanOrEqual(4 * tableBytes); // every value of both tables and their state was written
    expect(largest).toBeLessThanOrEqual(piece);
    // Loose (the garbage collector frees what it frees when it runs): a few pieces, far from a table.
    expect(peak - base).toBeLessThan(tableBytes / 4);
    await expectSameWeights(loaded.model, model);
    const [a, b] = [await opt2.stateDict(), await opt.stateDict()];
    for (const [k, t] of Object.entries(b.tensors))
      expect(
        Array.from(a.tensors[k].data).every((v, i) => v === t.data[i]),
        k,
      ).toBe(true);
    for (const x of [opt, opt2, loaded.model, model]) x.dispose();
  }, 120_000);
});
