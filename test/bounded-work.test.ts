// The work in flight stays bounded whatever the cadences: with --log-every and --save-every
// past the run's length nothing reads the GPU back, yet the host may not run ahead of it, so
// --time ends the run when it says and Ctrl-C stops it within a step or so (the run saves and
// exits 130). Generous bounds: the two ways it fails are minutes, not seconds.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { root, useBuiltCli, TINY_MODEL } from './cli-helpers.js';

useBuiltCli();
const tmp = mkdtempSync(join(tmpdir(), 'flstm-bounded-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const corpus = join(tmp, 'train.txt');
writeFileSync(corpus, Array.from({ length: 300 }, (_, i) => `w${i % 37} w${(i * 7) % 41} w${(i * 3) % 29} w${i % 11} .`).join('\n'));
const NEVER = ['--log-every', '1000000', '--save-every', '1000000', '--eval-tokens', '0', '--sample', '0'];
const TINY = ['--data', `text:${corpus}`, '--layers', '1', ...TINY_MODEL, '--sampled', '8', ...NEVER];

/** Runs `flstm train ARGS --json`; `interruptAfterMs` sends SIGINT that long after the first output. */
function train(
  args: string[],
  interruptAfterMs?: number,
): Promise<{ code: number | null; ms: number; stdout: string; stderr: string; stoppedAfterMs?: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['dist/cli.js', 'train', ...TINY, ...args, '--json'], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const t0 = performance.now();
    let stdout = '';
    let stderr = '';
    let sentAt: number | undefined;
    child.stdout.on('data', (d) => {
      stdout += d;
      if (interruptAfterMs !== undefined && sentAt === undefined && /"type":"start"/.test(stdout)) {
        sentAt = -1;
        setTimeout(() => {
          sentAt = performance.now();
          child.kill('SIGINT');
        }, interruptAfterMs);
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (code) => {
      clearTimeout(killer);
      const end = performance.now();
      resolve({ code, ms: end - t0, stdout, stderr, stoppedAfterMs: sentAt !== undefined && sentAt > 0 ? end - sentAt : undefined });
    });
  });
}

const summaryOf = (stdout: string) =>
  JSON.parse(
    stdout
      .trim()
      .split('\n')
      .filter((l) => l.includes('"type":"summary"'))
      .pop()!,
  );

describe('work in flight is bounded whatever the cadences', () => {
  it('--time 6s ends the run after about 6 s of training though nothing is read back', async () => {
    const r = await train(['--time', '6s', '--out', join(tmp, 'time')]);
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(r.stdout);
    expect(s.stopReason).toBe('time');
    expect(s.step).toBeGreaterThan(20);
    expect(s.trainSeconds).toBeGreaterThanOrEqual(6);
    expect(s.trainSeconds).toBeLessThan(9);
    // Start-up, the first step's kernels and the save are the rest: not a backlog of steps.
    expect(r.ms / 1e3, `wall ${r.ms} ms`).toBeLessThan(s.trainSeconds + 20);
  }, 120_000);

  it('Ctrl-C stops within seconds, saves and exits 130', async () => {
    const r = await train(['--time', '10m', '--out', join(tmp, 'int')], 4000);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stoppedAfterMs, 'SIGINT was sent').toBeDefined();
    expect(r.stoppedAfterMs!, `exited ${r.stoppedAfterMs} ms after SIGINT`).toBeLessThan(10_000);
    const s = summaryOf(r.stdout);
    expect(s.stopReason).toBe('interrupted');
    expect(r.stdout).toMatch(/"type":"checkpoint"/);
  }, 120_000);
});
