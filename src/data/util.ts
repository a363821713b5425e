// Small helpers of fl.data: a growable Int32 buffer, a first-seen word table, file checks.
// Node's fs is imported lazily, so that fl.data's pure parts (Vocabulary, Batcher) load in
// a browser too.
import { DataError } from './errors.js';
import { Vocabulary, type VocabBuildOptions } from './vocab.js';

/** An Int32Array that grows by doubling. */
export class IntBuffer {
  private buf = new Int32Array(1 << 16);
  length = 0;

  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Int32Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }

  /** A copy of exactly the pushed values. */
  toArray(): Int32Array {
    return this.buf.slice(0, this.length);
  }
}

/**
 * Words in first-seen order with their counts, and the stream as provisional ids (first-seen
 * order): one pass over a text gives both the counts for a vocabulary and the token stream,
 * remapped afterwards.
 */
export class WordTable {
  readonly ids = new Map<string, number>();
  readonly words: string[] = [];
  readonly counts: number[] = [];
  readonly stream = new IntBuffer();

  add(word: string): void {
    let id = this.ids.get(word);
    if (id === undefined) {
      id = this.words.length;
      this.ids.set(word, id);
      this.words.push(word);
      this.counts.push(0);
    }
    this.counts[id]++;
    this.stream.push(id);
  }

  countMap(): Map<string, number> {
    return new Map(this.words.map((w, i) => [w, this.counts[i]]));
  }

  /** The vocabulary of these counts and the stream in its ids. */
  build(opts: VocabBuildOptions & { source?: string }): { vocab: Vocabulary; tokens: Int32Array } {
    const vocab = Vocabulary.fromCounts(this.countMap(), opts);
    return { vocab, tokens: remap(this.stream.toArray(), this.words, vocab) };
  }

  /** The stream in the ids of a given vocabulary (words it lacks become its unknown-word token). */
  encodeWith(vocab: Vocabulary): { vocab: Vocabulary; tokens: Int32Array } {
    if (this.words.some((w) => !vocab.has(w))) vocab.requireUnk('the words of the corpus that it lacks');
    return { vocab, tokens: remap(this.stream.toArray(), this.words, vocab) };
  }
}

/** Maps provisional ids (indices into `words`) to the vocabulary's ids, in place. */
export function remap(provisional: Int32Array, words: readonly string[], vocab: Vocabulary): Int32Array {
  const table = Int32Array.from(words, (w) => vocab.id(w));
  for (let i = 0; i < provisional.length; i++) provisional[i] = table[provisional[i]];
  return provisional;
}

/** Throws one clear error when `path` is not an existing file (or directory). */
export async function requirePath(path: string, kind: 'file' | 'directory', what: string): Promise<void> {
  const { stat } = await import('node:fs/promises');
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new DataError(`no ${what} ${path}`);
  }
  if (kind === 'file' ? !st.isFile() : !st.isDirectory()) throw new DataError(`${what} ${path} is not a ${kind}`);
}

/** The lines of a text file, streamed (readline over a read stream), never loaded whole. */
/**
 * Refuses what is not UTF-8 text: a NUL byte (a binary file), or bytes that do not decode
 * (decoded as U+FFFD, they would become words no one wrote).
 */
function checkTextLine(line: string, path: string, n: number): void {
  if (line.includes('\u0000'))
    throw new DataError(`${path} is not a text file: line ${n} holds a NUL byte (give UTF-8 text, one sentence a line)`);
  const bad = line.indexOf('\uFFFD');
  if (bad >= 0) {
    throw new DataError(
      `${path} is not UTF-8: line ${n} has bytes that do not decode (near character ${bad + 1}); convert it first, e.g. iconv -f latin1 -t utf-8`,
    );
  }
}

/** `onBytes` sees the file's raw bytes as they are read (to hash them: identity.ts). */
export async function* readLines(path: string, onBytes?: (chunk: Uint8Array) => void): AsyncGenerator<string> {
  const { createReadStream } = await import('node:fs');
  const { createInterface } = await import('node:readline');
  // Raw bytes: readline decodes them as UTF-8 (a sequence split between chunks included).
  const input = createReadStream(path);
  if (onBytes) input.on('data', (chunk) => onBytes(chunk as Buffer));
  const rl = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of rl) {
      n++;
      checkTextLine(line, path, n);
      yield line;
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`cannot read ${path}: ${(err as Error).message}`);
  } finally {
    rl.close();
    input.destroy();
  }
}
