// Training on several processes (src/distributed/): two ranks through mpirun on this machine.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launcherFromEnv } from '../src/distributed/world.js';
import { readSafetensorsFile } from '../src/train/safetensors_file.js';
import { Rng } from '../src/random.js';
import { runCli, useBuiltCli } from './cli-helpers.js';
import { bundleFixture, mpiRun, mpiRunEach, mpiStart } from './mpi-launch.js';

useBuiltCli();

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'flstm-mpi-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

describe('the world of a process', () => {
  it("is read from the launcher's environment: Open MPI, MPICH's Hydra, PMIx, srun (not an sbatch script's shell)", () => {
    expect(launcherFromEnv({})).toBeNull();
    expect(launcherFromEnv({ OMPI_COMM_WORLD_SIZE: '4', OMPI_COMM_WORLD_RANK: '3' })).toEqual({
      name: 'mpirun (Open MPI)',
      size: 4,
      rank: 3,
      abi: 'Open MPI',
    });
    expect(launcherFromEnv({ PMI_SIZE: '2', PMI_RANK: '1' })).toMatchObject({ size: 2, rank: 1, abi: 'MPICH' });
    expect(launcherFromEnv({ PMIX_SIZE: '8', PMIX_RANK: '5' })).toMatchObject({ size: 8, rank: 5, abi: null });
    expect(launcherFromEnv({ SLURM_NTASKS: '8', SLURM_PROCID: '2' })).toBeNull();
    expect(launcherFromEnv({ SLURM_NTASKS: '8', SLURM_PROCID: '2', SLURM_STEP_ID: '0' })).toMatchObject({
      name: 'srun (Slurm)',
      size: 8,
      rank: 2,
    });
    expect(launcherFromEnv({ OMPI_COMM_WORLD_SIZE: '2', OMPI_COMM_WORLD_RANK: '2' })).toBeNull();
  });

  it('under mpirun, two ranks find each other: sums, ragged gathers, local ranks, and a disagreement named', async () => {
    const script = await bundleFixture('mpi-world');
    const r = mpiRun(2, [process.execPath, script]);
    expect(r.status, r.stderr).toBe(0);
    const ranks = jsonLines(r.stdout).sort((a, b) => (a.rank as number) - (b.rank as number));
    expect(ranks.map((x) => x.rank)).toEqual([0, 1]);
    for (const x of ranks) {
      expect(x).toMatchObject({
        size: 2,
        localSize: 2,
        launcher: 'mpirun (Open MPI)',
        sumFirst: 3,
        sumLast: 3,
        ragged: [0, 100, 101],
        counts: [1, 2],
      });
      expect(x.disagreement).toBe(
        'flstm: the ranks disagree on the options: rank 0 has --hidden 64, rank 1 has --hidden 32; start every rank with the same command, files and flstm',
      );
    }
    expect(ranks.map((x) => x.localRank)).toEqual([0, 1]);
    // Rank r sent (r + 1)(i - 32)/8, exact in halves, as are the sums.
    for (const x of ranks) expect(x.halfSums).toEqual(Array.from({ length: 64 }, (_, i) => (3 * (i - 32)) / 8));
  });
});

/** A small corpus of its own: 300 words, Zipf-like lines (seeded). */
function writeCorpus(dir: string): string {
  const rng = new Rng(7);
  const line = () => Array.from({ length: 3 + Math.floor(rng.uniform() * 12) }, () => `w${Math.floor(300 * rng.uniform() ** 2)}`).join(' ');
  const files = (['train', 'valid', 'test'] as const).map((name, i) => {
    const file = join(dir, `${name}.txt`);
    writeFileSync(file, Array.from({ length: i === 0 ? 2000 : 300 }, line).join('\n') + '\n');
    return file;
  });
  return `text:${files.join(',')}`;
}

type Record_ = { step: number; split: string; loss: number; final?: boolean };
const metrics = (run: string): Record_[] =>
  readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

