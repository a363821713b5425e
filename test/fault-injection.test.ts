// Crashes during training, proven by injecting them: a tiny run is killed with -9 at seeded
// random moments, several times in a row, many of them inside a checkpoint save (each save
// made slow by FLSTM_TEST_SAVE_PAUSE_MS, src/train/save_faults.ts); each time `train --resume`
// continues from the checkpoint that survived (eval works on it), and at the end the losses in
// metrics.jsonl are those of an uninterrupted run with the same options. And SIGTERM that
// arrives in the middle of a save is Ctrl-C: the save finishes, the run stops there and exits 143.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusText } from './helpers.js';
import { root, runCli, useBuiltCli, TINY_MODEL } from './cli-helpers.js';
import { Rng } from '../src/random.js';

useBuiltCli();

let tmp: string;
let data: string;
const opts = () => [
  '--data',
  data,
  '--layers',
  '1',
  ...TINY_MODEL,
  '--sampled',
  '8',
  '--save-every',
  '2',
  '--log-every',
  '1',
  '--eval-tokens',
  '0',
  '--sample',
  '0',
];
const STEPS = 30;
const PAUSE_MS = 100;
/** The seed of the kill moments (FLSTM_FAULT_SEED repeats a failing sequence). */
const SEED = Number(process.env.FLSTM_FAULT_SEED ?? 20261203);

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'flstm-faults-'));
  writeFileSync(join(tmp, 'train.txt'), corpusText(40, 61));
  writeFileSync(join(tmp, 'valid.txt'), corpusText(8, 62));
  data = `text:${join(tmp, 'train.txt')},${join(tmp, 'valid.txt')}`;
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The training losses of a run folder, by step. */
function losses(out: string): [number, number][] {
  return readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.split === 'train')
    .map((r) => [r.step, r.loss]);
}

interface Running {
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Called with each JSON line of stdout. */
  onLine(fn: (l: Record<string, any>) => void): void;
}

/** `flstm train ... --json` with the slow saves; stderr to a file (so the pid is the trainer's, no filtering child). */
function start(args: string[], errFile: string, pauseMs = PAUSE_MS): Running {
  const fd = openSync(errFile, 'w');
  const child = spawn(process.execPath, ['dist/cli.js', 'train', ...args, '--json'], {
    cwd: root,
    stdio: ['ignore', 'pipe', fd],
    env: { ...process.env, NODE_OPTIONS: '', FLSTM_TEST_SAVE_PAUSE_MS: String(pauseMs) },
  });
  closeSync(fd);
  const fns: ((l: Record<string, any>) => void)[] = [];
  let held = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    const parts = (held + d).split('\n');
    held = parts.pop()!;
    for (const p of parts.filter((x) => x.trim())) for (const f of fns) f(JSON.parse(p));
  });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  void exited.finally(() => clearTimeout(timer));
  return { child, exited, onLine: (fn) => fns.push(fn) };
}

/** What a save cut short leaves in the checkpoint folder: temporary files, generation files config.json does not name. */
function strays(ckDir: string): string[] {
  if (!existsSync(ckDir)) return [];
  const named = existsSync(join(ckDir, 'config.json'))
    ? Object.values(JSON.parse(readFileSync(join(ckDir, 'config.json'), 'utf8')).files as Record<string, string>)
    : [];
  return readdirSync(ckDir).filter((n) => n !== 'config.json' && !named.includes(n));
}

const cutShort = (ckDir: string) => strays(ckDir).length > 0;

/**
 * One life of the run: started (resuming when a checkpoint survived), killed with -9 at a
 * seeded moment: inside the save after a progress line at a save step, or a while after start.
 * Returns whether it was killed (false: it finished first) and whether a save was cut short.
 */
async function lifeKilled(out: string, rng: Rng, i: number): Promise<{ killed: boolean; inSave: boolean; mode: string }> {
  const resume = existsSync(join(out, 'checkpoint', 'config.json'));
  const before = strays(join(out, 'checkpoint')); // left by an earlier life
  const run = start([...opts(), ...(resume ? ['--resume'] : []), '--steps', String(STEPS), '--out', out], join(tmp, `life-${i}.err`));
  const inSaveMode = rng.uniform() < 0.65;
  const delay = Math.floor(rng.uniform() * (inSaveMode ? 4 * PAUSE_MS : 1500));
  let timer: NodeJS.Timeout | undefined;
  let killed = false;
  const kill = () => {
    killed = run.child.exitCode === null;
    run.child.kill('SIGKILL');
  };
  if (inSaveMode) {
    // A seeded number of saves to let finish before the one killed.
    let saves = Math.floor(rng.uniform() * 3);
    run.onLine((l) => {
      if (l.type === 'progress' && l.step % 2 === 0 && timer === undefined && saves-- <= 0) timer = setTimeout(kill, delay);
    });
  } else timer = setTimeout(kill, delay);
  const code = await run.exited;
  clearTimeout(timer);
  if (!killed) expect(code, readFileSync(join(tmp, `life-${i}.err`), 'utf8')).toBe(0);
  // Each save writes new names (a new generation, random temporary suffixes): a new stray is this life's save.
  const inSave = killed && strays(join(out, 'checkpoint')).some((n) => !before.includes(n));
  return { killed, inSave, mode: inSaveMode ? `save+${delay}ms` : `${delay}ms` };
}

