// Fault injection for checkpoints: a real tiny checkpoint folder, seeded single-file
// mutations of it (the damage a crash, a bad disk, a copy of the wrong file or a hand edit
// does), and the oracle every loader must meet on each: the load gives exactly the original
// tensors, or it throws one `flstm: <file>: ...` message that names a file of the folder and
// reads as flstm's (never a raw JS error), within a time bound. Shared by
// test/checkpoint-fuzz.test.ts (a few hundred mutations) and bench/fuzz_checkpoints.ts (many).
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { train } from '../src/train/trainer.js';
import type { TrainConfig } from '../src/train/config.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { checkpointFiles, loadModel, readLmCheckpoint } from '../src/train/load.js';
import { readWeight, readWhole } from '../src/train/streamed_load.js';
import { checkOptimizerValues } from '../src/train/checkpoint_schema.js';

export type Files = Record<string, Uint8Array>;

/** One file of the folder changed (bytes) or removed (null). */
export interface Mutation {
  file: string;
  what: string;
  bytes: Uint8Array | null;
}

/** mulberry32: small, seeded, the same sequence on every platform. */
export class Rng {
  constructor(private s: number) {}
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

// ---- the tiny checkpoint ----

const WORDS = 'the cat sat on a mat and dog ran to big red house with blue door in old town'.split(' ');

function corpus(lines: number, rng: Rng): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++)
    out.push(Array.from({ length: 3 + rng.int(8) }, () => WORDS[Math.floor(rng.next() * rng.next() * WORDS.length)]).join(' '));
  return `${out.join('\n')}\n`;
}

/** A G-LSTM with a projection, moving averages and carried state: every kind of tensor a model file holds. */
export function tinyConfig(dir: string, optimizer: TrainConfig['optimizer'] = 'adagrad'): TrainConfig {
  return {
    data: `text:${join(dir, 'train.txt')},${join(dir, 'valid.txt')}`,
    model: { cell: 'glstm', layers: 2, emb: 8, hidden: 8, proj: 4, groups: 2, dropout: 0 },
    batch: 2,
    bptt: 3,
    optimizer,
    lr: optimizer === 'adam' ? 0.002 : 0.2,
    clip: 1,
    sampled: 0,
    seed: 3,
    ema: 0.9,
  };
}

/** Trains the tiny model a few steps (needs fl.init()); returns its checkpoint folder. */
export async function makeTinyCheckpoint(dir: string, optimizer: TrainConfig['optimizer'] = 'adagrad'): Promise<string> {
  await mkdir(dir, { recursive: true });
  const rng = new Rng(7);
  await writeFile(join(dir, 'train.txt'), corpus(60, rng));
  await writeFile(join(dir, 'valid.txt'), corpus(5, rng));
  const out = join(dir, 'run');
  await train(tinyConfig(dir, optimizer), { out, steps: 3, logEvery: 1000, saveEvery: 1000, evalTokens: 0 });
  return join(out, 'checkpoint');
}

export async function readFiles(dir: string): Promise<Files> {
  const files: Files = {};
  for (const name of (await readdir(dir)).sort()) files[name] = new Uint8Array(await readFile(join(dir, name)));
  return files;
}

// ---- .safetensors files taken apart and put back ----

interface Parts {
  header: Record<string, any>;
  data: Uint8Array;
}

function split(bytes: Uint8Array): Parts {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: bytes.subarray(8 + n) };
}

