// .safetensors encode/decode and checkpoints (host only, no GPU).
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from '../src/train/safetensors.js';
import {
  checkCompatible,
  CheckpointError,
  loadCheckpoint,
  saveCheckpoint,
  writeFileAtomic,
  type Checkpoint,
} from '../src/train/checkpoint.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'flstm-ckpt-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** The bytes of a .safetensors file from a header object and raw data, as another tool would write them. */
function handWritten(header: unknown, data: Uint8Array, pad = true): Uint8Array {
  let json = new TextEncoder().encode(JSON.stringify(header));
  if (pad) {
    const n = Math.ceil(json.length / 8) * 8;
    const p = new Uint8Array(n).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function headerOf(bytes: Uint8Array): { n: number; json: Record<string, any> } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { n, json: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) };
}

describe('safetensors', () => {
  it('round trips F32, I32, I64, metadata, scalars and empty tensors', () => {
    const w = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 1e3);
    const bytes = encodeSafetensors(
      {
        'layers.0.W': { dtype: 'F32', shape: [3, 4], data: w },
        ids: { dtype: 'I32', shape: [4], data: Int32Array.from([0, -1, 2147483647, -2147483648]) },
        scalar: { dtype: 'F32', shape: [], data: [0.1] },
        empty: { dtype: 'F32', shape: [0], data: new Float32Array(0) },
        empty2: { dtype: 'I32', shape: [2, 0, 3], data: [] },
        long: { dtype: 'I64', shape: [2], data: BigInt64Array.from([1n << 40n, -3n]) },
      },
      { producer: 'flstm', note: 'ünïcode ✓' },
    );
    const { n } = headerOf(bytes);
    expect((8 + n) % 8).toBe(0);
    const d = decodeSafetensors(bytes);
    expect(d.metadata).toEqual({ producer: 'flstm', note: 'ünïcode ✓' });
    expect(Object.keys(d.tensors).sort()).toEqual(['empty', 'empty2', 'ids', 'layers.0.W', 'long', 'scalar']);
    expect(d.tensors['layers.0.W']).toEqual({ dtype: 'F32', shape: [3, 4], data: w });
    expect(d.tensors.ids!.data).toEqual(Int32Array.from([0, -1, 2147483647, -2147483648]));
    expect(d.tensors.scalar!.shape).toEqual([]);
    expect(d.tensors.scalar!.data).toEqual(Float32Array.from([0.1]));
    expect(d.tensors.empty).toEqual({ dtype: 'F32', shape: [0], data: new Float32Array(0) });
    expect(d.tensors.empty2!.shape).toEqual([2, 0, 3]);
    expect(d.tensors.empty2!.data).toBeInstanceOf(Int32Array);
    expect(d.tensors.long!.data).toEqual(BigInt64Array.from([1n << 40n, -3n]));
    // The decoded data is a fresh array, not a view of the input.
    bytes.fill(0);
    expect(d.tensors['layers.0.W']!.data).toEqual(w);
  });

  it('encodes nothing, and no metadata, as a valid file', () => {
    const d = decodeSafetensors(encodeSafetensors({}));
    expect(d).toEqual({ tensors: {}, metadata: {} });
  });

  it('keeps the order given (within a dtype size) and aligns every tensor', () => {
    const bytes = encodeSafetensors({
      b: { dtype: 'F32', shape: [1], data: [1] },
      a: { dtype: 'I32', shape: [1], data: [2] },
      c: { dtype: 'I64', shape: [1], data: [3] },
    });
    const { json } = headerOf(bytes);
    expect(json.c.data_offsets).toEqual([0, 8]);
    expect(json.b.data_offsets).toEqual([8, 12]);
    expect(json.a.data_offsets).toEqual([12, 16]);
    expect(Object.keys(decodeSafetensors(bytes).tensors)).toEqual(['c', 'b', 'a']);
  });

  it('decodes a file written by hand in the safetensors layout (unpadded header, any order)', () => {
    const data = new Uint8Array(4 * 3 + 4 * 2 + 8);
    const v = new DataView(data.buffer);
    // I32 [2] at 12..20, F32 [3] at 0..12, I64 [] at 20..28: offsets not in header order.
    [1.5, -2, 3.25].forEach((x, i) => v.setFloat32(i * 4, x, true));
    [7, -9].forEach((x, i) => v.setInt32(12 + i * 4, x, true));
    v.setBigInt64(20, -5n, true);
    const bytes = handWritten(
      {
        ints: { dtype: 'I32', shape: [2], data_offsets: [12, 20] },
        __metadata__: { format: 'pt' },
        floats: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
        one: { dtype: 'I64', shape: [], data_offsets: [20, 28] },
      },
      data,
      false,
    );
    // From an unaligned position inside a larger buffer (as a Node Buffer from the pool can be).
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    const d = decodeSafetensors(big.subarray(3));
    expect(d.metadata).toEqual({ format: 'pt' });
    expect(Object.keys(d.tensors)).toEqual(['floats', 'ints', 'one']);
    expect(Array.from(d.tensors.floats!.data as Float32Array)).toEqual([1.5, -2, 3.25]);
    expect(Array.from(d.tensors.ints!.data as Int32Array)).toEqual([7, -9]);
    expect(d.tensors.one!.data).toEqual(BigInt64Array.from([-5n]));
  });

  it('decodes a file written by the reference Python safetensors (0.8.0, numpy)', () => {
    // save_file({'w': arange(6).reshape(2,3)/3 f32, 'i': [1,-5] i32, 'l': [2**40,-3] i64,
    //            'z': zeros((0,4)) f32, 'sc': 2.5 f32}, metadata={'a': 'b'})
    const b64 =
      'MAEAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJhIjoiYiJ9LCJsIjp7ImR0eXBlIjoiSTY0Iiwic2hhcGUiOlsyXSwiZGF0YV9vZmZzZXRzIjpbMCwxNl19LCJzYyI6eyJkdHlwZSI6IkYzMiIsInNoYXBlIjpbXSwiZGF0YV9vZmZzZXRzIjpbMTYsMjBdfSwidyI6eyJkdHlwZSI6IkYzMiIsInNoYXBlIjpbMiwzXSwiZGF0YV9vZmZzZXRzIjpbMjAsNDRdfSwieiI6eyJkdHlwZSI6IkYzMiIsInNoYXBlIjpbMCw0XSwiZGF0YV9vZmZzZXRzIjpbNDQsNDRdfSwiaSI6eyJkdHlwZSI6IkkzMiIsInNoYXBlIjpbMl0sImRhdGFfb2Zmc2V0cyI6WzQ0LDUyXX19AAAAAAABAAD9/////////wAAIEAAAAAAq6qqPquqKj8AAIA/q6qqP1VV1T8BAAAA+////w==';
    const d = decodeSafetensors(new Uint8Array(Buffer.from(b64, 'base64')));
    expect(d.metadata).toEqual({ a: 'b' });
    expect(d.tensors.w!.shape).toEqual([2, 3]);
    expect(d.tensors.w!.data).toEqual(Float32Array.from([0, 1, 2, 3, 4, 5], (x) => x / 3));
    expect(d.tensors.i!.data).toEqual(Int32Array.from([1, -5]));
    expect(d.tensors.l!.data).toEqual(BigInt64Array.from([1n << 40n, -3n]));
    expect(d.tensors.z).toEqual({ dtype: 'F32', shape: [0, 4], data: new Float32Array(0) });
    expect(d.tensors.sc).toEqual({ dtype: 'F32', shape: [], data: Float32Array.from([2.5]) });
  });

  describe('each corruption gets one clear message', () => {
    const good = encodeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: [1, 2, 3, 4] } }, { k: 'v' });
    const n = headerOf(good).n;
    const bad = (bytes: Uint8Array) => () => decodeSafetensors(bytes, 'model.safetensors');
    const withHeader = (h: unknown, data = new Uint8Array(16)) => handWritten(h, data);

    it('empty or shorter than the length field', () => {
      expect(bad(new Uint8Array(0))).toThrow(/model\.safetensors: the file is 0 bytes, shorter than the 8-byte header length/);
      expect(bad(good.subarray(0, 5))).toThrow(SafetensorsError);
    });
    it('header length beyond the file (truncated inside the header)', () => {
      expect(bad(good.subarray(0, 8 + n - 3))).toThrow(
        new RegExp(`header length ${n} goes beyond the end of the file \\(${8 + n - 3} bytes\\)`),
      );
      const huge = new Uint8Array(16);
      new DataView(huge.buffer).setBigUint64(0, 0xffffffffffffffffn, true);
      expect(bad(huge)).toThrow(/header length 18446744073709551615 goes beyond the end of the file/);
    });
    it('truncated inside the data: offsets out of range', () => {
      expect(bad(good.subarray(0, good.length - 1))).toThrow(
        /tensor 'w' has data_offsets \[0, 16\], out of range: the data is 15 bytes \(the file is truncated or corrupt\)/,
      );
    });
    it('header that is not JSON, not UTF-8, or not an object', () => {
      const b = good.slice();
      b[8] = 0x78; // 'x' instead of '{'
      expect(bad(b)).toThrow(/model\.safetensors: the header is not valid JSON/);
      const u = good.slice();
      u[9] = 0xff;
      expect(bad(u)).toThrow(/the header is not valid UTF-8/);
      expect(bad(withHeader([1, 2]))).toThrow(/the header is not a JSON object of tensors by name/);
    });
    it('unknown dtype', () => {
      expect(bad(withHeader({ w: { dtype: 'BF16', shape: [8], data_offsets: [0, 16] } }))).toThrow(
        /tensor 'w' has dtype "BF16"; flstm reads F32, I32 and I64/,
      );
    });
    it('bad shape or offsets', () => {
      expect(bad(withHeader({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }))).toThrow(/tensor 'w' has shape \[-1\]/);
      expect(bad(withHeader({ w: { dtype: 'F32', shape: [1], data_offsets: [4] } }))).toThrow(
        /tensor 'w' has data_offsets \[4\]; expected \[begin, end\]/,
      );
      expect(bad(withHeader({ w: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }))).toThrow(/begin is after end/);
    });
    it('data length not matching shape and dtype', () => {
      expect(bad(withHeader({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }))).toThrow(
        /tensor 'w' \(F32 \[3\]\) has 16 bytes of data, but its shape and dtype need 12/,
      );
    });
    it('overlapping offsets', () => {
      const h = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'I32', shape: [2], data_offsets: [4, 12] } };
      expect(bad(withHeader(h))).toThrow(/tensors 'a' \[0, 8\] and 'b' \[4, 12\] have overlapping data_offsets/);
    });
    it('metadata that is not strings', () => {
      expect(bad(withHeader({ __metadata__: { step: 3 } }))).toThrow(/__metadata__ 'step' must be a string/);
    });
  });

  it('the encoder checks its input', () => {
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: [1, 2, 3] } })).toThrow(
      /tensor 'w' \(F32 \[2, 2\]\): has 3 values, but its shape holds 4/,
    );
    expect(() => encodeSafetensors({ w: { dtype: 'F16' as 'F32', shape: [1], data: [1] } })).toThrow(
      /dtype "F16"; expected F32, I32 or I64/,
    );
    expect(() => encodeSafetensors({ w: { dtype: 'I32', shape: [1], data: [1.5] } })).toThrow(
      /value 1.5 at index 0 is not a 32-bit integer/,
    );
    expect(() => encodeSafetensors({ __metadata__: { dtype: 'F32', shape: [], data: [1] } })).toThrow(/cannot be a tensor name/);
    expect(() => encodeSafetensors({}, { n: 1 as unknown as string })).toThrow(/metadata 'n' must be a string/);
  });
});

