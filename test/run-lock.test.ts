// One trainer per run folder (src/train/run_lock.ts): the lock itself (exclusive, naming its
// holder, stale when its process is gone or its pid was reused, another host's kept), and
// through the built CLI: a second `train --resume` on a running run is refused at once and the
// first run goes on undisturbed; a run killed with -9 leaves a lock that does not block the
// next; a second signal's immediate exit removes the lock too.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireRunLock, LOCK_FILE, RunLockedError, type LockHolder } from '../src/train/run_lock.js';
import { corpusText } from './helpers.js';
import { root, runCli, useBuiltCli, TINY_MODEL, words } from './cli-helpers.js';

useBuiltCli();

let tmp: string;
let data: string;
const TINY = [...words('--layers 1'), ...TINY_MODEL, ...words('--sampled 8 --sample 0 --eval-tokens 0')];

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'flstm-run-lock-'));
  writeFileSync(join(tmp, 'train.txt'), corpusText(40, 51));
  writeFileSync(join(tmp, 'valid.txt'), corpusText(8, 52));
  data = `text:${join(tmp, 'train.txt')},${join(tmp, 'valid.txt')}`;
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const lockOf = (dir: string) => JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as LockHolder;

/** A pid that was alive a moment ago and is not now. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}

describe('acquireRunLock', () => {
  it('is exclusive, names its holder, and release removes it', async () => {
    const dir = mkdtempSync(join(tmp, 'unit-'));
    const lock = await acquireRunLock(dir);
    expect(lockOf(dir)).toMatchObject({ pid: process.pid, host: hostname(), token: lock.holder.token });
    const err = await acquireRunLock(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunLockedError);
    expect((err as Error).message).toContain(
      `${dir} is in use by another flstm train (pid ${process.pid} on host ${hostname()}, started ${lock.holder.startedAt})`,
    );
    await lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    await lock.release(); // idempotent
    const again = await acquireRunLock(dir);
    expect(again.holder.token).not.toBe(lock.holder.token);
    await again.release();
  });

  it('is created whole (linked from a temporary file); a temporary file a crash left does not block it and, once old, is removed', async () => {
    const dir = mkdtempSync(join(tmp, 'whole-'));
    const left = join(dir, `${LOCK_FILE}.0123456789abcdef.tmp`);
    writeFileSync(left, '{"pid":');
    utimesSync(left, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    const fresh = join(dir, `${LOCK_FILE}.fedcba9876543210.tmp`);
    writeFileSync(fresh, '');
    const lock = await acquireRunLock(dir);
    expect(readdirSync(dir).sort()).toEqual([LOCK_FILE, `${LOCK_FILE}.fedcba9876543210.tmp`]);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${JSON.stringify(lock.holder)}\n`);
    await lock.release();
  });

  it('a dead pid on this host, or a live pid that started at another time (reused), is stale: taken over', async () => {
    const dir = mkdtempSync(join(tmp, 'stale-'));
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: hostname(), startedAt: 'then', token: 'old' }));
    const lock = await acquireRunLock(dir);
    expect(lockOf(dir).token).toBe(lock.holder.token);
    await lock.release();
    if (lock.holder.processStart === undefined) return; // not Linux: no start time to compare
    // The parent process is alive; its start time is not the one recorded: a reused pid.
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: process.ppid, host: hostname(), startedAt: 'then', processStart: 1, token: 'old' }),
    );
    const reused = await acquireRunLock(dir);
    await reused.release();
    // With its real start time a live process is the holder: refused.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
    try {
      await new Promise((r) => setTimeout(r, 200));
      const childStart = Number(readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]);
      writeFileSync(
        join(dir, LOCK_FILE),
        JSON.stringify({ pid: child.pid, host: hostname(), startedAt: 'now', processStart: childStart, token: 'theirs' }),
      );
      await expect(acquireRunLock(dir)).rejects.toThrow(`pid ${child.pid} on host ${hostname()}`);
      expect(lockOf(dir).token).toBe('theirs');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it("another host's lock is kept and the message says how to remove it; an unreadable one is kept too", async () => {
    const dir = mkdtempSync(join(tmp, 'host-'));
    const file = join(dir, LOCK_FILE);
    writeFileSync(file, JSON.stringify({ pid: deadPid(), host: `not-${hostname()}`, startedAt: '2026-01-01T00:00:00.000Z', token: 'x' }));
    await expect(acquireRunLock(dir)).rejects.toThrow(
      `on host not-${hostname()}, started 2026-01-01T00:00:00.000Z): if that process is gone, delete ${file}`,
    );
    writeFileSync(file, 'garbage');
    await expect(acquireRunLock(dir)).rejects.toThrow(`its lock file ${file} is unreadable`);
    expect(readFileSync(file, 'utf8')).toBe('garbage');
  });

  it('release leaves a lock that is no longer its own', async () => {
    const dir = mkdtempSync(join(tmp, 'theirs-'));
    const lock = await acquireRunLock(dir);
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ ...lock.holder, token: 'someone-else' }));
    await lock.release();
    expect(lockOf(dir).token).toBe('someone-else');
  });
});

interface Background {
  child: ChildProcess;
  lines: Record<string, any>[];
  /** Resolves when a JSON line matches. */
  until(test: (l: Record<string, any>) => boolean): Promise<void>;
  exited: Promise<number | null>;
  stderr(): string;
}

