// The processes of one distributed run: which launcher started this process, its rank and the
// world's size, its rank among the processes of its machine (which picks its GPU), and the
// collectives over them (MPI, src/dist/mpi.ts). A process outside a launcher is a world of
// one, and loads no MPI library.
import { hostname } from 'node:os';
import { Mpi } from './mpi.js';

/** --distributed: auto (MPI when a launcher started more than one process), mpi (required), none. */
export type DistributedMode = 'auto' | 'mpi' | 'none';
export const DISTRIBUTED_MODES = ['auto', 'mpi', 'none'] as const;

export interface Launcher {
  /** Who set the environment: mpirun (Open MPI), mpiexec (MPICH's Hydra), srun (Slurm), or a PMIx server. */
  name: string;
  size: number;
  rank: number;
  /** The MPI library the launcher belongs to, when the environment says (srun and PMIx do not). */
  abi: 'Open MPI' | 'MPICH' | null;
}

type Env = Record<string, string | undefined>;

function int(v: string | undefined): number | null {
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
}

/** The launcher whose variables this process's environment holds, or null. */
export function launcherFromEnv(env: Env): Launcher | null {
  const probes: [string, string, string, Launcher['abi']][] = [
    ['mpirun (Open MPI)', 'OMPI_COMM_WORLD_SIZE', 'OMPI_COMM_WORLD_RANK', 'Open MPI'],
    ['mpiexec (MPICH Hydra)', 'PMI_SIZE', 'PMI_RANK', 'MPICH'],
    ['PMIx', 'PMIX_SIZE', 'PMIX_RANK', null],
    ['srun (Slurm)', 'SLURM_NTASKS', 'SLURM_PROCID', null],
  ];
  for (const [name, sizeVar, rankVar, abi] of probes) {
    const size = int(env[sizeVar]);
    const rank = int(env[rankVar]);
    // An sbatch script's own shell has SLURM_NTASKS but is no task of a step.
    if (sizeVar === 'SLURM_NTASKS' && env.SLURM_STEP_ID === undefined) continue;
    if (size !== null && rank !== null && rank < size) return { name, size, rank, abi };
  }
  return null;
}

export interface World {
  rank: number;
  size: number;
  /** This process's rank among those on its machine, and how many there are. */
  localRank: number;
  localSize: number;
  host: string;
  /** The collectives; null in a world of one. */
  comm: Mpi | null;
  launcher: string | null;
}

export const SOLO: World = { rank: 0, size: 1, localRank: 0, localSize: 1, host: '', comm: null, launcher: null };

/**
 * The world this process belongs to. 'auto': MPI when a launcher started more than one
 * process, else a world of one; 'mpi': MPI even for one process (an error outside a launcher);
 * 'none': a world of one whatever the environment.
 */
export async function joinWorld(mode: DistributedMode, env: Env = process.env): Promise<World> {
  if (mode === 'none') return SOLO;
  const launcher = launcherFromEnv(env);
  if (!launcher) {
    if (mode === 'mpi')
      throw new Error(
        'flstm: --distributed mpi: this process was not started by an MPI launcher (mpirun, mpiexec, srun): start it with one, e.g. mpirun -np 2 flstm train ...',
      );
    return SOLO;
  }
  if (mode === 'auto' && launcher.size === 1) return SOLO;
  const comm = await Mpi.open(launcher.abi, env.FLSTM_MPI_LIBRARY);
  if (comm.size !== launcher.size) {
    throw new Error(
      `flstm: ${launcher.name} started ${launcher.size} processes but MPI (${comm.library}) sees ${comm.size}: the MPI library is not the launcher's (FLSTM_MPI_LIBRARY=/path/to/libmpi.so chooses it)`,
    );
  }
  const host = hostname();
  const { localRank, localSize } = localRanks(comm, host);
  joined = { rank: comm.rank, size: comm.size, localRank, localSize, host, comm, launcher: launcher.name };
  // A library's process that ends without leaving the world still finalizes MPI (else the launcher reports it as failed).
  process.once('exit', () => leaveWorld(false));
  return joined;
}

let joined: World | null = null;

/** The world this process joined through MPI, if any (its end must end MPI too). */
export function joinedWorld(): World | null {
  return joined;
}

/**
 * Ends this process's part in its world: after an error, every rank of the job at once (MPI
 * aborts the job, so no rank waits forever in a collective for this one), else MPI is finalized.
 */
export function leaveWorld(failed: boolean, code = 1): void {
  const w = joined;
  joined = null;
  if (!w?.comm) return;
  if (failed) w.comm.abort(code);
  w.comm.finalize();
}

/** This rank's place among the ranks on its machine, from every rank's host name. */
function localRanks(comm: Mpi, host: string): { localRank: number; localSize: number } {
  const hosts = comm.gatherBytes(new TextEncoder().encode(host)).map((b) => new TextDecoder().decode(b));
  return { localRank: hosts.slice(0, comm.rank).filter((h) => h === host).length, localSize: hosts.filter((h) => h === host).length };
}

/**
 * Refuses to go on unless every rank has the same `value` of `what` (options, corpus,
 * vocabulary, version): the message names the first rank that differs and how (`differences`
 * of rank 0's value and its, or both values).
 */
export function checkAgreement(
  world: World,
  what: string,
  value: string,
  differences?: (rank0: string, other: string, rank: number) => string,
): void {
  if (!world.comm) return;
  const all = world.comm.gatherBytes(new TextEncoder().encode(value)).map((b) => new TextDecoder().decode(b));
  const other = all.findIndex((v) => v !== all[0]);
  if (other < 0) return;
  const how = differences?.(all[0], all[other], other) || `rank 0 has ${clip(all[0])}, rank ${other} has ${clip(all[other])}`;
  throw new Error(`flstm: the ranks disagree on ${what}: ${how}; start every rank with the same command, files and flstm`);
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}
