// Vocabulary: word <-> id, with an unknown-word token.
//
// Text form (save / load / LM1B's 1b_word_vocab.txt): one `word count` per line, id = line
// number (0-based). The count may be left out (`word` alone reads as count 0). Words never
// contain whitespace (every corpus here is whitespace tokenized).
//
// Built from counts, the order is: the unknown-word token first (id 0), then any other
// reserved tokens in the order given, then words by count, most frequent first, ties in
// first-seen order. Frequency order is what a log-uniform (Zipfian) sampler of the sampled
// softmax assumes about ids.
import { DataError } from './errors.js';

/** The unknown-word tokens recognized in a vocabulary, in order of preference. */
export const UNK_TOKENS = ['<unk>', '<UNK>'] as const;

export interface VocabBuildOptions {
  /** At most this many entries, reserved tokens included (the least frequent words go). */
  maxSize?: number;
  /** Keep words seen at least this many times (default 1: every word). */
  minCount?: number;
  /** The unknown-word token (default '<unk>'): id 0, its count is that of the words it replaces. */
  unk?: string;
  /** Other reserved tokens (e.g. '<eos>'), ids 1.. in this order, kept whatever their count. */
  specials?: string[];
}

export interface VocabOptions {
  /** The unknown-word token; by default '<unk>' or else '<UNK>' when the list has one. */
  unk?: string;
  /** Where the vocabulary came from, for error messages. */
  source?: string;
}

export class Vocabulary {
  /** Words by id. */
  readonly words: readonly string[];
  /** Counts by id (0 when not known). */
  readonly counts: readonly number[];
  /** The unknown-word token, or undefined when the vocabulary has none. */
  readonly unk: string | undefined;
  /** Its id, or -1. */
  readonly unkId: number;
  /** Where it came from (a file path, 'brown', ...), for messages. */
  readonly source: string;
  private readonly index = new Map<string, number>();

  constructor(words: readonly string[], counts?: readonly number[], opts: VocabOptions = {}) {
    this.source = opts.source ?? 'vocabulary';
    if (counts !== undefined && counts.length !== words.length) {
      throw new DataError(`${this.source}: ${words.length} words but ${counts.length} counts`);
    }
    words.forEach((w, i) => {
      if (typeof w !== 'string' || w === '' || /\s/.test(w)) {
        throw new DataError(`${this.source}: entry ${i} ${JSON.stringify(w)} is not a word (empty or contains whitespace)`);
      }
      if (this.index.has(w))
        throw new DataError(`${this.source}: the word ${JSON.stringify(w)} appears twice (ids ${this.index.get(w)} and ${i})`);
      this.index.set(w, i);
    });
    this.words = words.slice();
    this.counts = counts ? counts.slice() : new Array<number>(words.length).fill(0);
    if (opts.unk !== undefined) {
      if (!this.index.has(opts.unk)) throw new DataError(`${this.source}: has no unknown-word token ${opts.unk}`);
      this.unk = opts.unk;
    } else {
      this.unk = UNK_TOKENS.find((u) => this.index.has(u));
    }
    this.unkId = this.unk === undefined ? -1 : this.index.get(this.unk)!;
  }

  get size(): number {
    return this.words.length;
  }

  has(word: string): boolean {
    return this.index.has(word);
  }

  /** The id of a word in the vocabulary, or undefined. */
  get(word: string): number | undefined {
    return this.index.get(word);
  }

  /** The id of a word; an unknown word maps to the unknown-word token (an error when there is none). */
  id(word: string): number {
    const i = this.index.get(word);
    if (i !== undefined) return i;
    if (this.unkId < 0) this.requireUnk(`the word ${JSON.stringify(word)}`);
    return this.unkId;
  }

