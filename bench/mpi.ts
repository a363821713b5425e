// bench/mpi.ts: `flstm train --json` on one process or on several under mpirun, for the
// distributed benches: the events each run prints.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** mpirun's options before the rank count: Open MPI's as root (and on fewer cores than ranks), or MPICH's. */
function mpirunFlags(): string[] {
  const v = spawnSync('mpirun', ['--version'], { encoding: 'utf8' });
  if (v.error) throw new Error('bench: no mpirun (tools/setup.sh installs Open MPI)');
  return /Open MPI/.test(v.stdout + v.stderr) ? ['--allow-run-as-root', '--oversubscribe', '-np'] : ['-n'];
}

/** The JSON events of `flstm train ... --json` on `processes` processes (rank 0 prints them). */
export function trainEvents<E = Record<string, any>>(processes: number, args: string[]): E[] {
  const cli = [process.execPath, join(import.meta.dirname, '..', 'cli.js'), 'train', ...args, '--json'];
  const r =
    processes === 1
      ? spawnSync(cli[0], cli.slice(1), { encoding: 'utf8' })
      : spawnSync('mpirun', [...mpirunFlags(), String(processes), ...cli], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench: the run on ${processes} process(es) failed:\n${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}