function join8(json: string, data: Uint8Array, pad: boolean): Uint8Array {
  const text = new TextEncoder().encode(json);
  const n = pad ? Math.ceil(text.length / 8) * 8 : text.length;
  const out = new Uint8Array(8 + n + data.length).fill(0x20, 8, 8 + n);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(text, 8);
  out.set(data, 8 + n);
  return out;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const bytesOf = (s: string) => new TextEncoder().encode(s);

/** Values that are wrong for almost any field: other types, negative, fractional, huge. */
const ODD_VALUES: unknown[] = [
  -5,
  -1,
  0,
  0.5,
  1.5,
  1e20,
  2 ** 53,
  2 ** 40,
  '5',
  '',
  'x',
  null,
  true,
  false,
  [],
  {},
  [1, 2],
  { a: 1 },
  'NaN',
  -0.0001,
];

/** Every path of a JSON value (['config', 'train', 'model', 'cell'], ...), the root excluded. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return out;
  for (const [k, x] of Object.entries(v)) {
    const p = [...at, Array.isArray(v) ? Number(k) : k];
    out.push(p);
    paths(x, p, out);
  }
  return out;
}

/** A JSON value with one field removed, retyped, negated or set to an odd value; and what was done. */
export function mutateJson(value: unknown, rng: Rng): { value: unknown; what: string } {
  const copy = structuredClone(value) as any;
  const all = paths(copy);
  if (all.length === 0) return { value: rng.pick(ODD_VALUES), what: 'replaced the whole value' };
  const p = rng.pick(all);
  let holder = copy;
  for (const k of p.slice(0, -1)) holder = holder[k];
  const key = p[p.length - 1];
  const old = holder[key];
  const op = rng.int(4);
  if (op === 0 && !Array.isArray(holder)) {
    delete holder[key];
    return { value: copy, what: `removed ${p.join('.')}` };
  }
  const next = op === 1 && typeof old === 'number' ? -old - 1 : op === 2 && typeof old === 'number' ? String(old) : rng.pick(ODD_VALUES);
  holder[key] = next;
  return { value: copy, what: `set ${p.join('.')} from ${JSON.stringify(old)?.slice(0, 40)} to ${JSON.stringify(next)}` };
}

function truncate(bytes: Uint8Array, rng: Rng): Mutation['bytes'] {
  return bytes.slice(0, rng.int(bytes.length));
}

function flipBit(bytes: Uint8Array, lo: number, hi: number, rng: Rng): { bytes: Uint8Array; at: number } {
  const out = bytes.slice();
  const at = lo + rng.int(Math.max(1, hi - lo));
  out[at] ^= 1 << rng.int(8);
  return { bytes: out, at };
}

// ---- mutations of each kind of file ----

function mutateHeaderLength(bytes: Uint8Array, rng: Rng): Omit<Mutation, 'file'> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const choices = [
    bytes.length,
    bytes.length - 7,
    2 ** 40,
    2 ** 64 - 1,
    n + 1,
    n - 1,
    n - 2,
    n - 4,
    n + 8,
    n - 8,
    0,
    1,
    2,
    rng.int(2 ** 32),
  ];
  const v = rng.pick(choices);
  const out = bytes.slice();
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(Math.floor(v))), true);
  return { what: `header length ${n} -> ${v}`, bytes: out };
}

function mutateEntry(h: Record<string, any>, name: string, dataLen: number, rng: Rng): string {
  const e = h[name];
  const names = Object.keys(h).filter((k) => k !== '__metadata__');
  const other = h[rng.pick(names)];
  const [b, end] = e.data_offsets as [number, number];
  const ops: [string, () => void][] = [
    ['dtype', () => (e.dtype = rng.pick(['F16', 'BF16', 'I32', 'I64', 'F64', 'U8', 'BOOL', '', null, 7, 'f32']))],
    [
      'shape',
      () =>
        (e.shape = rng.pick([
          [...e.shape, 1],
          e.shape.slice(1),
          [e.shape[0] + 1, ...e.shape.slice(1)],
          [-1],
          [1e20],
          ['2'],
          null,
          {},
          [2.5],
          [0],
          [],
        ])),
    ],
    [
      'offsets',
      () =>
        (e.data_offsets = rng.pick([
          [b, dataLen + 4],
          [other.data_offsets[0], end],
          [end, b],
          [b + 4, end + 4],
          [String(b), end],
          [b],
          null,
          [-4, end],
          [2 ** 53, 2 ** 53 + 4],
          [b, end - 4],
        ])),
    ],
    ['removed', () => delete h[name]],
    ['renamed', () => ((h[`${name}x`] = e), delete h[name])],
    ['duplicated', () => (h[`${name}.copy`] = { ...e })],
    ['retyped', () => (h[name] = rng.pick([null, 5, 'x', [], [e]]))],
  ];
  const [what, apply] = rng.pick(ops);
  apply();
  return `tensor '${name}' ${what}`;
}

