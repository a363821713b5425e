// The .safetensors format (https://github.com/huggingface/safetensors), pure functions over
// Uint8Array so that the browser can use them too (files of any size are written and read in
// chunks by safetensors_file.ts, with the layout and header checks of this module):
//
//   8 bytes   N, the header length, unsigned little-endian
//   N bytes   UTF-8 JSON: { "name": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] },
//                           ..., "__metadata__": { string: string } }, padded with spaces
//   the rest  the raw little-endian tensor data; offsets are relative to its first byte
//
// F32, I32 and I64 are read and written (I64 as BigInt64Array). The writer pads the header so
// that the data starts at a multiple of 8 and puts 8-byte tensors first, so every tensor is
// aligned to its element size (as the reference writer does). A tensor to write may also be
// streamed (read a piece at a time as the file is written: safetensorsStream), for weights
// too large to copy whole to the host. The reader checks everything it relies on and throws
// one SafetensorsError naming what is wrong.

export type SafetensorsDType = 'F32' | 'I32' | 'I64';
export type SafetensorsData = Float32Array | Int32Array | BigInt64Array;

/** A decoded tensor: the data is a fresh, aligned typed array (never a view of the input). */
export interface SafeTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: SafetensorsData;
}

/** A tensor to encode; F32 and I32 data may be any array of numbers (checked and converted). */
export interface SafeTensorInput {
  dtype: SafetensorsDType;
  shape: readonly number[];
  data: ArrayLike<number> | BigInt64Array;
}

/**
 * A tensor to encode whose data is read as the file is written, a piece at a time, so that a
 * large model's weights are never whole on the host: `read(offset, count)` gives values
 * offset .. offset + count - 1 (flat, row-major) as the dtype's array type.
 */
export interface StreamedTensorInput {
  dtype: 'F32' | 'I32';
  shape: readonly number[];
  read(offset: number, count: number): Promise<Float32Array | Int32Array>;
}

export interface DecodedSafetensors {
  /** In the order of their data in the file (for files this module writes: the order given). */
  tensors: Record<string, SafeTensor>;
  metadata: Record<string, string>;
}

/** A corrupt, truncated or unsupported .safetensors file, or bad input to the encoder. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message.startsWith('flstm') ? message : `flstm: ${message}`);
    this.name = 'SafetensorsError';
  }
}

export const DTYPE_BYTES: Record<SafetensorsDType, number> = { F32: 4, I32: 4, I64: 8 };
/** The reference implementation refuses headers above 100 MB; so do we. */
const MAX_HEADER = 100_000_000;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** obj[key] = value as an own property, even for '__proto__' (a legal tensor name). */
function setOwn(obj: object, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function isDType(d: unknown): d is SafetensorsDType {
  return d === 'F32' || d === 'I32' || d === 'I64';
}

function checkedShape(shape: unknown): number[] | null {
  if (!Array.isArray(shape)) return null;
  for (const d of shape) if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) return null;
  return shape as number[];
}

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Reverses each `size`-byte group in place (only on a big-endian host). */
function swapBytes(b: Uint8Array, size: number): void {
  for (let i = 0; i + size <= b.length; i += size) {
    for (let j = 0; j < size / 2; j++) {
      const t = b[i + j]!;
      b[i + j] = b[i + size - 1 - j]!;
      b[i + size - 1 - j] = t;
    }
  }
}

/** The typed array of `dtype` over `buf`. */
export function typedArrayOf(dtype: SafetensorsDType, buf: ArrayBuffer): SafetensorsData {
  if (dtype === 'F32') return new Float32Array(buf);
  if (dtype === 'I32') return new Int32Array(buf);
  return new BigInt64Array(buf);
}

