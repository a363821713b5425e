// The schema of a checkpoint's files (src/train/checkpoint_schema.ts): config.json's fields,
// the model file's copies of the config and vocabulary, the tensors a config implies, the
// optimizer state, the vocabulary, and stray files in the folder. Each refusal is one message
// `flstm: <file>: <field> must be <expected>, got <value>`.
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { loadCheckpoint, saveCheckpoint, fileGeneration, type Checkpoint } from '../src/train/checkpoint.js';
import { lmTensorShapes, checkLmConfig } from '../src/train/checkpoint_schema.js';
import { loadModel, readLmCheckpoint } from '../src/train/load.js';
import type { CheckpointConfig } from '../src/train/config.js';
import { LanguageModel } from '../src/nn/lm.js';
import { Adagrad } from '../src/optim/adagrad.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'flstm-schema-'));
  dirs.push(d);
  return d;
}
beforeAll(async () => {
  await fl.init();
});
afterAll(async () => {
  fl.dispose();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const VOCAB = '<unk> 0\n<eos> 0\nthe 5\ncat 3\nsat 2\non 1\n';

function lmConfig(optimizer: 'adam' | 'adagrad' = 'adam'): CheckpointConfig {
  return {
    format: 'flstm-lm/1',
    train: {
      data: 'brown',
      model: { cell: 'glstm', layers: 2, emb: 8, hidden: 8, proj: 4, groups: 2, dropout: 0 },
      batch: 2,
      bptt: 3,
      optimizer,
      lr: 0.002,
      clip: 1,
      sampled: 0,
      seed: 1,
      ema: 0.9,
    },
    vocabSize: 6,
    step: 3,
    epoch: 0,
    batchIndex: 3,
    stateLayers: 2,
    seconds: 1.5,
    schedule: { lr: 0.002, sinceBest: 0 },
  };
}

/** A language-model checkpoint made on the host: every tensor the config implies, small values. */
function lmCheckpoint(config = lmConfig()): Checkpoint {
  const model: Checkpoint['model'] = {};
  for (const [name, shape] of lmTensorShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    model[name] = { shape, data: Float32Array.from({ length: n }, (_, i) => ((i % 7) - 3) / 100) };
  }
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, e] of Object.entries(model)) {
    if (name.startsWith('state.') || name.startsWith('ema.')) continue;
    const slots = config.train.optimizer === 'adam' ? ['m', 'v'] : ['acc'];
    for (const s of slots) tensors[`${name}.${s}`] = { shape: e.shape, data: new Float32Array(e.data.length).fill(s === 'm' ? 0.01 : 0.5) };
  }
  const scalars = {
    kind: config.train.optimizer,
    step: 3,
    nonFiniteSteps: 0,
    attempts: 3,
    beta1Power: 0.729,
    beta2Power: 0.997,
    options: { lr: config.train.lr },
  };
  return { model, optimizer: { tensors, scalars }, config, vocab: VOCAB };
}

async function saved(ck = lmCheckpoint()): Promise<string> {
  const dir = await tempDir();
  await saveCheckpoint(dir, ck);
  return dir;
}

/** config.json with `edit` applied to its "config" (the model file's copy is left as saved). */
async function editConfig(dir: string, edit: (c: any) => void): Promise<void> {
  const m = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  edit(m.config);
  await writeFile(join(dir, 'config.json'), JSON.stringify(m));
}

/** A recorded text file (config.corpus, data/identity.ts). */
const TEXT_FILE = { path: '/data/a.txt', bytes: 120, sha256: 'ab'.repeat(32) };

