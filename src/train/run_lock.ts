// One trainer per run folder. Two `train` processes in one folder (say two `--resume` runs
// started by mistake) would rewind and append to one metrics.jsonl and save generations into
// one checkpoint folder, each replacing the other's. The lock file `run.lock` in the folder,
// created exclusively and whole (a hard link to a written temporary file), says who holds it;
// a second trainer is refused at once with the holder's pid, host and start time. A lock whose
// process is gone (killed with -9, a crash) does not block the next run: on the same host it
// is stale when its pid is not alive, or is alive but started at another time than the holder
// did (a reused pid, after a reboot or in a new container). Another host's lock cannot be
// checked, so the message says how to remove it by hand.
import { hostname } from 'node:os';
import { link, open, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export const LOCK_FILE = 'run.lock';

/** What the lock file holds. */
export interface LockHolder {
  pid: number;
  host: string;
  /** When the holder took the lock (ISO 8601). */
  startedAt: string;
  /** The holder's process start time in clock ticks since boot (Linux), to tell a reused pid. */
  processStart?: number;
  /** This acquisition's random id: release removes the file only while it is still this one. */
  token: string;
}

export class RunLockedError extends Error {
  constructor(
    message: string,
    readonly holder: LockHolder | null,
  ) {
    super(message);
    this.name = 'RunLockedError';
  }
}

export interface RunLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** Removes the lock file (when it is still this lock's); idempotent. */
  release(): Promise<void>;
}

/** Lock files this process holds: a second train() in the same process is refused too, and exit removes them. */
const held = new Map<string, string>();

function onExit(): void {
  for (const [file, token] of held) {
    try {
      if ((JSON.parse(readFileSync(file, 'utf8')) as LockHolder).token === token) unlinkSync(file);
    } catch {
      /* already gone */
    }
  }
}

/** A process's start time (field 22 of /proc/PID/stat), or undefined off Linux. */
function processStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[19]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the lock's holder is gone (judged on this host only; another host's is never stale). */
function isStale(h: LockHolder): boolean {
  if (h.host !== hostname()) return false;
  if (h.pid === process.pid) return ![...held.keys()].some((f) => held.get(f) === h.token);
  if (!alive(h.pid)) return true;
  const start = processStart(h.pid);
  return h.processStart !== undefined && start !== undefined && start !== h.processStart;
}

async function readHolder(file: string): Promise<LockHolder | null> {
  try {
    const h = JSON.parse(await readFile(file, 'utf8')) as LockHolder;
    return typeof h?.pid === 'number' && typeof h.host === 'string' ? h : null;
  } catch {
    return null; // gone, or half-written by a holder that is writing it right now
  }
}

function refusal(dir: string, file: string, h: LockHolder | null): RunLockedError {
  if (!h)
    return new RunLockedError(
      `flstm: ${dir} is in use by another flstm train (its lock file ${file} is unreadable); if no run is using the folder, delete that file`,
      null,
    );
  const who = `pid ${h.pid} on host ${h.host}, started ${h.startedAt}`;
  const local = h.host === hostname();
  const fix = local ? 'wait for it to end or stop it (Ctrl-C saves its checkpoint)' : `if that process is gone, delete ${file}`;
  return new RunLockedError(
    `flstm: ${dir} is in use by another flstm train (${who}): ${fix}; two runs in one folder would overwrite each other's checkpoints and metrics`,
    h,
  );
}

/** Creates the lock file exclusively with open(O_EXCL) and writes it; false when one exists. */
async function createExclusive(file: string, h: LockHolder): Promise<boolean> {
  let f;
  try {
    f = await open(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  let ok = false;
  try {
    await f.writeFile(`${JSON.stringify(h)}\n`);
    ok = true;
  } finally {
    await f.close().catch(() => {});
    // A lock that could not be written (a full disk) must not be left half there.
    if (!ok) await unlink(file).catch(() => {});
  }
  return true;
}

/**
 * Creates the lock file whole or not at all; false when one exists. It is written to a
 * temporary file first and hard-linked into place (link fails when the name exists), so a
 * crash never leaves an empty or half-written lock that no later run could judge stale.
 * File systems without hard links get open(O_EXCL) and a write.
 */
async function create(file: string, h: LockHolder): Promise<boolean> {
  const tmp = `${file}.${h.token}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(h)}\n`, { flag: 'wx' });
    await link(tmp, file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') return createExclusive(file, h);
    throw e;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/**
 * Takes the lock of the run folder `dir` (which must exist), or throws a RunLockedError that
 * names the holder. A stale lock is removed and taken over.
 */
export async function acquireRunLock(dir: string): Promise<RunLock> {
  const file = join(dir, LOCK_FILE);
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    processStart: processStart(process.pid),
    token: randomBytes(8).toString('hex'),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await create(file, holder)) {
      if (held.size === 0) process.on('exit', onExit);
      held.set(file, holder.token);
      await removeOldTemporaries(dir);
      return { file, holder, release: () => release(file, holder.token) };
    }
    const other = await readHolder(file);
    // An unreadable file may be one being written this instant: only a readable, stale one is removed.
    if (!other || !isStale(other)) {
      if (!other && attempt < 2) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      throw refusal(dir, file, other);
    }
    // Re-read just before removing, so a lock another starter took over meanwhile stays.
    if ((await readHolder(file))?.token === other.token) await unlink(file).catch(() => {});
  }
  throw refusal(dir, file, await readHolder(file));
}

/** Temporary lock files a crash left (a minute old: not another starter's, which lives milliseconds). */
async function removeOldTemporaries(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(`${LOCK_FILE}.`) || !name.endsWith('.tmp')) continue;
    const p = join(dir, name);
    const st = await stat(p).catch(() => null);
    if (st && Date.now() - st.mtimeMs > 60_000) await unlink(p).catch(() => {});
  }
}

async function release(file: string, token: string): Promise<void> {
  if (held.get(file) !== token) return;
  held.delete(file);
  if (held.size === 0) process.off('exit', onExit);
  if ((await readHolder(file))?.token === token) await unlink(file).catch(() => {});
}
