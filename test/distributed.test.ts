// Training on several processes (src/distributed/): two ranks through mpirun on this machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launcherFromEnv } from '../src/distributed/world.js';
import { bundleFixture, mpiRun } from './mpi_launch.js';

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'flstm-mpi-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

describe('the world of a process', () => {
  it("is read from the launcher's environment: Open MPI, MPICH's Hydra, PMIx, srun (not an sbatch script's shell)", () => {
    expect(launcherFromEnv({})).toBeNull();
    expect(launcherFromEnv({ OMPI_COMM_WORLD_SIZE: '4', OMPI_COMM_WORLD_RANK: '3' })).toEqual({ name: 'mpirun (Open MPI)', size: 4, rank: 3, abi: 'Open MPI' });
    expect(launcherFromEnv({ PMI_SIZE: '2', PMI_RANK: '1' })).toMatchObject({ size: 2, rank: 1, abi: 'MPICH' });
    expect(launcherFromEnv({ PMIX_SIZE: '8', PMIX_RANK: '5' })).toMatchObject({ size: 8, rank: 5, abi: null });
    expect(launcherFromEnv({ SLURM_NTASKS: '8', SLURM_PROCID: '2' })).toBeNull();
    expect(launcherFromEnv({ SLURM_NTASKS: '8', SLURM_PROCID: '2', SLURM_STEP_ID: '0' })).toMatchObject({ name: 'srun (Slurm)', size: 8, rank: 2 });
    expect(launcherFromEnv({ OMPI_COMM_WORLD_SIZE: '2', OMPI_COMM_WORLD_RANK: '2' })).toBeNull();
  });

  it('under mpirun, two ranks find each other: sums, ragged gathers, local ranks, and a disagreement named', async () => {
    const script = await bundleFixture('mpi_world');
    const r = mpiRun(2, [process.execPath, script]);
    expect(r.status, r.stderr).toBe(0);
    const ranks = jsonLines(r.stdout).sort((a, b) => (a.rank as number) - (b.rank as number));
    expect(ranks.map((x) => x.rank)).toEqual([0, 1]);
    for (const x of ranks) {
      expect(x).toMatchObject({ size: 2, localSize: 2, launcher: 'mpirun (Open MPI)', sumFirst: 3, sumLast: 3, ragged: [0, 100, 101], counts: [1, 2] });
      expect(x.disagreement).toBe('flstm: the ranks disagree on the options: rank 0 has --hidden 64, rank 1 has --hidden 32; start every rank with the same command, files and flstm');
    }
    expect(ranks.map((x) => x.localRank)).toEqual([0, 1]);
  });
});