/** The data of `t` as the typed array of its dtype, checked against its shape. */
function toTyped(name: string, t: SafeTensorInput, count: number): SafetensorsData {
  const what = `safetensors: tensor '${name}' (${t.dtype} ${fmtShape(t.shape)})`;
  const d = t.data as unknown;
  if (d === null || typeof d !== 'object' || typeof (d as ArrayLike<number>).length !== 'number') {
    throw new SafetensorsError(`${what}: data must be a typed array or an array of numbers, got ${d === null ? 'null' : typeof d}`);
  }
  const len = (d as ArrayLike<number>).length;
  if (len !== count) throw new SafetensorsError(`${what}: has ${len} values, but its shape holds ${count}`);
  if (t.dtype === 'I64') {
    if (d instanceof BigInt64Array) return d;
    const out = new BigInt64Array(count);
    const src = d as ArrayLike<number>;
    for (let i = 0; i < count; i++) {
      const v = src[i]!;
      if (!Number.isSafeInteger(v)) throw new SafetensorsError(`${what}: value ${v} at index ${i} is not an integer`);
      out[i] = BigInt(v);
    }
    return out;
  }
  if (d instanceof BigInt64Array) throw new SafetensorsError(`${what}: BigInt64Array data needs dtype I64`);
  if (t.dtype === 'F32') return d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>);
  if (d instanceof Int32Array) return d;
  const src = d as ArrayLike<number>;
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = src[i]!;
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
      throw new SafetensorsError(`${what}: value ${v} at index ${i} is not a 32-bit integer`);
    }
    out[i] = v;
  }
  return out;
}

/**
 * Encodes tensors (and optional string metadata) as a .safetensors file. Tensor names are any
 * non-empty strings except `__metadata__`; the data is copied in the order given (8-byte
 * dtypes first, for alignment).
 */
export function encodeSafetensors(tensors: Record<string, SafeTensorInput>, metadata?: Record<string, string>): Uint8Array {
  const layout = layoutSafetensors(tensors, metadata);
  const out = new Uint8Array(layout.header.length + layout.dataBytes);
  let at = 0;
  for (const chunk of safetensorsChunks(layout)) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

interface LayoutEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** The data, in memory; or how to read it, a piece at a time. */
  data?: SafetensorsData;
  read?: StreamedTensorInput['read'];
}

/** Whether `t` is read as the file is written (it has no data, a reader). */
function isStreamed(t: SafeTensorInput | StreamedTensorInput): t is StreamedTensorInput {
  return typeof (t as StreamedTensorInput).read === 'function' && (t as SafeTensorInput).data === undefined;
}

/** A file to write: its first bytes (the length and the header), then its tensors' data in order. */
export interface SafetensorsLayout {
  header: Uint8Array;
  entries: readonly LayoutEntry[];
  dataBytes: number;
}

/** Checks the tensors and metadata and lays the file out; nothing is copied (nor read) yet. */
export function layoutSafetensors(
  tensors: Record<string, SafeTensorInput | StreamedTensorInput>,
  metadata?: Record<string, string>,
): SafetensorsLayout {
  if (tensors === null || typeof tensors !== 'object') {
    throw new SafetensorsError(`safetensors: expected an object of tensors by name, got ${tensors === null ? 'null' : typeof tensors}`);
  }
  const entries: LayoutEntry[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '' || name === '__metadata__') throw new SafetensorsError(`safetensors: ${JSON.stringify(name)} cannot be a tensor name`);
    if (t === null || typeof t !== 'object') throw new SafetensorsError(`safetensors: tensor '${name}' must be { dtype, shape, data }`);
    if (!isDType(t.dtype))
      throw new SafetensorsError(`safetensors: tensor '${name}' has dtype ${JSON.stringify(t.dtype)}; expected F32, I32 or I64`);
    const shape = checkedShape(t.shape);
    if (!shape)
      throw new SafetensorsError(
        `safetensors: tensor '${name}' has shape ${JSON.stringify(t.shape)}; expected an array of non-negative integers`,
      );
    if (!isStreamed(t)) entries.push({ name, dtype: t.dtype, shape: [...shape], data: toTyped(name, t, elementCount(shape)) });
    else if ((t.dtype as SafetensorsDType) === 'I64')
      throw new SafetensorsError(`safetensors: tensor '${name}': an I64 tensor cannot be streamed`);
    else entries.push({ name, dtype: t.dtype, shape: [...shape], read: t.read.bind(t) });
  }
  // Stable: 8-byte tensors first, then the 4-byte ones, each group in the order given.
  entries.sort((a, b) => DTYPE_BYTES[b.dtype] - DTYPE_BYTES[a.dtype]);

  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
      throw new SafetensorsError('safetensors: metadata must be an object of strings by name');
    }
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`safetensors: metadata '${k}' must be a string, got ${typeof v}`);
    }
    if (Object.keys(metadata).length) setOwn(header, '__metadata__', { ...metadata });
  }
  let offset = 0;
  for (const e of entries) {
    const bytes = elementCount(e.shape) * DTYPE_BYTES[e.dtype];
    setOwn(header, e.name, { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + bytes] });
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const n = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + n);
  new DataView(head.buffer).setBigUint64(0, BigInt(n), true);
  head.set(json, 8);
  head.fill(0x20, 8 + json.length, 8 + n);
  return { header: head, entries, dataBytes: offset };
}