/** `flstm train ... --json` in the background; stderr goes to a file, so the pid is the trainer's (no filtering child). */
function background(args: string[], errFile: string): Background {
  const fd = openSync(errFile, 'w');
  const child = spawn(process.execPath, ['dist/cli.js', 'train', ...args, '--json'], {
    cwd: root,
    stdio: ['ignore', 'pipe', fd],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  closeSync(fd);
  const lines: Record<string, any>[] = [];
  const waiters: [(l: Record<string, any>) => boolean, () => void][] = [];
  let held = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    const parts = (held + d).split('\n');
    held = parts.pop()!;
    for (const p of parts.filter((x) => x.trim())) {
      const l = JSON.parse(p);
      lines.push(l);
      for (const w of waiters.splice(0)) w[0](l) ? w[1]() : waiters.push(w);
    }
  });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
  exited.finally(() => clearTimeout(timer));
  return {
    child,
    lines,
    exited,
    stderr: () => readFileSync(errFile, 'utf8'),
    until: (test) =>
      lines.some(test)
        ? Promise.resolve()
        : Promise.race([
            new Promise<void>((r) => waiters.push([test, r])),
            exited.then(() => {
              throw new Error(`exited first: ${readFileSync(errFile, 'utf8')}`);
            }),
          ]),
  };
}

describe('flstm train locks its run folder', () => {
  it('a second train --resume (or a fresh train) on a running run is refused at once, naming it; the first goes on undisturbed', async () => {
    const out = join(tmp, 'two');
    expect(runCli(['train', '--data', data, ...TINY, '--steps', '4', '--log-every', '1', '--out', out]).status).toBe(0);
    const a = background(
      ['--resume', '--out', out, '--time', '40s', '--log-every', '1', '--save-every', '1000000'],
      join(tmp, 'two-a.err'),
    );
    await a.until((l) => l.type === 'progress' && l.step >= 8);
    const metricsBefore = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
    const t = performance.now();
    for (const extra of [
      ['--resume', '--steps', '100'],
      ['--steps', '100'],
    ]) {
      const b = runCli(['train', '--data', data, ...TINY, ...extra, '--out', out]);
      expect(b.status, b.stderr).toBe(1);
      const msg = b.stderr.split('\n').filter((l) => l.startsWith('flstm'));
      expect(msg).toEqual([
        expect.stringMatching(
          new RegExp(
            `^flstm: ${out} is in use by another flstm train \\(pid ${a.child.pid} on host ${hostname()}, started \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\): wait for it to end or stop it`,
          ),
        ),
      ]);
    }
    expect(performance.now() - t).toBeLessThan(20_000);
    // Nothing was rewound or truncated: the metrics kept every line and grew on.
    const grown = a.lines.filter((l) => l.type === 'progress').length;
    await a.until((l) => l.type === 'progress' && l.step >= 8 + grown + 5);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8').startsWith(metricsBefore)).toBe(true);
    a.child.kill('SIGINT');
    expect(await a.exited, a.stderr()).toBe(130);
    const summary = a.lines[a.lines.length - 1]!;
    expect(summary).toMatchObject({ type: 'summary', stopReason: 'interrupted' });
    const steps = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).step);
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1));
    expect(steps.length).toBeGreaterThanOrEqual(8 + grown + 5);
    expect(JSON.parse(readFileSync(join(out, 'checkpoint', 'config.json'), 'utf8')).config.step).toBe(summary.step);
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);
  }, 60_000);

  it('a run killed with -9 leaves its lock, which does not block the next --resume; that one removes it at the end', async () => {
    const out = join(tmp, 'killed');
    const a = background(
      ['--data', data, ...TINY, '--out', out, '--time', '40s', '--log-every', '1', '--save-every', '5'],
      join(tmp, 'killed.err'),
    );
    await a.until((l) => l.type === 'checkpoint');
    a.child.kill('SIGKILL');
    await a.exited;
    expect(lockOf(out).pid).toBe(a.child.pid);
    const r = runCli(['train', '--resume', '--out', out, '--steps', '30', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.split('\n')[0]!)).toMatchObject({ type: 'start', resumed: true });
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);
  }, 60_000);

  it('two signals at once (the second exits at once, skipping the save) still remove the lock', async () => {
    const out = join(tmp, 'twice');
    const a = background(
      ['--data', data, ...TINY, '--out', out, '--time', '40s', '--log-every', '1', '--save-every', '1000000'],
      join(tmp, 'twice.err'),
    );
    await a.until((l) => l.type === 'progress');
    expect(lockOf(out).pid).toBe(a.child.pid);
    a.child.kill('SIGINT');
    a.child.kill('SIGTERM');
    expect([130, 143]).toContain(await a.exited);
    // No checkpoint: the second signal's process.exit() ended it, past train()'s own release.
    expect(existsSync(join(out, 'checkpoint', 'config.json'))).toBe(false);
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);
  }, 60_000);
});