function mutateMetadata(h: Record<string, any>, rng: Rng): string {
  const meta = h.__metadata__ as Record<string, string> | undefined;
  if (!meta || rng.int(6) === 0) {
    const v = rng.pick([undefined, null, [], 'x', 5, { producer: 'flstm' }]);
    if (v === undefined) delete h.__metadata__;
    else h.__metadata__ = v;
    return `__metadata__ set to ${JSON.stringify(v)}`;
  }
  const key = rng.pick(Object.keys(meta));
  const op = rng.int(4);
  if (op === 0) {
    delete meta[key];
    return `metadata ${key} removed`;
  }
  if (op === 1) {
    (meta as Record<string, unknown>)[key] = rng.pick([5, null, {}, [], true]);
    return `metadata ${key} retyped`;
  }
  if (key === 'flstm.vocab') {
    const lines = meta[key].split('\n');
    meta[key] = lines.slice(0, Math.max(0, lines.length - 2 - rng.int(3))).join('\n') + '\n';
    return 'metadata flstm.vocab shortened';
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(meta[key]);
  } catch {
    meta[key] = `${meta[key]}x`;
    return `metadata ${key} changed`;
  }
  const m = op === 2 ? mutateJson(parsed, rng) : { value: undefined, what: 'made not JSON' };
  meta[key] = m.value === undefined ? meta[key].slice(0, meta[key].length / 2) : JSON.stringify(m.value);
  return `metadata ${key}: ${m.what}`;
}

function mutateHeaderJson(bytes: Uint8Array, rng: Rng): Omit<Mutation, 'file'> {
  const { header, data } = split(bytes);
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const what =
    rng.int(3) === 0 || names.length === 0 ? mutateMetadata(header, rng) : mutateEntry(header, rng.pick(names), data.length, rng);
  return { what, bytes: join8(JSON.stringify(header), data, rng.int(4) !== 0) };
}

/** An impossible value in a tensor's data: NaN or Inf anywhere, a negative sum of squares. */
function mutateData(bytes: Uint8Array, rng: Rng): Omit<Mutation, 'file'> {
  const { header, data } = split(bytes);
  const names = Object.keys(header).filter((k) => k !== '__metadata__' && header[k].data_offsets[1] > header[k].data_offsets[0]);
  if (names.length === 0) return { what: 'truncated', bytes: truncate(bytes, rng) }; // SGD's file: no tensors
  const name = rng.pick(names);
  const [b, end] = header[name].data_offsets as [number, number];
  const out = bytes.slice();
  const at = bytes.length - data.length + b + 4 * rng.int((end - b) / 4);
  const v = name.endsWith('.acc') || name.endsWith('.v') ? rng.pick([NaN, Infinity, -1, -1e-6]) : rng.pick([NaN, Infinity, -Infinity]);
  new DataView(out.buffer).setFloat32(at, v, true);
  return { what: `tensor '${name}' value set to ${v}`, bytes: out };
}

export function mutateSafetensors(bytes: Uint8Array, rng: Rng): Omit<Mutation, 'file'> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  switch (rng.int(7)) {
    case 0:
      return mutateHeaderLength(bytes, rng);
    case 1: {
      const f = flipBit(bytes, 0, 8 + n, rng);
      return { what: `header bit flipped at byte ${f.at}`, bytes: f.bytes };
    }
    case 2:
    case 3:
      return mutateHeaderJson(bytes, rng);
    case 4:
      return { what: 'truncated', bytes: truncate(bytes, rng) };
    case 5:
      return mutateData(bytes, rng);
    default: {
      const extra = Uint8Array.from({ length: 1 + rng.int(16) }, () => rng.int(256));
      const out = new Uint8Array(bytes.length + extra.length);
      out.set(bytes);
      out.set(extra, bytes.length);
      return { what: `${extra.length} bytes appended`, bytes: out };
    }
  }
}