  /** The word of an id (an error out of range). */
  word(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.words.length) {
      throw new DataError(`${this.source}: id ${id} is out of range [0, ${this.words.length})`);
    }
    return this.words[id];
  }

  /** Throws the one clear error for a vocabulary with no `<unk>` where one is needed. */
  requireUnk(what = 'out-of-vocabulary words'): void {
    if (this.unkId >= 0) return;
    throw new DataError(
      `${this.source}: has no unknown-word token (${UNK_TOKENS.join(' or ')}), needed for ${what}; add a line '<unk> 0' to the vocabulary`,
    );
  }

  encode(words: Iterable<string>): Int32Array {
    const out: number[] = [];
    for (const w of words) out.push(this.id(w));
    return Int32Array.from(out);
  }

  decode(ids: ArrayLike<number>): string[] {
    return Array.from(ids, (i) => this.word(i));
  }

  /** How many ids in `ids` are the unknown-word token. */
  countUnk(ids: ArrayLike<number>): number {
    if (this.unkId < 0) return 0;
    let n = 0;
    for (let i = 0; i < ids.length; i++) if (ids[i] === this.unkId) n++;
    return n;
  }

  /** One `word count` per line, id = line number. */
  toText(): string {
    let s = '';
    for (let i = 0; i < this.words.length; i++) s += `${this.words[i]} ${this.counts[i]}\n`;
    return s;
  }

  /** Writes toText() to a temporary file and renames it, so a crash never leaves half a vocabulary. */
  async save(path: string): Promise<void> {
    const { writeFile, rename, rm } = await import('node:fs/promises');
    const tmp = `${path}.tmp-${process.pid}-${Date.now().toString(36)}`;
    try {
      await writeFile(tmp, this.toText(), 'utf8');
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw new DataError(`cannot write the vocabulary ${path}: ${(err as Error).message}`);
    }
  }

  /** Parses the text form: `word count` per line (count optional), id = line number. */
  static parse(text: string, opts: VocabOptions = {}): Vocabulary {
    const source = opts.source ?? 'vocabulary';
    const lines = text.split('\n');
    while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
    const words: string[] = [];
    const counts: number[] = [];
    lines.forEach((line, i) => {
      const f = line.trim().split(/\s+/);
      if (f[0] === '' || f.length > 2 || (f.length === 2 && !/^\d+$/.test(f[1]))) {
        throw new DataError(
          `${source}: line ${i + 1} ${JSON.stringify(line.slice(0, 80))} is not 'word count' (id = line number, so no blank or extra lines)`,
        );
      }
      words.push(f[0]);
      counts.push(f.length === 2 ? Number(f[1]) : 0);
    });
    if (words.length === 0) throw new DataError(`${source}: the vocabulary is empty`);
    return new Vocabulary(words, counts, { ...opts, source });
  }

  /** Reads a vocabulary file (the text form, as save() writes and LM1B's 1b_word_vocab.txt is). */
  static async load(path: string, opts: Omit<VocabOptions, 'source'> = {}): Promise<Vocabulary> {
    const { readFile } = await import('node:fs/promises');
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new DataError(
        code === 'ENOENT' ? `no vocabulary file ${path}` : `cannot read the vocabulary ${path}: ${(err as Error).message}`,
      );
    }
    return Vocabulary.parse(text, { ...opts, source: path });
  }

  /**
   * Builds a vocabulary from word counts (a Map keeps first-seen order, which breaks ties).
   * The unknown-word token is always included, first.
   */
  static fromCounts(
    counts: Map<string, number> | Iterable<readonly [string, number]>,
    opts: VocabBuildOptions & { source?: string } = {},
  ): Vocabulary {
    const unk = opts.unk ?? '<unk>';
    const reserved = [unk, ...(opts.specials ?? []).filter((s) => s !== unk)];
    if (new Set(reserved).size !== reserved.length) throw new DataError(`reserved tokens repeat: ${reserved.join(', ')}`);
    const minCount = opts.minCount ?? 1;
    if (!Number.isInteger(minCount) || minCount < 1) throw new DataError(`minCount must be a positive integer, got ${opts.minCount}`);
    if (opts.maxSize !== undefined && (!Number.isInteger(opts.maxSize) || opts.maxSize < reserved.length + 1)) {
      throw new DataError(
        `maxSize must be an integer of at least ${reserved.length + 1} (${reserved.join(', ')} and one word), got ${opts.maxSize}`,
      );
    }
    const map = counts instanceof Map ? counts : new Map(counts);
    const isReserved = new Set(reserved);
    const candidates: [string, number][] = [];
    let dropped = 0;
    for (const [w, c] of map) {
      if (isReserved.has(w)) continue;
      if (c >= minCount) candidates.push([w, c]);
      else dropped += c;
    }
    // Array.prototype.sort is stable: equal counts keep first-seen order.
    candidates.sort((a, b) => b[1] - a[1]);
    const room = opts.maxSize === undefined ? candidates.length : opts.maxSize - reserved.length;
    for (const [, c] of candidates.slice(room)) dropped += c;
    const kept = candidates.slice(0, room);
    const words = [...reserved, ...kept.map(([w]) => w)];
    const cs = [...reserved.map((w) => (map.get(w) ?? 0) + (w === unk ? dropped : 0)), ...kept.map(([, c]) => c)];
    return new Vocabulary(words, cs, { unk, source: opts.source });
  }
}

/** Counts whitespace-separated words (Map: first-seen order). */
export function countWords(words: Iterable<string>, into: Map<string, number> = new Map()): Map<string, number> {
  for (const w of words) into.set(w, (into.get(w) ?? 0) + 1);
  return into;
}
