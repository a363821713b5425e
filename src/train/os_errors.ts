// The operating system's file errors in plain words, for the trainer's messages: a person
// reading "the disk is full" knows what to do; "ENOSPC: no space left on device, open '...'"
// alone makes them look it up. The code stays in the message (in parentheses) for searching.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** What each error code means, said the way a message continues "...: ". */
const PLAIN_WORDS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EACCES: 'permission denied to this user',
  EROFS: 'the file system is read-only',
  EPERM: 'the operation is not permitted',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'a file of that name is in the way',
  EISDIR: 'a folder is where a file should be',
  EMFILE: 'this process has too many files open',
  ENFILE: 'the system has too many files open',
  EIO: 'the disk reported an input/output error',
};

/** The error code of a Node file-system error (or of the error it wraps), if any. */
export function errnoCode(e: unknown): string | undefined {
  for (let x = e as { code?: unknown; cause?: unknown } | null, depth = 0; x && depth < 4; x = x.cause as typeof x, depth++) {
    if (typeof x.code === 'string' && /^E[A-Z]+$/.test(x.code)) return x.code;
  }
  return undefined;
}

/** "the disk is full (ENOSPC)", or null when `e` is no file-system error this table knows. */
export function plainCause(e: unknown): string | null {
  const code = errnoCode(e);
  if (!code) return null;
  return `${PLAIN_WORDS[code] ?? 'the file system refused'} (${code})`;
}

/**
 * mkdir -p of `dir`, failing with the real cause: Node's recursive mkdir reports a folder it
 * cannot create on a read-only file system as ENOENT ("no such file or directory"), so on
 * ENOENT each missing folder is created in turn, which fails with the code that applies (EROFS).
 */
export async function makeFolders(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
    const missing: string[] = [];
    for (let d = dir; dirname(d) !== d; d = dirname(d)) missing.unshift(d);
    for (const d of missing) {
      await mkdir(d).catch((err: unknown) => {
        if (errnoCode(err) !== 'EEXIST') throw err;
      });
    }
  }
}
