// Checkpoints whose tensors are streamed (read a piece at a time as their file is written):
// the file is byte for byte the one of the same tensors in memory, for any piece size, sharded
// tables included; a read that fails or gives the wrong piece abandons the save and leaves the
// previous checkpoint; non-finite weights are named as the whole-weights check named them; and
// the largest buffer a save reads from the GPU is one piece, not a table.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { rt } from '../src/gpu/runtime.js';
import { encodeSafetensors, layoutSafetensors, safetensorsStream, type StreamedTensorInput } from '../src/train/safetensors.js';
import { CheckpointError, loadCheckpoint, saveCheckpoint, type CheckpointToSave } from '../src/train/checkpoint.js';
import { LanguageModel } from '../src/nn/lm.js';
import { makeMovingAverage, makeOptimizer, optimizerStateOf, stepSeed, trainStep, GRADIENT_SCALE } from '../src/train/step.js';
import { finiteWeights, NonFiniteWeights, streamedAverages, streamedModel, streamedOptimizer } from '../src/train/streamed_state.js';
import type { TrainConfig } from '../src/train/config.js';
import { writeTensor } from '../src/ops/create.js';
import type { LSTMState } from '../src/nn/lstm.js';
import { Optimizer } from '../src/optim/optimizer.js';
import { MovingAverage } from '../src/optim/moving_average.js';
import { train } from '../src/train/trainer.js';
import { corpusText } from './helpers.js';
import { Tensor } from '../src/tensor.js';
import type { TrainEvent } from '../src/train/trainer.js';

/** A binding cap that cuts the tables below into row shards (the LSTM's weights still fit one). */
const CAP = 32 * 1024;
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'flstm-stream-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  fl.dispose();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** `data` as a streamed tensor that records the size of every read. */
function streamedFrom(data: Float32Array | Int32Array, shape: number[], reads: number[] = []): StreamedTensorInput {
  return {
    dtype: data instanceof Int32Array ? 'I32' : 'F32',
    shape,
    read: async (offset, count) => {
      reads.push(count);
      return data.slice(offset, offset + count);
    },
  };
}

async function concat(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c.slice());
  return new Uint8Array(Buffer.concat(parts));
}

describe('streamed safetensors (host)', () => {
  const w = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 100);
  const ids = Int32Array.from({ length: 37 }, (_, i) => i * 7919 - 100000);
  const inMemory = encodeSafetensors(
    {
      w: { dtype: 'F32', shape: [100, 10], data: w },
      ids: { dtype: 'I32', shape: [37], data: ids },
      s: { dtype: 'F32', shape: [], data: [2] },
    },
    { note: 'x' },
  );

  it('writes the bytes of the same tensors in memory, each read at most a piece', async () => {
    for (const chunk of [4, 12, 1000, 4000, 1 << 26]) {
      const reads: number[] = [];
      const layout = layoutSafetensors(
        { w: streamedFrom(w, [100, 10], reads), ids: streamedFrom(ids, [37], reads), s: { dtype: 'F32', shape: [], data: [2] } },
        { note: 'x' },
      );
      expect(await concat(safetensorsStream(layout, chunk))).toEqual(inMemory);
      expect(Math.max(...reads)).toBeLessThanOrEqual(Math.max(1, chunk / 4));
      expect(reads.reduce((a, b) => a + b, 0)).toBe(1037);
    }
  });

  it('refuses a piece of the wrong length or type, naming the tensor and the values', async () => {
    const short: StreamedTensorInput = { dtype: 'F32', shape: [10], read: async (_o, n) => new Float32Array(n - 1) };
    await expect(concat(safetensorsStream(layoutSafetensors({ short }), 16))).rejects.toThrow(
      "tensor 'short' (F32 [10]): reading values [0, 4) gave 3 values of a Float32Array, expected 4 in a Float32Array",
    );
    const typed: StreamedTensorInput = { dtype: 'I32', shape: [2], read: async (_o, n) => new Float32Array(n) };
    await expect(concat(safetensorsStream(layoutSafetensors({ typed })))).rejects.toThrow('expected 2 in a Int32Array');
  });

  it('a read that fails abandons the save: the previous checkpoint stays and loads, no file of the new one is left', async () => {
    const dir = await tempDir();
    await saveCheckpoint(dir, { model: { w: { shape: [100, 10], data: w } }, config: { n: 1 } });
    const before = (await readdir(dir)).sort();
    let reads = 0;
    const failing: StreamedTensorInput = {
      dtype: 'F32',
      shape: [100, 10],
      read: async (offset, count) => {
        if (++reads === 3) throw new Error('the adapter was lost');
        return w.slice(offset, offset + count);
      },
    };
    const err = await saveCheckpoint(dir, { model: { w: failing }, config: { n: 2 } }, { pieceBytes: 400 }).catch((e) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err.message).toMatch(
      /failed while writing model-2\.safetensors \(the adapter was lost\); the previous checkpoint there, if any, is unchanged/,
    );
    expect((await readdir(dir)).sort()).toEqual(before);
    const back = await loadCheckpoint(dir);
    expect(back.config).toEqual({ n: 1 });
    expect(back.model.w.data).toEqual(w);
  });

  it('in-memory state dicts are still saved as before, and streamed and in-memory tensors mix', async () => {
    const [a, b] = [await tempDir(), await tempDir()];
    await saveCheckpoint(a, {
      model: { w: { shape: [100, 10], data: w } },
      optimizer: { tensors: { ids: { shape: [37], data: ids } }, scalars: { k: 1 } },
      config: {},
    });
    await saveCheckpoint(
      b,
      { model: { w: streamedFrom(w, [100, 10]) }, optimizer: { tensors: { ids: streamedFrom(ids, [37]) }, scalars: { k: 1 } }, config: {} },
      { pieceBytes: 64 },
    );
    for (const f of ['model-1.safetensors', 'optimizer-1.safetensors'])
      expect(await readFile(join(b, f))).toEqual(await readFile(join(a, f)));
    const bad = { model: { w: { ...streamedFrom(ids, [37]) } }, config: {} } as unknown as CheckpointToSave;
    await expect(saveCheckpoint(await tempDir(), bad)).rejects.toThrow("model tensor 'w' must be { shape, data: Float32Array }");
  });
});