function sampleCheckpoint(seed: number): Checkpoint {
  const f = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => seed * 100 + k + i / 8);
  return {
    model: {
      'embedding.weight': { shape: [5, 3], data: f(15, 1) },
      'layers.0.W': { shape: [3, 8], data: f(24, 2) },
      'layers.0.b': { shape: [8], data: f(8, 3) },
    },
    optimizer: {
      tensors: { 'embedding.weight.acc': { shape: [5, 3], data: f(15, 4) }, counts: { shape: [2], data: Int32Array.from([seed, 7]) } },
      scalars: { step: seed * 10, lr: 0.2, name: 'adagrad' },
    },
    config: { model: { cell: 'glstm', groups: [2, 2], hidden: 8 }, step: seed * 10, rng: { dropoutCounter: 12345678901 }, data: 'brown' },
    vocab: `<unk>\nthe\n${seed}\n`,
  };
}

describe('checkpoints', () => {
  it('save and load round trip', async () => {
    const dir = join(await tempDir(), 'run', 'ckpt');
    const ck = sampleCheckpoint(1);
    const r = await saveCheckpoint(dir, ck);
    expect(r.generation).toBe(1);
    const got = await loadCheckpoint(dir);
    expect(got.model).toEqual(ck.model);
    expect(got.optimizer).toEqual(ck.optimizer);
    expect(got.config).toEqual(ck.config);
    expect(got.vocab).toBe(ck.vocab);
    expect(got.generation).toBe(1);
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'model-1.safetensors', 'optimizer-1.safetensors', 'vocab-1.txt']);
    // The weights file stands alone for other tools.
    const w = decodeSafetensors(await readFile(join(dir, 'model-1.safetensors')));
    expect(w.tensors['layers.0.W']!.shape).toEqual([3, 8]);
  });

  it('a save reports the bytes written as it goes, up to the total of its files on disk', async () => {
    const dir = join(await tempDir(), 'progress');
    const heard: [number, number][] = [];
    await saveCheckpoint(dir, sampleCheckpoint(2), { onBytes: (written, total) => heard.push([written, total]) });
    const sizes = await Promise.all((await readdir(dir)).map(async (f) => (await readFile(join(dir, f))).length));
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(heard.length).toBeGreaterThan(1);
    expect(heard.every(([, t]) => t === total)).toBe(true);
    expect(heard.map(([w]) => w)).toEqual([...heard.map(([w]) => w)].sort((x, y) => x - y));
    expect(heard.at(-1)![0]).toBe(total);
  });

  it('a later save replaces the earlier one and removes its files; optional parts may be left out', async () => {
    const dir = await tempDir();
    await saveCheckpoint(dir, sampleCheckpoint(1));
    const ck2 = { model: sampleCheckpoint(2).model, config: { step: 20 } };
    const r = await saveCheckpoint(dir, ck2);
    expect(r.generation).toBe(2);
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'model-2.safetensors']);
    const got = await loadCheckpoint(dir);
    expect(got.model).toEqual(ck2.model);
    expect(got.optimizer).toBeUndefined();
    expect(got.vocab).toBeUndefined();
    expect(got.config).toEqual({ step: 20 });
  });

  for (const [action, file] of [
    ['write', 'model'],
    ['rename', 'model'],
    ['rename', 'optimizer'],
    ['write', 'vocab'],
    ['write', 'config.json'],
    ['rename', 'config.json'],
  ] as const) {
    it(`a failure at the ${action} of ${file} leaves the previous checkpoint loadable and nothing behind`, async () => {
      const dir = await tempDir();
      await saveCheckpoint(dir, sampleCheckpoint(1));
      const before = (await readdir(dir)).sort();
      const err = await saveCheckpoint(dir, sampleCheckpoint(2), {
        beforeStep: (s) => {
          if (s.action === action && s.file.split(/[\\/]/).pop()!.startsWith(file)) throw new Error('injected crash');
        },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CheckpointError);
      expect((err as Error).message).toMatch(/failed while writing .*injected crash.*the previous checkpoint there, if any, is unchanged/);
      const got = await loadCheckpoint(dir);
      expect(got.model).toEqual(sampleCheckpoint(1).model);
      expect(got.optimizer).toEqual(sampleCheckpoint(1).optimizer);
      expect(got.vocab).toBe(sampleCheckpoint(1).vocab);
      expect((await readdir(dir)).sort()).toEqual(before);
    });
  }

  it('a hard crash (no cleanup: half-written temporary and new-generation files) leaves the previous checkpoint loadable; the next save tidies up', async () => {
    const dir = await tempDir();
    await saveCheckpoint(dir, sampleCheckpoint(1));
    // What a process killed mid-save leaves: a renamed new model, a half-written temp optimizer.
    await writeFile(join(dir, 'model-2.safetensors'), encodeSafetensors({ x: { dtype: 'F32', shape: [1], data: [9] } }));
    await writeFile(join(dir, 'optimizer-2.safetensors.tmp-4242-beef'), new Uint8Array(10));
    await writeFile(join(dir, 'config.json.tmp-4242-abc1'), '{"format": "flstm-ch');
    const got = await loadCheckpoint(dir);
    expect(got.generation).toBe(1);
    expect(got.model).toEqual(sampleCheckpoint(1).model);
    const r = await saveCheckpoint(dir, sampleCheckpoint(3));
    expect(r.generation).toBe(3); // never reuses a generation that may have files lying around
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'model-3.safetensors', 'optimizer-3.safetensors', 'vocab-3.txt']);
    expect((await loadCheckpoint(dir)).model).toEqual(sampleCheckpoint(3).model);
  });

  it('writeFileAtomic replaces a file whole and leaves no temporary file on failure', async () => {
    const dir = await tempDir();
    const f = join(dir, 'a.txt');
    await writeFileAtomic(f, 'one');
    await expect(
      writeFileAtomic(f, 'two', {
        beforeStep: (s) => {
          if (s.action === 'rename') throw new Error('boom');
        },
      }),
    ).rejects.toThrow('boom');
    expect(await readFile(f, 'utf8')).toBe('one');
    expect(await readdir(dir)).toEqual(['a.txt']);
    await writeFileAtomic(f, new Uint8Array([116, 119, 111]));
    expect(await readFile(f, 'utf8')).toBe('two');
  });

  it('refuses a config that JSON cannot hold before writing anything', async () => {
    const dir = await tempDir();
    await expect(saveCheckpoint(dir, { model: {}, config: { lr: NaN } })).rejects.toThrow(/config\.lr is NaN, which JSON cannot hold/);
    await expect(saveCheckpoint(dir, { model: {}, config: { a: [1, 2n] } })).rejects.toThrow(/config\.a\[1\] is a bigint/);
    expect(await readdir(dir)).toEqual([]);
  });

  describe('load errors', () => {
    it('missing directory, a file instead, no config.json', async () => {
      const base = await tempDir();
      await expect(loadCheckpoint(join(base, 'nope'))).rejects.toThrow(/the checkpoint directory '.*nope' does not exist/);
      await writeFile(join(base, 'file'), 'x');
      await expect(loadCheckpoint(join(base, 'file'))).rejects.toThrow(/'.*file' is a file, not a checkpoint directory/);
      await mkdir(join(base, 'empty'));
      await expect(loadCheckpoint(join(base, 'empty'))).rejects.toThrow(/has no config\.json, so it holds no checkpoint/);
    });
    it('config.json that is not JSON or not a flstm checkpoint', async () => {
      const dir = await tempDir();
      await saveCheckpoint(dir, sampleCheckpoint(1));
      const text = await readFile(join(dir, 'config.json'), 'utf8');
      await writeFile(join(dir, 'config.json'), text.slice(0, text.length / 2));
      await expect(loadCheckpoint(dir)).rejects.toThrow(/config\.json is not valid JSON \(.*\): the checkpoint is corrupt/);
      await writeFile(join(dir, 'config.json'), '{"hidden_size": 5}');
      await expect(loadCheckpoint(dir)).rejects.toThrow(/config\.json is not a flstm checkpoint config/);
      await writeFile(join(dir, 'config.json'), text.replace('"model-1.safetensors"', '"../../etc/passwd"'));
      await expect(loadCheckpoint(dir)).rejects.toThrow(
        /files\.model must be a file name in the checkpoint directory, got "\.\.\/\.\.\/etc\/passwd"/,
      );
      // A save over a corrupt config.json works and repairs it.
      await saveCheckpoint(dir, sampleCheckpoint(2));
      expect((await loadCheckpoint(dir)).config).toEqual(sampleCheckpoint(2).config);
    });
    it('a missing, truncated or corrupt weights file', async () => {
      const dir = await tempDir();
      await saveCheckpoint(dir, sampleCheckpoint(1));
      const file = join(dir, 'model-1.safetensors');
      const bytes = await readFile(file);
      await writeFile(file, bytes.subarray(0, bytes.length - 10));
      await expect(loadCheckpoint(dir)).rejects.toThrow(
        /model-1\.safetensors: tensor 'layers\.0\.b' has data_offsets \[\d+, \d+\], out of range/,
      );
      await writeFile(file, bytes.subarray(0, 20));
      await expect(loadCheckpoint(dir)).rejects.toThrow(
        /model-1\.safetensors: the header length \d+ goes beyond the end of the file \(20 bytes\)/,
      );
      await rm(file);
      await expect(loadCheckpoint(dir)).rejects.toThrow(
        /config\.json names model-1\.safetensors, which is missing: the checkpoint is incomplete/,
      );
    });
  });

  describe('checkCompatible', () => {
    const model = sampleCheckpoint(1).model;
    it('accepts the same names and shapes', () => {
      expect(() =>
        checkCompatible(model, { 'embedding.weight': { shape: [5, 3] }, 'layers.0.W': { shape: [3, 8] }, 'layers.0.b': { shape: [8] } }),
      ).not.toThrow();
    });
    it('names the first mismatching tensor and both shapes', () => {
      expect(() =>
        checkCompatible(model, { 'embedding.weight': { shape: [5, 3] }, 'layers.0.W': { shape: [3, 16] }, 'layers.0.b': { shape: [16] } }),
      ).toThrow("flstm: the checkpoint is from another model shape: 'layers.0.W' is [3, 8] in the checkpoint but [3, 16] in this model");
      expect(() =>
        checkCompatible(model, {
          'embedding.weight': { shape: [5, 3] },
          'layers.0.W': { shape: [3, 8] },
          'layers.0.b': { shape: [8] },
          'layers.1.W': { shape: [8, 8] },
        }),
      ).toThrow("it has no tensor 'layers.1.W' (this model has it with shape [8, 8])");
      expect(() => checkCompatible(model, { 'embedding.weight': { shape: [5, 3] }, 'layers.0.W': { shape: [3, 8] } })).toThrow(
        "it has tensor 'layers.0.b' [8], which this model does not have",
      );
      expect(() => checkCompatible(model, { 'embedding.weight': { shape: [5, 3, 1] } })).toThrow(CheckpointError);
    });
  });
});