describe('config.json', () => {
  it('a checkpoint made to the schema loads, in every reader', async () => {
    const dir = await saved();
    const ck = await loadCheckpoint(dir);
    expect(ck.config).toEqual(lmConfig());
    const lm = await readLmCheckpoint(dir);
    expect(lm.vocab.size).toBe(6);
    await lm.ck.close();
  });

  it('a recorded corpus (config.corpus: text files, an lm1b directory) loads, in every reader', async () => {
    for (const [data, corpus] of [
      ['text:a.txt,b.txt', { kind: 'text', files: [TEXT_FILE, { ...TEXT_FILE, path: '/data/b.txt' }] }],
      ['lm1b:/data/lm1b', { kind: 'lm1b', dir: '/data/lm1b', trainShards: 99, trainBytes: 4_000_000_000 }],
    ] as const) {
      const config = { ...lmConfig(), corpus, train: { ...lmConfig().train, data } } as CheckpointConfig;
      const dir = await saved(lmCheckpoint(config));
      expect((await loadCheckpoint(dir)).config).toEqual(config);
      const lm = await readLmCheckpoint(dir);
      expect(lm.config.corpus).toEqual(corpus);
      await lm.ck.close();
      const m = await loadModel(dir);
      expect(m.config.corpus).toEqual(corpus);
      m.model.dispose();
      for (const st of m.state ?? []) (st.h.dispose(), st.c.dispose());
    }
  });

  it.each([
    ['step', (c: any) => (c.step = -5), 'config.step must be a non-negative integer, got -5'],
    ['epoch', (c: any) => (c.epoch = 1.5), 'config.epoch must be a non-negative integer, got 1.5'],
    ['batchIndex', (c: any) => (c.batchIndex = '3'), 'config.batchIndex must be a non-negative integer, got "3"'],
    ['vocabSize', (c: any) => (c.vocabSize = 0), 'config.vocabSize must be a positive integer, got 0'],
    ['model', (c: any) => delete c.train.model, 'config.train.model must be an object, got nothing (the field is missing)'],
    [
      'cell',
      (c: any) => (c.train.model.cell = 'xlstm'),
      'config.train.model.cell must be one of lstm, flstm, glstm (as --cell takes), got "xlstm"',
    ],
    ['hidden', (c: any) => (c.train.model.hidden = -8), 'config.train.model.hidden must be a positive integer (as --hidden takes), got -8'],
    ['batch', (c: any) => (c.train.batch = 2.5), 'config.train.batch must be a positive integer (as --batch takes), got 2.5'],
    ['lr', (c: any) => (c.train.lr = 0), 'config.train.lr must be a positive number (as --lr takes), got 0'],
    [
      'optimizer',
      (c: any) => (c.train.optimizer = 'rmsprop'),
      'config.train.optimizer must be adagrad, adam or sgd (as --optimizer takes), got "rmsprop"',
    ],
    [
      'dropout',
      (c: any) => (c.train.model.dropout = 1),
      'config.train.model.dropout must be a number in [0, 1) (as --dropout takes), got 1',
    ],
    [
      'groups',
      (c: any) => (c.train.model.groups = 3),
      'config.train.model must be sizes that make a model (layer 1: glstm groups k=3 must divide',
    ],
    ['stateLayers', (c: any) => (c.stateLayers = 1), 'config.stateLayers must be 0 or config.train.model.layers (2), got 1'],
    ['seconds', (c: any) => (c.seconds = -1), 'config.seconds must be a finite number >= 0, got -1'],
    ['schedule', (c: any) => (c.schedule.sinceBest = null), 'config.schedule.sinceBest must be a non-negative integer, got null'],
    ['format', (c: any) => (c.format = 'flstm-lm/2'), 'config.format must be "flstm-lm/1", got "flstm-lm/2"'],
    [
      'corpus hash',
      (c: any) => ((c.train.data = 'text:a.txt'), (c.corpus = { kind: 'text', files: [{ ...TEXT_FILE, sha256: 'xyz' }] })),
      'config.corpus.files.0.sha256 must be a SHA-256 in 64 hex digits, got "xyz"',
    ],
    [
      'corpus bytes',
      (c: any) => ((c.train.data = 'text:a.txt'), (c.corpus = { kind: 'text', files: [{ ...TEXT_FILE, bytes: -1 }] })),
      'config.corpus.files.0.bytes must be a non-negative integer, got -1',
    ],
    [
      'corpus files',
      (c: any) => ((c.train.data = 'text:a.txt'), (c.corpus = { kind: 'text', files: [] })),
      'config.corpus.files must be 1 to 3 files (train, valid, test), got []',
    ],
    [
      'corpus kind',
      (c: any) => (c.corpus = { kind: 'text', files: [TEXT_FILE] }),
      'config.corpus.kind must be absent (config.train.data "brown" records none), got "text"',
    ],
    [
      'corpus lm1b',
      (c: any) => ((c.train.data = 'lm1b:/d'), (c.corpus = { kind: 'lm1b', dir: '/d', trainShards: 0, trainBytes: 5 })),
      'config.corpus.trainShards must be a positive integer, got 0',
    ],
  ])('%s: one message naming config.json, the field and what was expected', async (_, edit, message) => {
    const dir = await saved();
    await editConfig(dir, edit);
    const want = `flstm: ${join(dir, 'config.json')}: ${message}`;
    await expect(loadCheckpoint(dir)).rejects.toThrow(want);
    await expect(readLmCheckpoint(dir)).rejects.toThrow(want);
    await expect(loadModel(dir)).rejects.toThrow(want);
  });

  it('the manifest: version, generation, files', async () => {
    const dir = await saved();
    const text = await readFile(join(dir, 'config.json'), 'utf8');
    const put = (edit: (m: any) => void) => {
      const m = JSON.parse(text);
      edit(m);
      return writeFile(join(dir, 'config.json'), JSON.stringify(m));
    };
    await put((m) => (m.generation = -1));
    await expect(loadCheckpoint(dir)).rejects.toThrow(`${join(dir, 'config.json')}: generation must be a non-negative integer, got -1`);
    await put((m) => (m.version = 0));
    await expect(loadCheckpoint(dir)).rejects.toThrow('version must be a positive integer, got 0');
    await put((m) => delete m.files);
    await expect(loadCheckpoint(dir)).rejects.toThrow(
      'files must be an object naming the files ({ model, optimizer?, vocab? }), got nothing (the field is missing)',
    );
    await put((m) => ((m.files.optimyzer = m.files.optimizer), delete m.files.optimizer));
    await expect(loadCheckpoint(dir)).rejects.toThrow(
      'files.optimyzer must be absent (files names model, optimizer and vocab), got "optimizer-1.safetensors"',
    );
    await put((m) => delete m.files.model);
    await expect(loadCheckpoint(dir)).rejects.toThrow(
      'files.model must be a file name in the checkpoint directory, got nothing (the field is missing)',
    );
  });
});