export function mutateConfigJson(bytes: Uint8Array, rng: Rng): Omit<Mutation, 'file'> {
  const op = rng.int(8);
  if (op === 0) return { what: 'truncated', bytes: truncate(bytes, rng) };
  if (op === 1) {
    const f = flipBit(bytes, 0, bytes.length, rng);
    return { what: `bit flipped at byte ${f.at}`, bytes: f.bytes };
  }
  if (op === 2) {
    const v = rng.pick(['', '[]', 'null', '5', '"x"', '{}', '{"format":"flstm-checkpoint"}']);
    return { what: `replaced by ${JSON.stringify(v)}`, bytes: bytesOf(v) };
  }
  const m = mutateJson(JSON.parse(text(bytes)), rng);
  return { what: m.what, bytes: bytesOf(JSON.stringify(m.value, null, 2)) };
}

export function mutateVocab(bytes: Uint8Array, rng: Rng): Omit<Mutation, 'file'> {
  const lines = text(bytes).split('\n');
  const i = rng.int(Math.max(1, lines.length - 1));
  const j = rng.int(Math.max(1, lines.length - 1));
  const edit = (what: string, f: (ls: string[]) => void) => {
    const ls = [...lines];
    f(ls);
    return { what, bytes: bytesOf(ls.join('\n')) };
  };
  switch (rng.int(9)) {
    case 0:
      return edit('shortened by a line', (ls) => ls.splice(ls.length - 2, 1));
    case 1:
      return edit(`line ${i + 1} removed`, (ls) => ls.splice(i, 1));
    case 2:
      return edit(
        `line ${i + 1} made a duplicate of line ${j + 1}`,
        (ls) => (ls[i] = ls[j] === ls[i] ? ls[(i + 1) % (ls.length - 1)] : ls[j]),
      );
    case 3:
      return edit(`blank line inserted at ${i + 1}`, (ls) => ls.splice(i, 0, ''));
    case 4:
      return edit(`line ${i + 1} given a third field`, (ls) => (ls[i] += ' 7'));
    case 5:
      return edit(`line ${i + 1} count made ${'-3'}`, (ls) => (ls[i] = `${ls[i].split(' ')[0]} -3`));
    case 6:
      return edit('a word appended', (ls) => ls.splice(ls.length - 1, 0, 'zebra 1'));
    case 7:
      return { what: 'truncated', bytes: truncate(bytes, rng) };
    default: {
      const f = flipBit(bytes, 0, bytes.length, rng);
      return { what: `bit flipped at byte ${f.at}`, bytes: f.bytes };
    }
  }
}

/** One seeded mutation of one of the folder's files (or its removal). */
export function mutate(files: Files, seed: number): Mutation {
  const rng = new Rng(seed);
  const file = rng.pick(Object.keys(files));
  const bytes = files[file];
  if (rng.int(40) === 0) return { file, what: 'removed', bytes: null };
  if (file === 'config.json') return { file, ...mutateConfigJson(bytes, rng) };
  if (file.endsWith('.safetensors')) return { file, ...mutateSafetensors(bytes, rng) };
  return { file, ...mutateVocab(bytes, rng) };
}

// ---- the oracle ----

/** Text that marks a raw JS error (or a parser's) rather than flstm's message. */
export const RAW_ERROR =
  /Cannot read propert|undefined|is not a function|Invalid typed array length|Unexpected token|is not iterable|Cannot convert|Maximum call stack|allocation failed|Invalid array length|in JSON at position|is not defined|Unexpected end of JSON/;

export type Outcome = { kind: 'identical' } | { kind: 'refused'; message: string } | { kind: 'failed'; why: string };

type Tensors = Record<string, { shape: readonly number[]; data: ArrayLike<number> }>;

/** Why two tensor sets differ (names, shapes, bits), or null. */
function tensorDifference(a: Tensors, b: Tensors): string | null {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.join('|') !== kb.join('|'))
    return `tensor names differ: ${ka
      .filter((k) => !kb.includes(k))
      .concat(kb.filter((k) => !ka.includes(k)))
      .join(', ')}`;
  for (const k of ka) {
    const x = a[k];
    const y = b[k];
    if (x.shape.join(',') !== y.shape.join(',')) return `'${k}' shape ${x.shape} vs ${y.shape}`;
    const bx = new Uint8Array((x.data as Float32Array).buffer, (x.data as Float32Array).byteOffset, (x.data as Float32Array).byteLength);
    const by = new Uint8Array((y.data as Float32Array).buffer, (y.data as Float32Array).byteOffset, (y.data as Float32Array).byteLength);
    if (bx.length !== by.length || bx.some((v, i) => v !== by[i])) return `'${k}' data differs`;
  }
  return null;
}