/** The model file's tensors of a run's checkpoint. */
async function modelTensors(run: string) {
  const dir = join(run, 'checkpoint');
  const file = readdirSync(dir).find((f) => f.startsWith('model-'))!;
  return (await readSafetensorsFile(join(dir, file))).tensors;
}

function expectSameRun(got: string, want: string, what: string, tol = 1e-5): void {
  const [a, b] = [metrics(got), metrics(want)];
  expect(
    a.map((r) => [r.step, r.split]),
    what,
  ).toEqual(b.map((r) => [r.step, r.split]));
  a.forEach((r, i) => expect(Math.abs(r.loss - b[i].loss), `${what}: ${r.split} loss at step ${r.step}`).toBeLessThan(tol));
}

async function expectSameCheckpoint(got: string, want: string, tol = 1e-5): Promise<void> {
  const [a, b] = [await modelTensors(got), await modelTensors(want)];
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const [name, t] of Object.entries(a)) {
    expect(t.shape, name).toEqual(b[name].shape);
    let worst = 0;
    t.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(Number(v) - Number(b[name].data[i])))));
    expect(worst, `${name} differs by ${worst}`).toBeLessThan(tol);
  }
}

describe('training on two processes (mpirun -np 2) is training one process with twice the batch', () => {
  let data = '';
  const small = () => [
    '--data',
    data,
    '--hidden',
    '32',
    '--proj',
    '16',
    '--emb',
    '16',
    '--bptt',
    '8',
    '--log-every',
    '2',
    '--sample',
    '0',
    '--precision',
    'f32',
    '--json',
  ];
  const train = (n: number, args: string[]) => {
    const r =
      n === 1
        ? runCli(['train', ...small(), ...args], 180_000)
        : mpiRun(n, [process.execPath, 'dist/cli.js', 'train', ...small(), ...args], 180_000);
    expect(r.status, r.stderr).toBe(0);
    return r;
  };
  beforeAll(() => {
    data = writeCorpus(tmp);
  });

  // G-LSTM validates on the whole split at the end; LSTM every 4 steps on exactly 333 tokens (the last batch cut).
  for (const cell of [
    ['--cell', 'glstm', '--groups', '2'],
    ['--cell', 'lstm', '--eval-every', '4', '--eval-tokens', '333'],
  ]) {
    it(`${cell[1]} with the sampled softmax, dropout and clipping: the same losses, validation and final tensors`, async () => {
      const recipe = [...cell, '--sampled', '20', '--dropout', '0.2', '--clip', '1', '--steps', '8'];
      const [one, two] = [join(tmp, `${cell[1]}-1`), join(tmp, `${cell[1]}-2`)];
      train(1, [...recipe, '--batch', '8', '--out', one]);
      // Buckets of 4 KiB: each gradient read back as soon as the backward has made it, in several buckets.
      process.env.FLSTM_BUCKET_BYTES = '4096';
      const r = train(2, [...recipe, '--batch', '4', '--out', two]);
      delete process.env.FLSTM_BUCKET_BYTES;
      // Rank 0 alone speaks: one start event, naming both ranks and the global batch.
      const starts = r.stdout.split('\n').filter((l) => l.startsWith('{"type":"start"'));
      expect(starts).toHaveLength(1);
      expect(JSON.parse(starts[0]).world).toMatchObject({ processes: 2, batch: 4, globalBatch: 8 });
      expect(JSON.parse(starts[0]).world.ranks).toHaveLength(2);
      const exchanges = r.stdout
        .split('\n')
        .filter((l) => l.startsWith('{"type":"progress"'))
        .map((l) => JSON.parse(l).exchange);
      expect(exchanges.length).toBeGreaterThan(0);
      for (const x of exchanges) expect(x.buckets, 'gradients read back in several buckets').toBeGreaterThan(1);
      // --dry-run on two processes prints the plan once, with the bytes a step all-reduces.
      const plan = train(2, [...recipe, '--batch', '4', '--out', join(tmp, `${cell[1]}-plan`), '--dry-run'])
        .stdout.trim()
        .split('\n');
      expect(plan).toHaveLength(1);
      expect(JSON.parse(plan[0])).toMatchObject({
        type: 'memory-plan',
        processes: 2,
        allReducedBytes: JSON.parse(starts[0]).world.denseBytes,
      });
      expectSameRun(two, one, cell[1]);
      const validations = metrics(two).filter((m) => m.split === 'valid') as (Record_ & { tokens: number })[];
      expect(validations.length).toBeGreaterThan(0);
      if (cell[1] === 'lstm') expect(validations.map((m) => m.tokens)).toEqual([333, 333]);
      await expectSameCheckpoint(two, one);
      expect(JSON.parse(readFileSync(join(two, 'checkpoint/config.json'), 'utf8')).config.world).toBe(2);
    });
  }

  it('--allreduce f16: the LSTM gradients cross in halves (half the bytes), and the run stays within f16 rounding of one process', () => {
    const recipe = [
      '--cell',
      'lstm',
      '--sampled',
      '20',
      '--dropout',
      '0.2',
      '--clip',
      '1',
      '--steps',
      '8',
      '--eval-every',
      '4',
      '--eval-tokens',
      '333',
    ];
    const [one, f32, f16] = ['f16-ref-1', 'f16-ref-2', 'f16-2'].map((d) => join(tmp, d));
    train(1, [...recipe, '--batch', '8', '--out', one]);
    const bytes = (r: { stdout: string }) =>
      r.stdout
        .split('\n')
        .filter((l) => l.startsWith('{"type":"progress"'))
        .map((l) => JSON.parse(l).exchange.denseBytes);
    const full = bytes(train(2, [...recipe, '--batch', '4', '--out', f32]));
    const r = train(2, [...recipe, '--batch', '4', '--out', f16, '--allreduce', 'f16']);
    expect(bytes(r)).toEqual(full.map((b) => b / 2));
    expect(JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{"type":"start"'))!).world.allReduce).toBe('f16');
    // Halves carry 11 significant bits: a relative error of 2^-11 per gradient, far below what the 8 steps move the loss.
    expectSameRun(f16, one, 'f16 all-reduce', 2e-3);
    expect(
      metrics(f16).some((m, i) => m.loss !== metrics(f32)[i].loss),
      'the f16 run differs from the f32 one somewhere',
    ).toBe(true);
  });

  it('a run stopped and resumed on two processes, or resumed on one with the global batch, continues the uninterrupted run', async () => {
    const recipe = ['--sampled', '20', '--dropout', '0.2', '--clip', '1'];
    const [whole, part] = [join(tmp, 'whole'), join(tmp, 'part')];
    train(2, [...recipe, '--batch', '4', '--steps', '8', '--out', whole]);
    train(2, [...recipe, '--batch', '4', '--steps', '4', '--out', part]);
    cpSync(part, `${part}-one`, { recursive: true });
    train(2, ['--resume', '--out', part, '--steps', '8', '--log-every', '2']);
    // --batch follows the number of processes: 2 x 4 = 1 x 8.
    train(1, ['--resume', '--out', `${part}-one`, '--steps', '8', '--log-every', '2']);
    const resumed = (run: string) => metrics(run).filter((m) => !(m.split === 'valid' && m.step === 4));
    for (const run of [part, `${part}-one`]) {
      const [a, b] = [resumed(run), metrics(whole)];
      expect(a.map((m) => m.step)).toEqual(b.map((m) => m.step));
      a.forEach((m, i) => expect(Math.abs(m.loss - b[i].loss), `${run} at step ${m.step}`).toBeLessThan(1e-5));
      await expectSameCheckpoint(run, whole);
    }
    const refused = runCli(['train', '--resume', '--out', part, '--steps', '10', '--batch', '4'], 60_000);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /the checkpoint in .* trained with --batch 4 on 2 processes \(a global batch of 8\), this run has --batch 4: the global batch must stay 8; give --batch 8/,
    );
  });

  it('a rank killed with -9 ends the job within seconds, and the checkpoint resumes', async () => {
    const run = join(tmp, 'killed');
    const job = mpiStart(2, [
      process.execPath,
      'dist/cli.js',
      'train',
      ...small(),
      '--batch',
      '4',
      '--steps',
      '100000',
      '--save-every',
      '5',
      '--out',
      run,
    ]);
    const until = async (ok: () => boolean, what: string, ms: number) => {
      for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 200)))
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    };
    await until(() => existsSync(join(run, 'checkpoint/config.json')), 'a checkpoint', 120_000);
    const ranks = execFileSync('ps', ['-o', 'pid=', '--ppid', String(job.child.pid)], { encoding: 'utf8' })
      .trim()
      .split(/\s+/)
      .map(Number);
    expect(ranks).toHaveLength(2);
    const killedAt = Date.now();
    process.kill(ranks[1], 'SIGKILL');
    const status = await job.exited;
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await until(() => !alive(ranks[0]), 'the other rank to end', 30_000);
    expect(Date.now() - killedAt, 'milliseconds from the kill to the end of every rank').toBeLessThan(10_000);
    expect(status).not.toBe(0);
    const r = train(2, [
      '--resume',
      '--out',
      run,
      '--steps',
      String(JSON.parse(readFileSync(join(run, 'checkpoint/config.json'), 'utf8')).config.step + 2),
    ]);
    expect(r.stdout).toContain('"type":"summary"');
  });

  it('compare, which trains on one process, is refused under a launcher of two', () => {
    const r = mpiRun(2, [process.execPath, 'dist/cli.js', 'compare', '--steps', '1', '--out', join(tmp, 'cmp')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('flstm compare: runs on one process, and mpirun (Open MPI) started 2: run it without the launcher');
    expect(existsSync(join(tmp, 'cmp'))).toBe(false);
  });

  it('ranks started with different options are refused before training, naming the option', () => {
    const rank = (hidden: string) => [
      process.execPath,
      'dist/cli.js',
      'train',
      ...small(),
      '--hidden',
      hidden,
      '--steps',
      '2',
      '--out',
      join(tmp, 'mismatch'),
    ];
    const r = mpiRunEach([rank('32'), rank('48')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/flstm \(rank \d of 2\): the ranks disagree on the options: --hidden 32 on rank 0, 48 on rank 1/);
    expect(existsSync(join(tmp, 'mismatch/checkpoint'))).toBe(false);
  });

  it("a rank that cannot hold its model stops every rank at once, with that rank's message", () => {
    // Rank 1's adapter holds bindings of 1 KiB only (FLSTM_MAX_BINDING_BYTES), too small for its softmax table.
    const rank = (env: string[]) => [
      'env',
      ...env,
      process.execPath,
      'dist/cli.js',
      'train',
      ...small(),
      '--sampled',
      '0',
      '--steps',
      '2',
      '--out',
      join(tmp, 'small-adapter'),
    ];
    const started = Date.now();
    const r = mpiRunEach([rank([]), rank(['FLSTM_MAX_BINDING_BYTES=1024'])]);
    expect(r.status).not.toBe(0);
    expect(Date.now() - started, 'milliseconds to the end of the job').toBeLessThan(60_000);
    expect(r.stderr).toMatch(
      /flstm \(rank 1 of 2\): the full softmax trains a softmax table of one binding; this one \(\[\d+, 16\], [\d.]+ KiB\) would be stored in \d+ shards/,
    );
    expect(r.stderr).not.toMatch(/rank 0 of 2/);
    expect(existsSync(join(tmp, 'small-adapter/checkpoint'))).toBe(false);
  });
});