describe('the copies in the model file', () => {
  it('a model file of another save (other config, other vocabulary) is refused naming both files', async () => {
    const a = await saved();
    const other = lmConfig();
    other.step = 4;
    const b = await saved({ ...lmCheckpoint(other) });
    await copyFile(join(b, 'model-1.safetensors'), join(a, 'model-1.safetensors'));
    const msg = `flstm: ${join(a, 'model-1.safetensors')}: metadata flstm.config must be the configuration ${join(a, 'config.json')} holds, got a different one (config.step: 4 against 3)`;
    await expect(loadCheckpoint(a)).rejects.toThrow(msg);
    const c = await saved({ ...lmCheckpoint(), vocab: VOCAB.replace('cat 3', 'dog 3') });
    await copyFile(join(c, 'model-1.safetensors'), join(a, 'model-1.safetensors'));
    await expect(loadCheckpoint(a)).rejects.toThrow(
      `metadata flstm.vocab must be the vocabulary ${join(a, 'vocab-1.txt')} holds, got a different one (line 4 differs)`,
    );
  });

  it('a config whose sizes the tensors do not have is refused before a model is built (no huge allocation)', async () => {
    const config = lmConfig();
    const ck = lmCheckpoint(config);
    const dir = await saved({
      ...ck,
      config: { ...config, train: { ...config.train, model: { ...config.train.model, hidden: 2 ** 30, emb: 2 ** 30 } } },
    });
    await expect(loadModel(dir)).rejects.toThrow(
      `flstm: ${join(dir, 'model-1.safetensors')}: tensor 'embedding' must be of shape [6, 1073741824] (as ${join(dir, 'config.json')} describes the model), got [6,8]`,
    );
  });

  it('the vocabulary: a line short, a duplicate word, a bad line', async () => {
    const dir = await saved();
    const file = join(dir, 'vocab-1.txt');
    await writeFile(file, VOCAB.split('\n').slice(0, 5).join('\n'));
    await expect(loadCheckpoint(dir)).rejects.toThrow(
      `flstm: ${file}: the word count must be 6 (config.vocabSize in ${join(dir, 'config.json')}), one word per line, got 5`,
    );
    await writeFile(file, VOCAB.replace('sat 2', 'the 2'));
    await expect(loadCheckpoint(dir)).rejects.toThrow(`flstm: ${file}: the word "the" appears twice (ids 2 and 4)`);
    await writeFile(file, VOCAB.replace('sat 2', 'sat 2 9'));
    await expect(readLmCheckpoint(dir)).rejects.toThrow(`flstm: ${file}: line 5 "sat 2 9" is not 'word count'`);
  });
});