/** What a loader gave, reduced to what must be identical. */
export interface Loaded {
  model: Tensors;
  optimizer?: Tensors;
  vocab?: string;
  config: unknown;
}

function loadedDifference(got: Loaded, want: Loaded, optimizerNamed: boolean): string | null {
  const m = tensorDifference(got.model, want.model);
  if (m) return `model: ${m}`;
  if (got.optimizer === undefined && want.optimizer !== undefined && optimizerNamed) return 'the optimizer state is missing';
  if (got.optimizer && want.optimizer) {
    const o = tensorDifference(got.optimizer, want.optimizer);
    if (o) return `optimizer: ${o}`;
  }
  if (got.vocab !== want.vocab) return 'the vocabulary differs';
  if (JSON.stringify(got.config) !== JSON.stringify(want.config)) return 'the config differs';
  return null;
}

/** The checks every refusal must pass: flstm's prefix, a file of the folder named, no raw JS error. */
export function refusalProblem(e: unknown, fileNames: readonly string[]): string | null {
  if (!(e instanceof Error)) return `threw a non-Error ${String(e)}`;
  const m = e.message;
  if (!m.startsWith('flstm: ')) return `message does not start with 'flstm: ': ${m}`;
  if (!fileNames.some((f) => m.includes(f))) return `message names no file of the checkpoint: ${m}`;
  if (RAW_ERROR.test(m)) return `message reads as a raw JS error: ${m}`;
  if (/\n\s+at /.test(m)) return `message holds a stack trace: ${m}`;
  return null;
}

export type Loader = (dir: string) => Promise<Loaded>;

export const LOADERS: Record<string, Loader> = {
  loadCheckpoint: async (dir) => {
    const c = await loadCheckpoint(dir);
    return { model: c.model, optimizer: c.optimizer?.tensors, vocab: c.vocab, config: c.config };
  },
  /** A resume's read: the files opened, each tensor then read a piece at a time and checked as a resume reads it. */
  readLmCheckpoint: async (dir) => {
    const { ck } = await readLmCheckpoint(dir);
    try {
      const file = checkpointFiles(ck, dir).model;
      const model: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const [name, w] of Object.entries(ck.model)) model[name] = await readWeight(file, name, w, 64);
      let optimizer: Record<string, { shape: number[]; data: Float32Array }> | undefined;
      if (ck.optimizer) {
        const optFile = join(dir, ck.files.optimizer!);
        const kind = String(ck.optimizer.scalars.kind);
        optimizer = {};
        for (const [name, w] of Object.entries(ck.optimizer.tensors))
          optimizer[name] = await readWhole(w, (piece, at) => checkOptimizerValues(optFile, name, kind, piece, at), 64);
      }
      return { model, optimizer, vocab: ck.vocab, config: ck.config };
    } finally {
      await ck.close();
    }
  },
  /** The model built on the GPU (needs fl.init()): its weights read back (it reads no optimizer file). */
  loadModel: async (dir) => {
    const m = await loadModel(dir);
    try {
      const weights = await m.model.stateDict();
      return { model: weights, vocab: m.vocab.toText(), config: m.config };
    } finally {
      m.model.dispose();
      for (const s of m.state ?? []) (s.h.dispose(), s.c.dispose());
    }
  },
};

