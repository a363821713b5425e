// .safetensors files written and read in chunks (checkpoints of any size) are the bytes and
// tensors of the in-memory encoder and decoder, with the same errors.
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeSafetensors,
  encodeSafetensors,
  layoutSafetensors,
  safetensorsChunks,
  type SafeTensorInput,
} from '../src/train/safetensors.js';
import { readSafetensorsFile, writeChunks } from '../src/train/safetensors_file.js';
import { freshSeed } from './helpers.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function someTensors(seed: number): Record<string, SafeTensorInput> {
  const f = Float32Array.from({ length: 1001 }, (_, i) => Math.sin(seed + i));
  return {
    embedding: { dtype: 'F32', shape: [77, 13], data: f },
    steps: { dtype: 'I64', shape: [3], data: BigInt64Array.from([1n, -2n, BigInt(seed)]) },
    ids: { dtype: 'I32', shape: [2, 2], data: Int32Array.from([seed, -1, 7, 2 ** 31 - 1]) },
    empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array() },
  };
}

async function written(bytesOrChunks: Uint8Array | Iterable<Uint8Array>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flstm-st-'));
  dirs.push(dir);
  const file = join(dir, 'f.safetensors');
  if (bytesOrChunks instanceof Uint8Array) await writeFile(file, bytesOrChunks);
  else {
    const h = await open(file, 'w');
    await writeChunks(h, bytesOrChunks);
    await h.close();
  }
  return file;
}

describe('safetensors files in chunks', () => {
  it("the chunks of a layout, at any chunk size, are the encoder's bytes", () => {
    const seed = freshSeed();
    const tensors = someTensors(seed);
    const whole = encodeSafetensors(tensors, { note: 'x' });
    for (const chunk of [1, 7, 4096, 1 << 26]) {
      const parts = [...safetensorsChunks(layoutSafetensors(tensors, { note: 'x' }), chunk)];
      expect(
        parts.every((p) => p.length <= Math.max(chunk, parts[0].length)),
        `chunk ${chunk}`,
      ).toBe(true);
      expect(Buffer.concat(parts).equals(Buffer.from(whole)), `chunk ${chunk} seed=${seed}`).toBe(true);
    }
  });

  it('a file written in chunks reads back as the decoder reads its bytes', async () => {
    const seed = freshSeed();
    const tensors = someTensors(seed);
    const file = await written(safetensorsChunks(layoutSafetensors(tensors, { a: '1' }), 5));
    const fromFile = await readSafetensorsFile(file);
    const fromBytes = decodeSafetensors(encodeSafetensors(tensors, { a: '1' }));
    expect(fromFile).toEqual(fromBytes);
    expect(Object.keys(fromFile.tensors)).toEqual(['steps', 'embedding', 'ids', 'empty']);
    expect(Array.from(fromFile.tensors.embedding.data as Float32Array)).toEqual(Array.from(tensors.embedding.data as Float32Array));
  });

  it("a damaged file fails with the decoder's message, naming the file", async () => {
    const good = encodeSafetensors(someTensors(3));
    const huge = good.slice();
    new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
    const flipped = good.slice();
    flipped[12] ^= 0xff;
    const cases: [string, Uint8Array][] = [
      ['empty', new Uint8Array()],
      ['5 bytes', good.subarray(0, 5)],
      ['header cut', good.subarray(0, 40)],
      ['data cut', good.subarray(0, good.length - 3)],
      ['length 2^40', huge],
      ['header byte flipped', flipped],
    ];
    for (const [what, bytes] of cases) {
      const file = await written(bytes);
      let expected = '';
      try {
        decodeSafetensors(bytes, file);
      } catch (e) {
        expected = (e as Error).message;
      }
      expect(expected, what).toMatch(new RegExp(`^flstm: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `));
      await expect(readSafetensorsFile(file), what).rejects.toThrow(expected);
    }
  });
});