describe('optimizer state', () => {
  const cases: [string, (ck: Checkpoint) => void, string][] = [
    [
      'a negative Adam second moment',
      (ck) => ((ck.optimizer!.tensors['softmax_b.v'].data as Float32Array)[2] = -1),
      "tensor 'softmax_b.v' at index 2 must be a finite, non-negative number (the adam state), got -1",
    ],
    [
      'a NaN Adam moment',
      (ck) => ((ck.optimizer!.tensors['rnn.layers.1.b.m'].data as Float32Array)[0] = NaN),
      "tensor 'rnn.layers.1.b.m' at index 0 must be a finite number (the adam state), got NaN",
    ],
    [
      'an infinite second moment',
      (ck) => ((ck.optimizer!.tensors['embedding.v'].data as Float32Array)[5] = Infinity),
      "tensor 'embedding.v' at index 5 must be a finite, non-negative number (the adam state), got Infinity",
    ],
    [
      'a fractional step',
      (ck) => (ck.optimizer!.scalars.step = 2.5),
      'metadata flstm.scalars.step must be a non-negative integer, got 2.5',
    ],
    [
      'a negative step',
      (ck) => (ck.optimizer!.scalars.attempts = -1),
      'metadata flstm.scalars.attempts must be a non-negative integer, got -1',
    ],
    [
      'another kind',
      (ck) => (ck.optimizer!.scalars.kind = 'adagrad'),
      'metadata flstm.scalars.kind must be "adam" (the configuration\'s optimizer), got "adagrad"',
    ],
    [
      'a missing slot',
      (ck) => delete ck.optimizer!.tensors['softmax_w.m'],
      "tensor 'softmax_w.m' must be present (a adam state tensor of the model's weight), got nothing (the field is missing)",
    ],
  ];
  it.each(cases)('%s is refused at load, naming the file, the tensor and the index', async (_, edit, message) => {
    const ck = lmCheckpoint();
    edit(ck);
    const dir = await saved(ck);
    await expect(loadCheckpoint(dir)).rejects.toThrow(`flstm: ${join(dir, 'optimizer-1.safetensors')}: ${message}`);
  });

  it('a negative Adagrad accumulator is refused by loadCheckpoint and by Optimizer.loadStateDict', async () => {
    const ck = lmCheckpoint(lmConfig('adagrad'));
    (ck.optimizer!.tensors['softmax_b.acc'].data as Float32Array)[1] = -0.5;
    const dir = await saved(ck);
    await expect(loadCheckpoint(dir)).rejects.toThrow(
      `flstm: ${join(dir, 'optimizer-1.safetensors')}: tensor 'softmax_b.acc' at index 1 must be a finite, non-negative number (the adagrad state), got -0.5`,
    );
    const p = fl.tensor(new Float32Array(4), [4]).keep();
    const opt = new Adagrad([['w', p]]);
    const sd = await opt.stateDict();
    (sd.tensors['w.acc'].data as Float32Array)[3] = NaN;
    expect(() => opt.loadStateDict(sd)).toThrow(
      "flstm: Adagrad.loadStateDict: state tensor 'w.acc' must hold finite, non-negative values, got NaN at index 3",
    );
    (sd.tensors['w.acc'].data as Float32Array)[3] = -1;
    expect(() => opt.loadStateDict(sd)).toThrow('got -1 at index 3');
    opt.dispose();
    p.dispose();
  });
});

