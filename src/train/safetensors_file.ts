// .safetensors files of any size in Node: written from a laid-out file chunk by chunk, read
// by reading the header first and then each tensor's bytes straight into its typed array, so
// that no buffer ever holds the whole file (Node's Buffer cannot hold one past a few GB); or
// opened (the header alone read) for a loader that reads each tensor a range at a time. The
// format and every check are safetensors.ts's.
import { open, type FileHandle } from 'node:fs/promises';
import {
  parseSafetensorsHeader,
  safetensorsHeaderLength,
  tensorForSpan,
  toHostOrder,
  DTYPE_BYTES,
  type DecodedSafetensors,
  type SafeTensor,
  type SafetensorsData,
  type SafetensorsDType,
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

/** The header of the open file `h`: its metadata and its tensors' spans (checked), in file order. */
async function readHeaderOf(h: FileHandle, source: string): Promise<ReturnType<typeof parseSafetensorsHeader>> {
  const size = (await h.stat()).size;
  const first = new Uint8Array(Math.min(8, size));
  await readFully(h, first, 0, source);
  const n = safetensorsHeaderLength(first, size, source);
  const prefix = new Uint8Array(8 + n);
  await readFully(h, prefix, 0, source);
  return parseSafetensorsHeader(prefix, size, source);
}

/** Decodes the .safetensors file `path`, as decodeSafetensors does its bytes; `source` names it in errors. */
export async function readSafetensorsFile(path: string, source = path): Promise<DecodedSafetensors> {
  const h = await open(path, 'r');
  try {
    const { metadata, spans, dataStart } = await readHeaderOf(h, source);
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

/** A tensor of an open file: its header entry, and its values read a range at a time. */
export interface FileTensor {
  dtype: SafetensorsDType;
  shape: number[];
  /** Values offset .. offset + into.length - 1 into `into` (an array of the dtype's type, reused from piece to piece). */
  readInto(offset: number, into: SafetensorsData): Promise<void>;
}

/** An open .safetensors file whose header alone has been read: its tensors are read when asked for. */
export interface OpenSafetensors {
  metadata: Record<string, string>;
  /** In the order of their data in the file. */
  tensors: Record<string, FileTensor>;
  close(): Promise<void>;
}

/**
 * Opens the .safetensors file `path` and reads its header (checked as readSafetensorsFile
 * checks it), not its data: each tensor is read later, a range at a time, so a model larger
 * than the host's memory can be loaded piece by piece. The file stays open until close(): a
 * save that replaces it meanwhile removes its name, not the data being read.
 */
export async function openSafetensorsFile(path: string, source = path): Promise<OpenSafetensors> {
  const h = await open(path, 'r');
  try {
    const { metadata, spans, dataStart } = await readHeaderOf(h, source);
    const tensors: Record<string, FileTensor> = {};
    for (const span of spans) {
      const size = DTYPE_BYTES[span.dtype];
      const values = (span.end - span.begin) / size;
      const readInto = async (offset: number, into: SafetensorsData): Promise<void> => {
        const count = into.length;
        if (!(Number.isSafeInteger(offset) && offset >= 0 && offset + count <= values))
          throw new Error(`flstm: ${source}: values [${offset}, ${offset + count}) of '${span.name}' are not within its ${values}`);
        const bytes = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
        await readFully(h, bytes, dataStart + span.begin + offset * size, source);
        toHostOrder(bytes, span.dtype);
      };
      const t: FileTensor = { dtype: span.dtype, shape: span.shape, readInto };
      Object.defineProperty(tensors, span.name, { value: t, enumerable: true, writable: true, configurable: true });
    }
    return { metadata, tensors, close: () => h.close() };
  } catch (e) {
    await h.close();
    throw e;
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
