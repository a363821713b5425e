// .safetensors files of any size in Node: written from a laid-out file chunk by chunk, read
// by reading the header first and then each tensor's bytes straight into its typed array, so
// that no buffer ever holds the whole file (Node's Buffer cannot hold one past a few GB). The
// format and every check are safetensors.ts's.
import { open, type FileHandle } from 'node:fs/promises';
import {
  parseSafetensorsHeader,
  safetensorsHeaderLength,
  tensorForSpan,
  toHostOrder,
  type DecodedSafetensors,
  type SafeTensor,
} from './safetensors.js';

/** The most bytes one read asks for (a single read is limited to 2 GiB). */
const READ_CHUNK = 1 << 26;

/** Reads `length` bytes at `position` into `into` (at most READ_CHUNK per call); throws on a short read. */
async function readFully(h: FileHandle, into: Uint8Array, position: number, source: string): Promise<void> {
  for (let done = 0; done < into.length; ) {
    const want = Math.min(READ_CHUNK, into.length - done);
    const { bytesRead } = await h.read(into, done, want, position + done);
    if (bytesRead === 0) throw new Error(`flstm: ${source}: the file ended while it was read (it changed or was truncated meanwhile)`);
    done += bytesRead;
  }
}

/** Decodes the .safetensors file `path`, as decodeSafetensors does its bytes; `source` names it in errors. */
export async function readSafetensorsFile(path: string, source = path): Promise<DecodedSafetensors> {
  const h = await open(path, 'r');
  try {
    const size = (await h.stat()).size;
    const first = new Uint8Array(Math.min(8, size));
    await readFully(h, first, 0, source);
    const n = safetensorsHeaderLength(first, size, source);
    const prefix = new Uint8Array(8 + n);
    await readFully(h, prefix, 0, source);
    const { metadata, spans, dataStart } = parseSafetensorsHeader(prefix, size, source);
    const tensors: Record<string, SafeTensor> = {};
    for (const span of spans) {
      const { tensor, bytes } = tensorForSpan(span);
      await readFully(h, bytes, dataStart + span.begin, source);
      toHostOrder(bytes, span.dtype);
      Object.defineProperty(tensors, span.name, { value: tensor, enumerable: true, writable: true, configurable: true });
    }
    return { tensors, metadata };
  } finally {
    await h.close();
  }
}

/**
 * Writes `chunks` to an open file in order; `onBytes` hears the bytes of each chunk once
 * written. Chunks made as they are written (read from the GPU) are asked for one at a time.
 */
export async function writeChunks(
  h: FileHandle,
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  onBytes?: (bytes: number) => void,
): Promise<void> {
  for await (const chunk of chunks) {
    for (let done = 0; done < chunk.length; ) {
      const { bytesWritten } = await h.write(chunk, done, chunk.length - done);
      done += bytesWritten;
    }
    onBytes?.(chunk.length);
  }
}
