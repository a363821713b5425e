// Fault injection on a real checkpoint: a tiny model trained a few steps, then seeded
// single-file mutations of its folder (bench/checkpoint_mutations.ts: header lengths past the
// file or 2^40, flipped header bits, offsets out of range or overlapping, dtypes and shapes
// changed, metadata removed or retyped, truncations, a shortened or duplicated vocabulary,
// config.json fields removed, retyped or negative, impossible optimizer state). Every load
// (loadCheckpoint, readLmCheckpoint for a resume, loadModel) either gives the original
// tensors or refuses with one `flstm: <file>: ...` message. bench/fuzz_checkpoints.ts runs
// the same fuzzer with many more mutations.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import {
  baselines,
  fuzz,
  judge,
  LOADERS,
  makeTinyCheckpoint,
  mutate,
  readFiles,
  refusalProblem,
  writeMutated,
  type Files,
  type Loaded,
} from '../bench/checkpoint_mutations.js';

const MUTATIONS = 1000;
const LOADER_NAMES = ['loadCheckpoint', 'readLmCheckpoint', 'loadModel'];
let base: string;
let files: Files;
let baseline: Record<string, Loaded>;

beforeAll(async () => {
  await fl.init();
  base = await mkdtemp(join(tmpdir(), 'flstm-fuzz-'));
  const ck = await makeTinyCheckpoint(base);
  files = await readFiles(ck);
  baseline = await baselines(ck, LOADER_NAMES);
}, 120_000);
afterAll(async () => {
  fl.dispose();
  await rm(base, { recursive: true, force: true });
});

describe('checkpoint fault injection', () => {
  it('the tiny checkpoint has every file, and its loads agree with each other', () => {
    expect(Object.keys(files).sort()).toEqual(['config.json', 'model-1.safetensors', 'optimizer-1.safetensors', 'vocab-1.txt']);
    expect(Object.keys(baseline.loadCheckpoint.model)).toContain('ema.rnn.layers.0.W');
    expect(Object.keys(baseline.loadCheckpoint.model)).toContain('state.1.c');
    expect(baseline.readLmCheckpoint.vocab).toBe(baseline.loadCheckpoint.vocab);
  });

  it('the oracle can fail: a changed tensor, a raw JS error and a message without a file are caught', async () => {
    const changed = structuredClone(baseline.loadCheckpoint);
    (changed.model.embedding.data as Float32Array)[0] += 1;
    const m = mutate(files, 1);
    const dir = join(base, 'oracle');
    await writeMutated(dir, files, { file: 'none', what: 'nothing', bytes: null });
    expect(await judge(LOADERS.loadCheckpoint, dir, changed, m, files)).toMatchObject({
      kind: 'failed',
      why: expect.stringContaining("'embedding' data differs"),
    });
    expect(await judge(LOADERS.loadCheckpoint, dir, baseline.loadCheckpoint, m, files)).toEqual({ kind: 'identical' });
    expect(refusalProblem(new TypeError("Cannot read properties of undefined (reading 'model')"), Object.keys(files))).toMatch(
      /does not start with 'flstm: '/,
    );
    expect(refusalProblem(new Error('flstm: config.json: x must be y, got undefined'), Object.keys(files))).toMatch(/raw JS error/);
    expect(refusalProblem(new Error('flstm: something is wrong'), Object.keys(files))).toMatch(/names no file/);
    expect(refusalProblem(new Error('flstm: config.json: step must be a non-negative integer, got -5'), Object.keys(files))).toBeNull();
  });

  it(`${MUTATIONS} seeded mutations: each load is identical or one flstm message naming the file`, async () => {
    const t0 = performance.now();
    const seed = 1000;
    const t = await fuzz(files, join(base, 'mutated'), { seed, count: MUTATIONS, loaders: LOADER_NAMES, baseline });
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `checkpoint fuzz: ${t.tried} mutations (seeds ${seed}..${seed + MUTATIONS - 1}), ${t.loads} loads (loadModel ${t.byLoader.loadModel?.loads ?? 0}): ${t.identical} identical, ${t.refused} refused, ${t.failures.length} failed, ${seconds.toFixed(1)} s`,
    );
    expect(t.failures).toEqual([]);
    expect(t.tried).toBe(MUTATIONS);
    // Most damage is seen: far more refusals than identical loads, and every file was mutated.
    expect(t.refused).toBeGreaterThan(t.identical * 5);
    expect(Object.keys(t.byFile).sort()).toEqual(['config.json', 'model-G.safetensors', 'optimizer-G.safetensors', 'vocab-G.txt']);
    // What keeps the run short, asserted itself rather than timed: the two host loaders read
    // every mutation, the GPU one (loadModel, a model built and read back) only those that
    // readLmCheckpoint loaded identical; and no load hangs (judge fails one after 10 s).
    expect(t.byLoader.loadCheckpoint.loads).toBe(MUTATIONS);
    expect(t.byLoader.readLmCheckpoint.loads).toBe(MUTATIONS);
    expect(t.byLoader.loadModel.loads).toBe(t.byLoader.readLmCheckpoint.identical);
  }, 90_000);
});