async function timed<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`TIMEOUT after ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Writes the folder with the mutation applied into `dir` (emptied first). */
export async function writeMutated(dir: string, files: Files, m: Mutation): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) {
    const b = name === m.file ? m.bytes : bytes;
    if (b) await writeFile(join(dir, name), b);
  }
}

/** Whether a (mutated) config.json names an optimizer file (unreadable: as if it did). */
function namesOptimizer(bytes: Uint8Array): boolean {
  try {
    return JSON.parse(text(bytes))?.files?.optimizer !== undefined;
  } catch {
    return true;
  }
}

/** One loader on the mutated folder in `dir`, judged against its load of the original. */
export async function judge(loader: Loader, dir: string, want: Loaded, m: Mutation, files: Files, ms = 10_000): Promise<Outcome> {
  let got: Loaded;
  try {
    got = await timed(loader(dir), ms);
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('TIMEOUT')) return { kind: 'failed', why: e.message };
    const problem = refusalProblem(e, Object.keys(files));
    return problem ? { kind: 'failed', why: problem } : { kind: 'refused', message: (e as Error).message };
  }
  // A config.json that no longer names the optimizer file loads without it: not a damage it can see.
  const optimizerNamed = m.file !== 'config.json' || m.bytes === null || namesOptimizer(m.bytes);
  const diff = loadedDifference(got, want, optimizerNamed);
  return diff ? { kind: 'failed', why: `loaded, but ${diff}` } : { kind: 'identical' };
}

export interface FuzzTally {
  tried: number;
  loads: number;
  identical: number;
  refused: number;
  failures: string[];
  byFile: Record<string, { identical: number; refused: number }>;
  /** Loads per loader, and how many of them loaded identical. */
  byLoader: Record<string, { loads: number; identical: number }>;
  /** One refusal message per kind of mutation (the folder's path left out), for the record. */
  examples: Record<string, string>;
  /** How often each kind of mutation loaded identical (damage no loader can or need see). */
  identicalKinds: Record<string, number>;
}

function kindOf(m: Mutation): string {
  return `${m.file.replace(/-\d+\./, '-G.')} ${m.what
    .replace(/'[^']*'/g, "'X'")
    .replace(/\d+(\.\d+)?/g, 'N')
    .split(' ')
    .slice(0, 4)
    .join(' ')}`;
}

/**
 * Runs `count` mutations from `seed`: each written to `work`, then judged by every loader of
 * `loaders` (loadModel only where readLmCheckpoint loaded, as it reads the same files first).
 */
export async function fuzz(
  files: Files,
  work: string,
  opts: {
    seed: number;
    count: number;
    loaders: string[];
    baseline: Record<string, Loaded>;
    onProgress?: (t: FuzzTally) => void;
    trace?: (line: string) => void;
  },
): Promise<FuzzTally> {
  const t: FuzzTally = {
    tried: 0,
    loads: 0,
    identical: 0,
    refused: 0,
    failures: [],
    byFile: {},
    byLoader: {},
    examples: {},
    identicalKinds: {},
  };
  for (let i = 0; i < opts.count; i++) {
    const m = mutate(files, opts.seed + i);
    if (opts.trace) opts.trace(`seed ${opts.seed + i}: ${m.file} ${m.what}`);
    await writeMutated(work, files, m);
    t.tried++;
    let lmLoaded = true;
    for (const name of opts.loaders) {
      if (name === 'loadModel' && !lmLoaded) continue;
      const r = await judge(LOADERS[name], work, opts.baseline[name], m, files);
      if (name === 'readLmCheckpoint') lmLoaded = r.kind === 'identical';
      t.loads++;
      t.byLoader[name] ??= { loads: 0, identical: 0 };
      t.byLoader[name].loads++;
      if (r.kind === 'identical') t.byLoader[name].identical++;
      const key = m.file.replace(/-\d+\./, '-G.');
      t.byFile[key] ??= { identical: 0, refused: 0 };
      if (r.kind === 'failed') t.failures.push(`seed ${opts.seed + i} ${name}: ${m.file} ${m.what}: ${r.why}`);
      else {
        t[r.kind]++;
        t.byFile[key][r.kind]++;
        if (r.kind === 'refused') t.examples[kindOf(m)] ??= r.message.split(`${work}/`).join('');
        else t.identicalKinds[kindOf(m)] = (t.identicalKinds[kindOf(m)] ?? 0) + 1;
      }
    }
    if (opts.onProgress && (i + 1) % 500 === 0) opts.onProgress(t);
  }
  return t;
}

/** Each loader's result on the unmutated folder. */
export async function baselines(dir: string, loaders: string[]): Promise<Record<string, Loaded>> {
  const out: Record<string, Loaded> = {};
  for (const name of loaders) out[name] = await LOADERS[name](dir);
  return out;
}