/** A model trained a few steps with `optimizer`, its moving averages and its carried state. */
async function trainedRun(optimizer: TrainConfig['optimizer']) {
  const sizes = { layers: 1, emb: 16, hidden: 32, proj: 16, dropout: 0.1 };
  const cfg = {
    data: 'synthetic',
    model: { cell: 'lstm', ...sizes },
    batch: 4,
    bptt: 5,
    optimizer,
    lr: 0.2,
    clip: 1,
    sampled: 24,
    seed: 5,
    ema: 0.9,
    emaSchedule: 'warmup',
  } as unknown as TrainConfig;
  const model = new LanguageModel({ vocabSize: 2000, ...sizes, seed: 5 });
  const opt = makeOptimizer(cfg, model);
  const average = makeMovingAverage(cfg, model)!;
  const rng = new fl.Rng(11);
  let state: LSTMState[] | undefined;
  for (let i = 0; i < 4; i++) {
    const tokens = () => Int32Array.from({ length: 20 }, () => Math.floor(rng.uniform() ** 2 * 2000));
    const prev = state;
    fl.tidy(() => {
      const out = trainStep(model, opt, { inputs: tokens(), targets: tokens(), steps: 5, batchSize: 4 }, state, {
        gradientScale: GRADIENT_SCALE[optimizer],
        sampled: 24,
        seed: stepSeed(5, i),
      });
      state = out.state.map((s) => ({ h: s.h.keep(), c: s.c.keep() }));
    });
    average.update(i + 1);
    prev?.forEach((s) => (s.h.dispose(), s.c.dispose()));
  }
  const carried = { 'state.0.h': { shape: [4, 16], data: (await state![0].h.data()) as Float32Array } };
  return {
    model,
    opt,
    average,
    carried,
    dispose: () => (state?.forEach((s) => (s.h.dispose(), s.c.dispose())), average.dispose(), opt.dispose(), model.dispose()),
  };
}