/**
 * The bytes of a laid-out file in order, at most `chunkBytes` at a time: the header, then
 * each tensor's data (views of it on a little-endian host, byte-swapped copies otherwise).
 * Tensors in memory only: a file with streamed ones is written by safetensorsStream.
 */
export function* safetensorsChunks(layout: SafetensorsLayout, chunkBytes = 1 << 26): Generator<Uint8Array> {
  yield layout.header;
  for (const e of layout.entries) {
    if (!e.data) throw new SafetensorsError(`safetensors: tensor '${e.name}' is streamed: write the file with safetensorsStream`);
    yield* dataChunks(e.data, e.dtype, chunkBytes);
  }
}

/** `data`'s bytes in file order, at most `chunkBytes` at a time. */
function* dataChunks(data: SafetensorsData, dtype: SafetensorsDType, chunkBytes: number): Generator<Uint8Array> {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  for (let at = 0; at < raw.length; at += chunkBytes) {
    const part = raw.subarray(at, Math.min(raw.length, at + chunkBytes));
    if (LITTLE_ENDIAN) yield part;
    else {
      const copy = part.slice();
      swapBytes(copy, DTYPE_BYTES[dtype]);
      yield copy;
    }
  }
}

/**
 * safetensorsChunks for any layout: a streamed tensor is read `chunkBytes` at a time (a
 * whole number of values), each piece yielded once read, so the host holds one piece of it at
 * a time. The chunks, and so the file, are the ones safetensorsChunks makes of the same data.
 */
export async function* safetensorsStream(layout: SafetensorsLayout, chunkBytes = 1 << 26): AsyncGenerator<Uint8Array> {
  yield layout.header;
  for (const e of layout.entries) {
    if (e.data) {
      yield* dataChunks(e.data, e.dtype, chunkBytes);
      continue;
    }
    const count = elementCount(e.shape);
    const per = Math.max(1, Math.floor(chunkBytes / DTYPE_BYTES[e.dtype]));
    for (let at = 0; at < count; at += per) {
      const n = Math.min(per, count - at);
      const piece = await e.read!(at, n);
      const want = e.dtype === 'F32' ? Float32Array : Int32Array;
      if (!(piece instanceof want) || piece.length !== n) {
        throw new SafetensorsError(
          `safetensors: tensor '${e.name}' (${e.dtype} ${fmtShape(e.shape)}): reading values [${at}, ${at + n}) gave ` +
            `${piece instanceof Float32Array || piece instanceof Int32Array ? `${piece.length} values of a ${piece.constructor.name}` : String(piece)}, expected ${n} in a ${want.name}`,
        );
      }
      yield* dataChunks(piece, e.dtype, chunkBytes);
    }
  }
}

/**
 * Decodes a .safetensors file. `source` (a file name) prefixes every error message. Throws a
 * SafetensorsError when the header length goes beyond the file, the header is not UTF-8 JSON
 * of the expected form, a dtype is not F32/I32/I64, offsets fall outside the data or overlap,
 * or a tensor's byte length does not match its shape and dtype.
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors data'): DecodedSafetensors {
  const fail = (msg: string): never => {
    throw new SafetensorsError(`flstm: ${source}: ${msg}`);
  };
  if (!(bytes instanceof Uint8Array))
    fail(`expected the bytes of a .safetensors file (a Uint8Array), got ${bytes === null ? 'null' : typeof bytes}`);
  const { metadata, spans, dataStart } = parseSafetensorsHeader(bytes, bytes.length, source);
  return { tensors: copyTensors(bytes, dataStart, spans), metadata };
}

/**
 * The header length of a file of `fileSize` bytes from its first 8 bytes, checked (within
 * the file, within the size limit); a reader then reads that many more bytes.
 */