/** eval on the checkpoint that survived: it loads, at the step its config says (a save step). */
function evalWorks(out: string): number {
  const step = JSON.parse(readFileSync(join(out, 'checkpoint', 'config.json'), 'utf8')).config.step as number;
  expect(step % 2 === 0 || step === STEPS).toBe(true);
  const ev = runCli(['eval', '--checkpoint', join(out, 'checkpoint'), '--max-tokens', '20', '--json']);
  expect(ev.status, ev.stderr).toBe(0);
  expect(JSON.parse(ev.stdout.trim().split('\n').pop()!)).toMatchObject({ type: 'eval', step });
  return step;
}

describe('kill -9 at random moments, saves included', () => {
  it("each train --resume continues from the surviving checkpoint; the losses are the uninterrupted run's", async () => {
    const ref = join(tmp, 'ref');
    expect(runCli(['train', ...opts(), '--steps', String(STEPS), '--out', ref]).status).toBe(0);
    const out = join(tmp, 'killed');
    const rng = new Rng(SEED);
    const lives: string[] = [];
    let kills = 0;
    let inSaves = 0;
    for (let i = 0; i < 12 && kills < 8; i++) {
      const life = await lifeKilled(out, rng, i);
      if (!life.killed) break; // it finished first
      kills++;
      if (life.inSave) inSaves++;
      const step = existsSync(join(out, 'checkpoint', 'config.json')) ? evalWorks(out) : 0;
      lives.push(`${life.mode}${life.inSave ? ' (in a save)' : ''} -> step ${step}`);
    }
    // The last life runs to the end undisturbed (when the kills did not leave it finished).
    if (JSON.parse(readFileSync(join(out, 'checkpoint', 'config.json'), 'utf8')).config.step !== STEPS) {
      const last = runCli(['train', ...opts(), '--resume', '--steps', String(STEPS), '--out', out]);
      expect(last.status, last.stderr).toBe(0);
    }
    console.log(`seed ${SEED}: ${kills} kills survived, ${inSaves} inside a save: ${lives.join('; ')}`);
    expect(kills, lives.join('; ')).toBeGreaterThanOrEqual(6);
    expect(inSaves, lives.join('; ')).toBeGreaterThanOrEqual(2);
    expect(evalWorks(out)).toBe(STEPS);
    const want = losses(ref);
    expect(want.map(([s]) => s)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
    expect(losses(out)).toEqual(want);
    expect(cutShort(join(out, 'checkpoint'))).toBe(false); // the last save removed what the kills left
  }, 90_000);
});

describe('SIGTERM in the middle of a save', () => {
  it('lets the save finish and stops there (that checkpoint is the last), exits 143; the checkpoint loads', async () => {
    const out = join(tmp, 'sigterm');
    const run = start([...opts(), '--steps', '100000', '--out', out], join(tmp, 'sigterm.err'), 300);
    const lines: Record<string, any>[] = [];
    let sent = false;
    run.onLine((l) => {
      lines.push(l);
      if (!sent && l.type === 'progress' && l.step === 4) {
        sent = true;
        setTimeout(() => run.child.kill('SIGTERM'), 500); // inside the save of step 4 (4 files x 300 ms)
      }
    });
    expect(await run.exited, readFileSync(join(tmp, 'sigterm.err'), 'utf8')).toBe(143);
    const saved = lines.filter((l) => l.type === 'checkpoint').map((l) => l.step);
    const summary = lines[lines.length - 1]!;
    expect(summary).toMatchObject({ type: 'summary', stopReason: 'interrupted' });
    // The signal came during the save of step 4: no step after it, no second save of it.
    expect(saved).toEqual([2, 4]);
    expect(summary.step).toBe(4);
    expect(lines.find((l) => l.type === 'stopped')?.reason).toMatch(/^interrupted at step 4: checkpoint saved in /);
    expect(evalWorks(out)).toBe(4);
    expect(cutShort(join(out, 'checkpoint'))).toBe(false);
  }, 60_000);
});
