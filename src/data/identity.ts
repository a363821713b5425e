// What identifies the files of a corpus, so that a run can find them again from any folder
// and can tell the same corpus given by another path from files that changed: a text file's
// absolute path, byte size and SHA-256 (hashed from the bytes as they are read anyway, no
// second pass); for lm1b:DIR the directory's absolute path and its training shards' count and
// bytes (gigabytes of shards are not hashed: their sizes come from the listing the reader
// makes anyway). Node's fs, crypto and path are imported lazily, as in util.ts.
import type { CorpusSpec } from './spec.js';

/** One file of a corpus: where it was read, its size and a SHA-256 of its bytes (hex). */
export interface FileIdentity {
  path: string;
  bytes: number;
  sha256: string;
}

/** What identifies a corpus: text files (in split order: train, valid, test) or an lm1b directory. */
export type CorpusIdentity =
  | { kind: 'text'; files: FileIdentity[] }
  | { kind: 'lm1b'; dir: string; trainShards: number; trainBytes: number };

const SPLIT_NAMES = ['train', 'valid', 'test'] as const;

/** Hashes a file's bytes as they stream by; identity() once they have all passed. */
export interface FileHasher {
  update(chunk: Uint8Array): void;
  identity(): FileIdentity;
}

export async function fileHasher(path: string): Promise<FileHasher> {
  const { createHash } = await import('node:crypto');
  const { resolve } = await import('node:path');
  const hash = createHash('sha256');
  let bytes = 0;
  return {
    update(chunk) {
      hash.update(chunk);
      bytes += chunk.length;
    },
    identity: () => ({ path: resolve(path), bytes, sha256: hash.digest('hex') }),
  };
}

/** The paths a spec names, each with what it is ("the train file"). Brown names none. */
export function namedPaths(spec: CorpusSpec | CorpusIdentity): { what: string; path: string }[] {
  if (spec.kind === 'lm1b') return [{ what: 'the One Billion Word directory', path: spec.dir }];
  if (spec.kind !== 'text') return [];
  return (spec.files as (string | FileIdentity)[]).map((f, i) => ({
    what: `the ${SPLIT_NAMES[i]} file`,
    path: typeof f === 'string' ? f : f.path,
  }));
}

/** The spec that reads the recorded files; undefined when a path holds a comma (a text: spec cannot say it). */
export function recordedSpec(id: CorpusIdentity): string | undefined {
  if (id.kind === 'lm1b') return `lm1b:${id.dir}`;
  const paths = id.files.map((f) => f.path);
  return paths.some((p) => p.includes(',')) ? undefined : `text:${paths.join(',')}`;
}

/** The first of `paths` that does not exist, or undefined. */
export async function firstMissing(paths: { what: string; path: string }[]): Promise<{ what: string; path: string } | undefined> {
  const { access } = await import('node:fs/promises');
  for (const p of paths)
    if (
      !(await access(p.path).then(
        () => true,
        () => false,
      ))
    )
      return p;
  return undefined;
}

/** Before the files are read: a spec of another kind, or another number of text files. */
export function specMismatch(was: CorpusIdentity, now: CorpusSpec, spec: string): string | null {
  const files = namedPaths(was);
  const described =
    was.kind === 'lm1b'
      ? `lm1b:${was.dir}`
      : `${files.length} text file${files.length === 1 ? '' : 's'} (${files.map((f) => f.path).join(', ')})`;
  if (now.kind !== was.kind) return `the run trained on ${described}, --data gives ${spec}`;
  if (now.kind === 'text' && now.files.length !== files.length)
    return `the run trained on ${described}, --data gives ${now.files.length} file${now.files.length === 1 ? '' : 's'}`;
  return null;
}

const count = (n: number) => n.toLocaleString('en-US');

/** A difference between the recorded corpus and the one read now. */
export interface CorpusChange {
  text: string;
  /** A file edited where the run read it (text added, say), not other files given elsewhere. */
  inPlace: boolean;
}

function fileChange(what: string, was: FileIdentity, now: FileIdentity): CorpusChange | null {
  if (was.bytes === now.bytes && was.sha256 === now.sha256) return null;
  const how =
    was.bytes !== now.bytes
      ? `${count(was.bytes)} bytes then, ${count(now.bytes)} now`
      : `the same ${count(now.bytes)} bytes, other content: SHA-256 ${was.sha256.slice(0, 12)}... then, ${now.sha256.slice(0, 12)}... now`;
  if (was.path === now.path) return { text: `${what} ${now.path} has changed since the run read it (${how})`, inPlace: true };
  return { text: `${what} ${now.path} is not the file the run read, ${was.path} (${how})`, inPlace: false };
}

/** How the corpus read now differs from the recorded one, a change per file; [] when it is the same. */
export function corpusChanges(was: CorpusIdentity, now: CorpusIdentity | undefined): CorpusChange[] {
  const other = (text: string): CorpusChange[] => [{ text, inPlace: false }];
  if (!now || now.kind !== was.kind)
    return other(`the run trained on ${was.kind === 'lm1b' ? `lm1b:${was.dir}` : 'text files'}, not on this corpus`);
  if (was.kind === 'text' && now.kind === 'text') {
    if (was.files.length !== now.files.length) return other(`the run trained on ${was.files.length} text files, not ${now.files.length}`);
    return was.files.map((f, i) => fileChange(`the ${SPLIT_NAMES[i]} file`, f, now.files[i])).filter((c): c is CorpusChange => c !== null);
  }
  if (was.kind === 'lm1b' && now.kind === 'lm1b' && (was.trainShards !== now.trainShards || was.trainBytes !== now.trainBytes)) {
    const shards = (n: number) => `${n} shard${n === 1 ? '' : 's'}`;
    const text = `the training shards differ: ${shards(was.trainShards)} of ${count(was.trainBytes)} bytes in ${was.dir} then, ${shards(now.trainShards)} of ${count(now.trainBytes)} bytes in ${now.dir} now`;
    return [{ text, inPlace: was.dir === now.dir }];
  }
  return [];
}