export function safetensorsHeaderLength(first: Uint8Array, fileSize: number, source: string): number {
  const fail = (msg: string): never => {
    throw new SafetensorsError(`flstm: ${source}: ${msg}`);
  };
  if (fileSize < 8 || first.length < 8) {
    fail(`the file is ${fileSize} bytes, shorter than the 8-byte header length (empty or truncated)`);
  }
  const big = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
  if (big > BigInt(fileSize - 8)) {
    fail(`the header length ${big} goes beyond the end of the file (${fileSize} bytes): the file is truncated or not a .safetensors file`);
  }
  const n = Number(big);
  if (n > MAX_HEADER) fail(`the header length ${n} is above the ${MAX_HEADER}-byte limit`);
  if (n < 2) fail(`the header length is ${n}; a header is at least "{}"`);
  return n;
}

/**
 * The header of a file of `fileSize` bytes, from its first bytes (at least 8 + the header
 * length): the metadata and the tensors' spans, each checked against the data section and
 * against each other, in file order.
 */
export function parseSafetensorsHeader(
  prefix: Uint8Array,
  fileSize: number,
  source: string,
): { metadata: Record<string, string>; spans: Span[]; dataStart: number } {
  const fail = (msg: string): never => {
    throw new SafetensorsError(`flstm: ${source}: ${msg}`);
  };
  const n = safetensorsHeaderLength(prefix, fileSize, source);
  const header = readHeader(prefix.subarray(8, 8 + n), fail);
  const dataStart = 8 + n;
  const { metadata, spans } = readEntries(header, fileSize - dataStart, fail);
  checkNoOverlap(spans, fileSize - dataStart, fail);
  return { metadata, spans, dataStart };
}

/** An empty tensor for `span`, and the bytes a reader fills (then calls toHostOrder). */
export function tensorForSpan(span: Span): { tensor: SafeTensor; bytes: Uint8Array } {
  const buf = new ArrayBuffer(span.end - span.begin);
  return { tensor: { dtype: span.dtype, shape: span.shape, data: typedArrayOf(span.dtype, buf) }, bytes: new Uint8Array(buf) };
}

/** Puts a tensor's file bytes (little-endian) in this host's byte order. */
export function toHostOrder(bytes: Uint8Array, dtype: SafetensorsDType): void {
  if (!LITTLE_ENDIAN) swapBytes(bytes, DTYPE_BYTES[dtype]);
}

type Fail = (msg: string) => never;

/** Where one tensor's bytes lie in the data section, once its header entry is checked. */
interface Span {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

/** Why a JSON.parse failed, in words that do not read as a raw JS error ("Unexpected token"). */
export function jsonProblem(e: unknown): string {
  const m = String((e as Error | null)?.message ?? '');
  const pos = /position (\d+)/.exec(m);
  if (pos) return `a syntax error at character ${pos[1]}`;
  if (/end of (JSON )?input/i.test(m)) return 'it ends too early';
  return 'a syntax error';
}

/** A header field for a message, shortened; a missing one says so (never "undefined"). */
function fieldText(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  const t = JSON.stringify(v);
  return t.length > 80 ? `${t.slice(0, 77)}...` : t;
}

/** The header's bytes: UTF-8 JSON of an object. */
function readHeader(headerBytes: Uint8Array, fail: Fail): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    return fail('the header is not valid UTF-8 (corrupt, or not a .safetensors file)');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`the header is not valid JSON (${jsonProblem(e)}); the file is corrupt or not a .safetensors file`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    fail('the header is not a JSON object of tensors by name');
  }
  return header as Record<string, unknown>;
}

