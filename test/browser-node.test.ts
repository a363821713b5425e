// The browser demo's code, run in Node on Dawn (test/browser.test.ts runs it in Chromium):
// the kernel self-check cases, the demo's training session, and the .safetensors interop
// between the page and the CLI (self-contained model files, checkpoint folders; a CLI run
// continued in the page with its optimizer state and carried LSTM state).
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { runSelfCheck } from '../src/web/selfcheck.js';
import { Session, SIZES, modelOptions, readBundle, trainConfigFor, type NamedFile } from '../src/web/session.js';
import { detokenize, encodeText, textCorpus, wordCount } from '../src/web/text.js';
import { UnknownWordsError } from '../src/web/known_words.js';
import { trainingUnkShare } from '../src/train/unknown_words.js';
import { loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint.js';
import { decodeModelBundle, encodeModelBundle } from '../src/train/bundle.js';
import { decodeOptimizerFile } from '../src/train/optimizer_file.js';
import { decodeSafetensors, encodeSafetensors } from '../src/train/safetensors.js';
import { parseMetrics } from '../src/train/metrics.js';
import type { CheckpointConfig, TrainConfig } from '../src/train/config.js';
import { LanguageModel } from '../src/nn/lm.js';
import { brownExcerpt } from '../tools/build-web.mjs';
import { freshSeed, useDevice } from './helpers.js';

useDevice();

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'flstm-web-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const text = brownExcerpt(1).split('\n').slice(0, 600).join('\n');

describe('kernel self-check cases', () => {
  it('all pass on this adapter (the subgroup cases only where it has subgroups of >= 8 lanes)', async () => {
    const results = await runSelfCheck({ seed: freshSeed() });
    const failed = results.filter((r) => r.status === 'fail');
    expect(failed.map((r) => `${r.group} / ${r.name}: ${r.message}`)).toEqual([]);
    expect(results.filter((r) => r.status === 'pass').length).toBeGreaterThan(35);
    for (const g of ['matmul', 'groupedMatmul', 'elementwise', 'reduce', 'embedding', 'softmaxCrossEntropy', 'lstm']) {
      expect(
        results.some((r) => r.group === g && r.status === 'pass'),
        g,
      ).toBe(true);
    }
    // lavapipe has shader-f16: the f16 operand cases run here.
    const f16 = results.filter((r) => /f16/.test(r.name));
    expect(f16.length).toBe(4);
    for (const r of f16) expect(r.status, r.name).toBe('pass');
  });
});

describe('the demo session', () => {
  it("tokenizes text as the CLI's text corpora do and detokenizes for display", () => {
    const c = textCorpus('the cat sat .\n\nthe dog sat .\n', 'test', { validFraction: 0 });
    expect(c.vocab.words.slice(0, 3)).toEqual(['<unk>', '<eos>', 'the']);
    expect(c.vocab.decode(c.train)).toEqual(['the', 'cat', 'sat', '.', '<eos>', 'the', 'dog', 'sat', '.', '<eos>']);
    const e = encodeText('the bird sat', c.vocab, 'other', 0);
    expect(e.vocab.decode(e.train)).toEqual(['the', '<unk>', 'sat', '<eos>']);
    // Words, as the page shows them: whitespace-separated, the line ends' <eos> not counted.
    expect([c.words, c.tokens, e.words, e.tokens]).toEqual([8, 10, 3, 4]);
    expect(wordCount('the cat sat .\n\nthe dog sat .\n')).toBe(8);
    expect(wordCount('  one\ttwo  \r\n three \n\n')).toBe(3);
    expect(detokenize(['He', 'said', ',', '``', 'no', "''", '.', '<eos>', 'It', "'s", 'done'])).toBe("He said, \u201cno\u201d.\nIt's done");
  });

  it('trains (the loss falls), validates, generates, and saves a model the CLI loads', async () => {
    const s = new Session();
    s.create(trainConfigFor('glstm', SIZES.tiny, 'web:brown-excerpt'), text, 'brown');
    const reports: number[] = [];
    await s.train({ steps: 8, onReport: (r) => reports.push(r.loss) });
    expect(s.step).toBe(8);
    expect(reports.length).toBeGreaterThanOrEqual(2);
    expect(reports[reports.length - 1]).toBeLessThan(reports[0]);
    expect(s.records.some((r) => r.split === 'valid' && Number.isFinite(r.ppl))).toBe(true);
    const g = await s.generate('The', 6, 0.8, 1);
    expect(g.words).toHaveLength(6);

    const bytes = await s.save();
    const dir = await tempDir();
    const file = join(dir, 'page.safetensors');
    await writeFile(file, bytes);
    // The CLI's loader (flstm generate --checkpoint FILE) reads the page's file.
    const loaded = await fl.train.loadModel(file);
    expect(loaded.config.step).toBe(8);
    expect(loaded.config.train.model.cell).toBe('glstm');
    expect(loaded.vocab.size).toBe(s.vocab!.size);
    const want = await s.model!.stateDict();
    const got = await loaded.model.stateDict();
    for (const k of Object.keys(want)) expect(Array.from(got[k].data), k).toEqual(Array.from(want[k].data));
    const g2 = await fl.train.generate(loaded.model, loaded.vocab, 'The', { tokens: 6, temperature: 0.8, seed: 1 });
    expect(g2.words).toEqual((await s.generate('The', 6, 0.8, 1)).words);
    loaded.model.dispose();
    s.dispose();
  });

  it("loads a CLI checkpoint: the model file alone, or the folder's files; a weights-only file alone is refused clearly", async () => {
    const cfg = trainConfigFor('lstm', SIZES.tiny, 'text:x.txt');
    const corpus = textCorpus(text, 'x', { maxVocab: 300 });
    // A vocabulary that leaves most words out: its own text is still taken (setText below).
    expect(trainingUnkShare(corpus.vocab)).toBeGreaterThan(0.2);
    const model = new LanguageModel(modelOptions(cfg, corpus.vocab.size));
    const dir = await tempDir();
    const config = { format: 'flstm-lm/1', train: cfg, vocabSize: corpus.vocab.size, step: 5, epoch: 0, batchIndex: 5, stateLayers: 0 };
    const saved = await saveCheckpoint(dir, { model: await model.stateDict(), config, vocab: corpus.vocab.toText() });
    const { readFile } = await import('node:fs/promises');
    const modelBytes = new Uint8Array(await readFile(join(dir, saved.files.model)));
    const files = [
      { name: 'checkpoint/config.json', bytes: new Uint8Array(await readFile(join(dir, 'config.json'))) },
      { name: `checkpoint/${saved.files.model}`, bytes: modelBytes },
      { name: `checkpoint/${saved.files.vocab}`, bytes: new Uint8Array(await readFile(join(dir, saved.files.vocab!))) },
    ];
    // The model file is self-contained.
    expect(decodeModelBundle(modelBytes).config).toEqual(config);
    expect((await loadCheckpoint(join(dir, saved.files.model))).vocab).toBe(corpus.vocab.toText());
    for (const set of [[files[1]], files]) {
      const s = new Session();
      const c = await s.load(set);
      expect(c.step).toBe(5);
      expect(s.step).toBe(5);
      expect(s.vocab!.size).toBe(corpus.vocab.size);
      const g = await s.generate('The', 3, 1, 2);
      expect(g.words).toHaveLength(3);
      s.setText(text, 'more text');
      await s.train({ steps: 7 });
      expect(s.step).toBe(7);
      s.dispose();
    }
    // A model file of an older checkpoint (weights only).
    const d = decodeSafetensors(modelBytes);
    const bare = { name: 'model-1.safetensors', bytes: encodeSafetensors(d.tensors as never, { producer: 'flstm' }) };
    expect(() => readBundle([bare])).toThrow(/weights only.*config\.json and vocab-<G>\.txt/);
    expect(readBundle([bare, files[0], files[2]]).config).toEqual(config);
    expect(() => readBundle([files[0]])).toThrow(/no \.safetensors/);
    expect(() => decodeModelBundle(encodeModelBundle({ model: {}, config: { format: 'x' } }))).not.toThrow();
    model.dispose();
  });

  it("continues a run of the CLI's trainer with its optimizer state and carried LSTM state; without the optimizer file the loss jumps", async () => {
    const dir = await tempDir();
    const trainFile = join(dir, 'train.txt');
    await writeFile(trainFile, text);
    const cfg: TrainConfig = {
      data: `text:${trainFile}`,
      model: { cell: 'glstm', layers: 1, emb: 16, hidden: 32, proj: 16, groups: 2, dropout: 0 },
      batch: 8,
      bptt: 20,
      optimizer: 'adagrad',
      lr: 0.2,
      clip: 0,
      sampled: 0,
      seed: 3,
      maxVocab: 1000,
    };
    // Unclipped, the LSTM's gradients fill Adagrad's accumulators within a few hundred steps
    // (clipped to norm 1, they would take many thousand), so a fresh optimizer steps far too big.
    const cliSteps = 400;
    await fl.train.train(cfg, { out: join(dir, 'run'), steps: cliSteps, logEvery: 20, evalTokens: 0 });
    const ck = join(dir, 'run', 'checkpoint');
    const saved = await loadCheckpoint<CheckpointConfig>(ck);
    const files: NamedFile[] = await Promise.all(
      (await readdir(ck)).map(async (n) => ({ name: `checkpoint/${n}`, bytes: new Uint8Array(await readFile(join(ck, n))) })),
    );
    const optimizerFile = files.find((f) => f.name.endsWith(saved.files.optimizer!))!;
    const modelFile = files.find((f) => f.name.endsWith(saved.files.model))!;
    // The page's decoder reads the optimizer file as the CLI's loader does.
    expect(decodeOptimizerFile(optimizerFile.bytes)).toEqual(saved.optimizer);
    const trainRecords = parseMetrics(await readFile(join(dir, 'run', 'metrics.jsonl'), 'utf8')).records.filter((r) => r.split === 'train');
    const cliLoss = trainRecords[trainRecords.length - 1].loss;

    /** Loads `set` into a session and trains 6 steps on the same text: the per-step losses. */
    const continueIn = async (s: Session, set: NamedFile[]): Promise<number[]> => {
      await s.load(set);
      expect(s.step).toBe(cliSteps);
      s.setText(text, 'the same text');
      const losses: number[] = [];
      await s.train({ steps: cliSteps + 6, reportEvery: 1, onReport: (r) => losses.push(r.loss) });
      expect(losses).toHaveLength(6);
      return losses;
    };
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

    // The whole folder: the optimizer continues from the file's state, exactly.
    const whole = new Session();
    await whole.load(files);
    expect(whole.continuation).toEqual({ optimizerFrom: saved.files.optimizer, carriedState: true });
    expect(whole.config).toEqual(saved.config.train);
    const restored = await whole.optimizer!.stateDict();
    expect(restored.scalars).toEqual(saved.optimizer!.scalars);
    expect(Object.keys(restored.tensors).sort()).toEqual(Object.keys(saved.optimizer!.tensors).sort());
    for (const [k, t] of Object.entries(saved.optimizer!.tensors))
      expect(Array.from(restored.tensors[k].data), k).toEqual(Array.from(t.data));
    // ... and the LSTM state carried across batches is the file's.
    const carried = whole.carriedState!;
    expect(carried).toHaveLength(1);
    expect(Array.from(await carried[0].h.data())).toEqual(Array.from(saved.model['state.0.h'].data));
    expect(Array.from(await carried[0].c.data())).toEqual(Array.from(saved.model['state.0.c'].data));
    whole.dispose();
    const continued = await continueIn(new Session(), files);

    // The model file alone: the same weights, a fresh optimizer (Adagrad's accumulators at 1).
    const alone = new Session();
    await alone.load([modelFile]);
    expect(alone.continuation).toEqual({ optimizerFrom: null, carriedState: true });
    const fresh = await alone.optimizer!.stateDict();
    const accumulators = (t: { data: ArrayLike<number> }) => mean(Array.from(t.data));
    expect(accumulators(fresh.tensors['rnn.layers.0.W.acc'])).toBe(1);
    expect(accumulators(saved.optimizer!.tensors['rnn.layers.0.W.acc'])).toBeGreaterThan(2);
    alone.dispose();
    const restarted = await continueIn(new Session(), [modelFile]);

    const summary = `CLI ${cliLoss.toFixed(3)}; continued ${continued.map((l) => l.toFixed(3))}; fresh optimizer ${restarted.map((l) => l.toFixed(3))}`;
    // The first step runs before any update: both start from the same weights and state.
    expect(restarted[0], summary).toBe(continued[0]);
    // Continued, the loss stays where the CLI's run left it.
    expect(Math.abs(mean(continued) - cliLoss), summary).toBeLessThan(0.3);
    expect(Math.max(...continued), summary).toBeLessThan(cliLoss + 0.3);
    // With a fresh optimizer every later step is worse, and the loss jumps.
    for (let i = 1; i < 6; i++) expect(restarted[i], `step ${i + 1}: ${summary}`).toBeGreaterThan(continued[i]);
    expect(mean(restarted.slice(1)), summary).toBeGreaterThan(mean(continued.slice(1)) + 0.5);

    // An optimizer file of another checkpoint is refused, naming both files.
    const stray = { name: 'checkpoint/optimizer-99.safetensors', bytes: optimizerFile.bytes };
    const others = files.filter((f) => f !== optimizerFile);
    expect(() => readBundle([...others, stray])).toThrow(
      `optimizer-99.safetensors is not the optimizer file of ${saved.files.model} (config.json names ${saved.files.optimizer})`,
    );
    expect(() => readBundle([modelFile, stray])).toThrow(`optimizer-99.safetensors is not the optimizer file of ${saved.files.model}`);
    // ... and so is the state of another step, under the right name.
    const tensors = Object.fromEntries(
      Object.entries(saved.optimizer!.tensors).map(([k, t]) => [k, { dtype: 'F32' as const, shape: t.shape, data: t.data }]),
    );
    const earlier = {
      name: optimizerFile.name,
      bytes: encodeSafetensors(tensors, { 'flstm.scalars': JSON.stringify({ ...saved.optimizer!.scalars, attempts: 7 }) }),
    };
    await expect(new Session().load([...others, earlier])).rejects.toThrow(
      `${saved.files.optimizer} holds the optimizer state after 7 steps, but ${saved.files.model} is at step ${cliSteps}`,
    );
  });

  it('refuses to go on training a loaded model on text mostly outside its vocabulary, and keeps its text', async () => {
    const own = 'the quick brown fox jumps over dogs\nfour small cats sleep in warm sun\nred birds sing songs at early dawn\n';
    const cfg = trainConfigFor('lstm', { ...SIZES.tiny, batch: 2, bptt: 3 }, 'text:tiny.txt');
    const corpus = textCorpus(own, 'tiny.txt', { validFraction: 0 });
    const model = new LanguageModel(modelOptions(cfg, corpus.vocab.size));
    const config = { format: 'flstm-lm/1', train: cfg, vocabSize: corpus.vocab.size, step: 2, epoch: 0, batchIndex: 2, stateLayers: 0 };
    const bytes = encodeModelBundle({ model: await model.stateDict(), config, vocab: corpus.vocab.toText() });
    model.dispose();
    const s = new Session();
    await s.load([{ name: 'model-2.safetensors', bytes }]);
    // Of this text only 'the', 'over' and the line ends are in the model's vocabulary: 14 of 19 tokens are <unk>.
    const brown = 'The Fulton County Grand Jury said the jury had over 20 words .\nthe jury said so\n';
    const refused = (() => {
      try {
        s.setText(brown, 'Brown');
      } catch (e) {
        return e;
      }
    })();
    expect(refused).toBeInstanceOf(UnknownWordsError);
    expect((refused as UnknownWordsError).trainedOn).toBe('text:tiny.txt');
    expect((refused as Error).message).toBe(
      "flstm: 73.7% of the 19 tokens of Brown are words outside the model's 23-word vocabulary, against 0.0% of the text it was trained on (text:tiny.txt): " +
        'on it the model would learn little but <unk>, and its loss would measure nothing. Give the text the model was trained on ' +
        '(text with up to 5.0% of its tokens outside the vocabulary is taken)',
    );
    expect(s.corpus).toBeNull();
    // One unknown token in 28 (3.6%) is within the limit; its own text is taken, and trains.
    s.setText(`${own}the fox sleeps\n`, 'tiny.txt and more');
    expect(s.corpus!.source).toBe('tiny.txt and more');
    s.setText(own, 'tiny.txt');
    expect(() => s.setText(brown, 'Brown')).toThrow(UnknownWordsError);
    expect(s.corpus!.source).toBe('tiny.txt');
    await s.train({ steps: 4 });
    expect(s.step).toBe(4);
    s.dispose();
  });

  it('refuses a file that is not a flstm language model, naming it', async () => {
    const s = new Session();
    const bytes = encodeModelBundle({ model: {}, config: { format: 'something-else' } });
    await expect(s.load([{ name: 'other.safetensors', bytes }])).rejects.toThrow(/other\.safetensors is not a flstm language model/);
  });
});