describe('stray files', () => {
  it('a file named like a generation flstm cannot have written is never removed, nor breaks a save or a load', async () => {
    const dir = await saved();
    const strays = ['vocab-99999999999999999999.txt', 'model-007.safetensors', 'model-9007199254740993.safetensors'];
    for (const s of strays) await writeFile(join(dir, s), "not flstm's");
    const r = await saveCheckpoint(dir, lmCheckpoint());
    expect(r.generation).toBe(2);
    expect((await readdir(dir)).sort()).toEqual([
      'config.json',
      'model-007.safetensors',
      'model-2.safetensors',
      'model-9007199254740993.safetensors',
      'optimizer-2.safetensors',
      'vocab-2.txt',
      'vocab-99999999999999999999.txt',
    ]);
    expect((await loadCheckpoint(dir)).generation).toBe(2);
    expect((await saveCheckpoint(dir, lmCheckpoint())).generation).toBe(3);
    const lm = await readLmCheckpoint(dir);
    expect(lm.ck.generation).toBe(3);
    await lm.ck.close();
    expect(fileGeneration('model-12.safetensors')).toBe(12);
    expect(fileGeneration('vocab-99999999999999999999.txt')).toBeNull();
    expect(fileGeneration('model-007.safetensors')).toBeNull();
  });

  it('a save that fails before its config.json is renamed leaves the previous generation whole', async () => {
    const dir = await saved();
    const boom = (s: { action: string; file: string }) => {
      if (s.action === 'rename' && s.file.endsWith('config.json')) throw new Error('disk full');
    };
    await expect(saveCheckpoint(dir, lmCheckpoint(), { beforeStep: boom })).rejects.toThrow(/failed while writing config\.json/);
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'model-1.safetensors', 'optimizer-1.safetensors', 'vocab-1.txt']);
    expect((await loadCheckpoint(dir)).generation).toBe(1);
  });
});

describe('lmTensorShapes', () => {
  it.each([
    ['lstm', { cell: 'lstm', layers: 2, emb: 6, hidden: 5, proj: 3, dropout: 0 }],
    ['lstm without projection', { cell: 'lstm', layers: 1, emb: 6, hidden: 5, proj: 0, dropout: 0 }],
    ['flstm', { cell: 'flstm', layers: 2, emb: 6, hidden: 5, proj: 3, factor: 2, dropout: 0 }],
    ['hierarchical glstm', { cell: 'glstm', layers: 2, emb: 8, hidden: 8, proj: 4, groups: [2, 4], dropout: 0 }],
  ])('%s: the weights are those the model has', (_, model) => {
    const config = { ...lmConfig(), stateLayers: 0, train: { ...lmConfig().train, model, ema: undefined } } as CheckpointConfig;
    checkLmConfig('config.json', 'config', JSON.parse(JSON.stringify(config)));
    const lm = new LanguageModel({
      vocabSize: 6,
      emb: model.emb,
      layers: model.layers,
      hidden: model.hidden,
      proj: model.proj,
      cell: model.cell as 'lstm',
      factor: (model as any).factor,
      groups: (model as any).groups,
    });
    try {
      expect(Object.fromEntries(lmTensorShapes(config))).toEqual(
        Object.fromEntries(Object.entries(lm.stateShapes()).map(([k, v]) => [k, v.shape])),
      );
    } finally {
      lm.dispose();
    }
  });
});