/** The header's __metadata__ and its tensors' spans, each checked against `dataLen` bytes of data. */
function readEntries(header: Record<string, unknown>, dataLen: number, fail: Fail): { metadata: Record<string, string>; spans: Span[] } {
  let metadata: Record<string, string> = {};
  const spans: Span[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') metadata = readMetadata(raw, fail);
    else spans.push(readSpan(name, raw, dataLen, fail));
  }
  return { metadata, spans };
}

function readMetadata(raw: unknown, fail: Fail): Record<string, string> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('__metadata__ must be an object of strings');
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v !== 'string') fail(`__metadata__ '${k}' must be a string, got ${fieldText(v)}`);
  }
  return { ...(raw as Record<string, string>) };
}

function readSpan(name: string, raw: unknown, dataLen: number, fail: Fail): Span {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    fail(`tensor '${name}': expected { dtype, shape, data_offsets }, got ${fieldText(raw)}`);
  const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (!isDType(e.dtype)) {
    fail(`tensor '${name}' has dtype ${fieldText(e.dtype)}; flstm reads F32, I32 and I64`);
  }
  const dtype = e.dtype as SafetensorsDType;
  const shape =
    checkedShape(e.shape) ?? fail(`tensor '${name}' has shape ${fieldText(e.shape)}; expected an array of non-negative integers`);
  const off = e.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !off.every((v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) {
    return fail(`tensor '${name}' has data_offsets ${fieldText(off)}; expected [begin, end], two non-negative integers`);
  }
  const [begin, end] = off as [number, number];
  if (begin > end) fail(`tensor '${name}' has data_offsets [${begin}, ${end}]: begin is after end`);
  if (end > dataLen) {
    fail(
      `tensor '${name}' has data_offsets [${begin}, ${end}], out of range: the data is ${dataLen} bytes ` +
        '(the file is truncated or corrupt)',
    );
  }
  const want = elementCount(shape) * DTYPE_BYTES[dtype];
  if (end - begin !== want) {
    fail(`tensor '${name}' (${dtype} ${fmtShape(shape)}) has ${end - begin} bytes of data, but its shape and dtype need ${want}`);
  }
  return { name, dtype, shape, begin, end };
}

/**
 * Sorts `spans` by offset and fails on two non-empty ones that overlap, on a gap between
 * them, and on data left after the last: as the reference reader, the tensors must cover
 * the data section exactly. A header length off by a few bytes (its JSON padded with
 * spaces) would otherwise read every tensor shifted, as plausible numbers.
 */
function checkNoOverlap(spans: Span[], dataLen: number, fail: Fail): void {
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let prev: Span | null = null;
  let covered = 0;
  for (const s of spans) {
    if (s.begin === s.end) continue;
    if (prev && s.begin < prev.end) {
      fail(`tensors '${prev.name}' [${prev.begin}, ${prev.end}] and '${s.name}' [${s.begin}, ${s.end}] have overlapping data_offsets`);
    }
    if (s.begin !== covered)
      fail(
        `tensor '${s.name}' has data_offsets [${s.begin}, ${s.end}], leaving bytes [${covered}, ${s.begin}) of the data unused (the header is corrupt)`,
      );
    covered = s.end;
    prev = s;
  }
  if (covered !== dataLen) {
    fail(
      `the tensors cover ${covered} bytes of data but the file holds ${dataLen} after the header (a wrong header length, or bytes appended)`,
    );
  }
}

/** Each tensor's data, copied out of the file (and into host byte order). */
function copyTensors(bytes: Uint8Array, dataStart: number, spans: Span[]): Record<string, SafeTensor> {
  const tensors: Record<string, SafeTensor> = {};
  for (const s of spans) {
    const copy = new Uint8Array(s.end - s.begin);
    copy.set(bytes.subarray(dataStart + s.begin, dataStart + s.end));
    if (!LITTLE_ENDIAN) swapBytes(copy, DTYPE_BYTES[s.dtype]);
    setOwn(tensors, s.name, { dtype: s.dtype, shape: s.shape, data: typedArrayOf(s.dtype, copy.buffer) });
  }
  return tensors;
}