describe('a trained model saved streamed', () => {
  it('writes the files the in-memory state dicts write, byte for byte, with sharded tables and any piece size', async () => {
    await fl.init({ maxBindingBytes: CAP });
    for (const optimizer of ['adagrad', 'adam'] as const) {
      const run = await trainedRun(optimizer);
      expect(run.model.softmaxTable.shards.length).toBe(4); // 2000 rows of 16 values, 512 rows a shard
      const config = { format: 'test', optimizer };
      const copy = await tempDir();
      await saveCheckpoint(copy, {
        model: { ...(await run.model.stateDict()), ...(await run.average.stateDict()), ...run.carried },
        optimizer: (await optimizerStateOf(run.model, run.opt)) as never,
        config,
        vocab: 'a\nb\n',
      });
      for (const pieceBytes of [1000, 8196, undefined]) {
        const streamed = await tempDir();
        await saveCheckpoint(
          streamed,
          {
            model: { ...streamedModel(run.model, finiteWeights(4)), ...streamedAverages(run.average), ...run.carried },
            optimizer: (await streamedOptimizer(run.model, run.opt)) as never,
            config,
            vocab: 'a\nb\n',
          },
          { pieceBytes },
        );
        for (const f of ['model-1.safetensors', 'optimizer-1.safetensors', 'vocab-1.txt']) {
          const [a, b] = [await readFile(join(copy, f)), await readFile(join(streamed, f))];
          expect(b.equals(a), `${optimizer} ${f} pieces of ${pieceBytes}`).toBe(true);
        }
      }
      run.dispose();
    }
    fl.dispose();
  });

  it('stops at a non-finite weight, naming it in the logical table as the whole-weights check did, and keeps the previous checkpoint', async () => {
    await fl.init({ maxBindingBytes: CAP });
    const run = await trainedRun('adagrad');
    const dir = await tempDir();
    const save = async () =>
      saveCheckpoint(
        dir,
        {
          model: streamedModel(run.model, finiteWeights(7)),
          optimizer: (await streamedOptimizer(run.model, run.opt)) as never,
          config: {},
        },
        { pieceBytes: 100 },
      );
    await saveCheckpoint(dir, { model: streamedModel(run.model, finiteWeights(7)), config: {} });
    const before = (await readdir(dir)).sort();
    // Row 1500 of the softmax table is in its third shard (rows 1024..1535): value 1500·16 + 3 of the table.
    const shard = run.model.softmaxTable.shards[2];
    const values = (await shard.param.data()) as Float32Array;
    values[(1500 - shard.start) * 16 + 3] = NaN;
    writeTensor(shard.param, values);
    const err = await save().catch((e) => e);
    expect(err.cause).toBeInstanceOf(NonFiniteWeights);
    expect(err.cause.why).toBe('the weights became NaN or infinite by step 7 (softmax_w[24003] = NaN)');
    expect((await readdir(dir)).sort()).toEqual(before);
    run.dispose();
    fl.dispose();
  });

  it("the trainer's saves copy no whole state (no stateDict() of the model, optimizer or averages), and the checkpoint holds every tensor", async () => {
    await fl.init({ maxBindingBytes: CAP });
    const dir = await tempDir();
    await writeFile(join(dir, 'train.txt'), corpusText(18, 11));
    const cfg = {
      data: `text:${join(dir, 'train.txt')}`,
      model: { cell: 'lstm', layers: 1, emb: 16, hidden: 32, proj: 16, dropout: 0 },
      batch: 4,
      bptt: 5,
      optimizer: 'adagrad',
      lr: 0.2,
      clip: 1,
      sampled: 8,
      seed: 3,
      ema: 0.9,
      emaSchedule: 'warmup',
    } as TrainConfig;
    const protos = [LanguageModel.prototype, Optimizer.prototype, MovingAverage.prototype] as { stateDict: () => unknown }[];
    const kept = protos.map((p) => p.stateDict);
    for (const p of protos)
      p.stateDict = () => {
        throw new Error('a whole copy of the state');
      };
    try {
      await train(cfg, { out: join(dir, 'run'), steps: 3, saveEvery: 2, evalTokens: 0 });
    } finally {
      protos.forEach((p, i) => (p.stateDict = kept[i]));
    }
    const ck = await loadCheckpoint(join(dir, 'run', 'checkpoint'));
    expect((ck.config as { step: number }).step).toBe(3);
    const names = Object.keys(ck.model);
    for (const name of ['embedding', 'softmax_w', 'softmax_b', 'state.0.h', 'state.0.c']) expect(names).toContain(name);
    expect(names.filter((n) => n.startsWith('ema.')).length).toBeGreaterThan(0);
    expect(Object.keys(ck.optimizer!.tensors)).toContain('softmax_w.acc');
    fl.dispose();
  });

  it('a weight read as NaN by a save stops the run as before: the message names it, that save is abandoned, the last good checkpoint stays', async () => {
    await fl.init();
    const dir = await tempDir();
    await writeFile(join(dir, 'train.txt'), corpusText(18, 11));
    const cfg = {
      data: `text:${join(dir, 'train.txt')}`,
      model: { cell: 'lstm', layers: 1, emb: 16, hidden: 32, proj: 16, dropout: 0 },
      batch: 4,
      bptt: 5,
      optimizer: 'adagrad',
      lr: 0.2,
      clip: 1,
      sampled: 8,
      seed: 3,
    } as TrainConfig;
    // After the save of step 2, the GPU gives the next piece read with a NaN first (as a weight gone bad would be read).
    const dataRange = Tensor.prototype.dataRange;
    let poison = false;
    Tensor.prototype.dataRange = async function (offset, count) {
      const piece = await dataRange.call(this, offset, count);
      if (poison) {
        poison = false;
        piece[0] = NaN;
      }
      return piece;
    };
    const events: TrainEvent[] = [];
    const out = join(dir, 'run');
    try {
      const onLog = (e: TrainEvent) => {
        events.push(e);
        if (e.type === 'checkpoint') poison = true;
      };
      const summary = await train(cfg, { out, steps: 6, saveEvery: 2, evalTokens: 0, onLog });
      expect(summary.stopReason).toBe('non-finite loss');
    } finally {
      Tensor.prototype.dataRange = dataRange;
    }
    const stopped = events.find((e) => e.type === 'stopped') as Extract<TrainEvent, { type: 'stopped' }>;
    expect(stopped.reason).toBe(
      `the weights became NaN or infinite by step 4 (embedding[0] = NaN); stopped. The last good checkpoint (step 2) is kept in ${join(out, 'checkpoint')}.`,
    );
    expect(events.filter((e) => e.type === 'checkpoint').map((e) => e.step)).toEqual([2]);
    const ck = await loadCheckpoint(join(out, 'checkpoint'));
    expect((ck.config as { step: number }).step).toBe(2);
    expect((await readdir(join(out, 'checkpoint'))).sort()).toEqual([
      'config.json',
      'model-1.safetensors',
      'optimizer-1.safetensors',
      'vocab-1.txt',
    ]);
    fl.dispose();
  });
});
