// MPI through koffi (an FFI with prebuilt binaries): the few collectives data-parallel training
// needs, from the MPI library the launcher (mpirun, srun, an MPIJob) already provides. Loaded
// only when a run is distributed; a process outside a launcher never loads it.
//
// Two ABIs cover the libraries users have: Open MPI's (libmpi.so.40), whose handles are the
// addresses of library globals (MPI_COMM_WORLD is &ompi_mpi_comm_world), and MPICH's
// (libmpi.so.12, shared by Intel MPI, Cray MPICH and MVAPICH), whose handles are integers
// fixed by its mpi.h. Everything here is blocking and synchronous: the event loop waits while
// a collective runs, which is what a training step wants.
import { loadKoffi, type Koffi, type KoffiLibrary } from '../gpu/koffi.js';
import { addHalves } from './half_sum.js';

type Handle = bigint | number;

interface Abi {
  name: 'Open MPI' | 'MPICH';
  libraries: string[];
  /** The C type of a handle (MPI_Comm, MPI_Datatype, MPI_Op) in the prototypes. */
  handleType: string;
  handles(symbol: (name: string) => bigint): Record<'world' | 'float' | 'double' | 'int' | 'short' | 'byte' | 'sum', Handle>;
  /** MPI_IN_PLACE, as a pointer. */
  inPlace: bigint;
}

const ABIS: Abi[] = [
  {
    name: 'Open MPI',
    libraries: ['libmpi.so.40', 'libmpi.40.dylib'],
    handleType: 'void *',
    handles: (symbol) => ({
      world: symbol('ompi_mpi_comm_world'),
      float: symbol('ompi_mpi_float'),
      double: symbol('ompi_mpi_double'),
      int: symbol('ompi_mpi_int'),
      short: symbol('ompi_mpi_short'),
      byte: symbol('ompi_mpi_byte'),
      sum: symbol('ompi_mpi_op_sum'),
    }),
    inPlace: 1n,
  },
  {
    name: 'MPICH',
    libraries: ['libmpi.so.12', 'libmpich.so.12', 'libmpi.12.dylib'],
    handleType: 'int',
    handles: () => ({
      world: 0x44000000,
      float: 0x4c00040a,
      double: 0x4c00080b,
      int: 0x4c000405,
      short: 0x4c000203,
      byte: 0x4c00010d,
      sum: 0x58000003,
    }),
    inPlace: 0xffffffffffffffffn,
  },
];

/** The MPI library's functions this module calls, bound for one ABI. */
function bind(lib: KoffiLibrary, h: string) {
  return {
    init: lib.func('int MPI_Init(void *argc, void *argv)'),
    finalize: lib.func('int MPI_Finalize()'),
    rank: lib.func(`int MPI_Comm_rank(${h} comm, _Out_ int *rank)`),
    size: lib.func(`int MPI_Comm_size(${h} comm, _Out_ int *size)`),
    allreduce: lib.func(`int MPI_Allreduce(void *send, void *recv, int count, ${h} type, ${h} op, ${h} comm)`),
    allgather: lib.func(`int MPI_Allgather(void *send, int sendCount, ${h} sendType, void *recv, int recvCount, ${h} recvType, ${h} comm)`),
    allgatherv: lib.func(
      `int MPI_Allgatherv(void *send, int sendCount, ${h} sendType, void *recv, int *recvCounts, int *displs, ${h} recvType, ${h} comm)`,
    ),
    bcast: lib.func(`int MPI_Bcast(void *buffer, int count, ${h} type, int root, ${h} comm)`),
    abort: lib.func(`int MPI_Abort(${h} comm, int code)`),
    opCreate: lib.func(`int MPI_Op_create(void *fn, int commute, _Out_ ${h} *op)`),
    version: lib.func('int MPI_Get_library_version(_Out_ char *version, _Out_ int *length)'),
  };
}

export class MpiError extends Error {}

/** MPI's COMM_WORLD: this process's rank, the world's size, and the collectives over it. */
export class Mpi {
  readonly rank: number;
  readonly size: number;
  /** The library's own description of itself (MPI_Get_library_version), first line. */
  readonly library: string;
  private finalized = false;
  private halfSum: Handle | undefined;

  private constructor(
    private readonly koffi: Koffi,
    private readonly fn: ReturnType<typeof bind>,
    private readonly h: ReturnType<Abi['handles']>,
    private readonly inPlace: bigint,
  ) {
    this.check(fn.init(null, null), 'MPI_Init');
    const out = [0];
    this.check(fn.rank(h.world, out), 'MPI_Comm_rank');
    this.rank = out[0];
    this.check(fn.size(h.world, out), 'MPI_Comm_size');
    this.size = out[0];
    const text = Buffer.alloc(8192);
    fn.version(text, out);
    this.library = text.toString('utf8', 0, out[0]).split('\n')[0].replace(/\0.*$/, '').trim();
  }

  /**
   * Initializes MPI from the first library that loads: `library` (FLSTM_MPI_LIBRARY, a path,
   * either ABI: `abiHint` says which), else the ABI the launcher belongs to first
   * (`abiHint`), then the other. One message listing what was tried when none loads.
   */
  static async open(abiHint: 'Open MPI' | 'MPICH' | null = null, library?: string): Promise<Mpi> {
    let koffi: Koffi;
    try {
      koffi = await loadKoffi();
    } catch (e) {
      throw new MpiError(
        `flstm: distributed training needs the koffi package (a dependency of flstm): ${(e as Error).message.split('\n')[0]}`,
      );
    }
    const tried: string[] = [];
    const order = abiHint === 'MPICH' ? [ABIS[1], ABIS[0]] : ABIS;
    for (const abi of order) {
      for (const file of library ? [library] : abi.libraries) {
        let lib: KoffiLibrary;
        try {
          lib = koffi.load(file);
        } catch (e) {
          tried.push(`${file} (${(e as Error).message.split('\n')[0]})`);
          continue;
        }
        const symbol = (name: string) => lib.symbol(name, 'void') as unknown as bigint;
        return new Mpi(koffi, bind(lib, abi.handleType), abi.handles(symbol), abi.inPlace);
      }
    }
    throw new MpiError(
      `flstm: distributed training needs an MPI library (Open MPI or MPICH); none loaded: ${tried.join('; ')}. Debian: apt-get install openmpi-bin`,
    );
  }

  private check(code: number, what: string): void {
    if (code !== 0) throw new MpiError(`flstm: ${what} failed with MPI error ${code}`);
  }

  /** Sums `data` over the ranks, in place: every rank gets the same sums. */
  sumF32(data: Float32Array): void {
    this.check(this.fn.allreduce(this.inPlace, data, data.length, this.h.float, this.h.sum, this.h.world), 'MPI_Allreduce');
  }

  /**
   * Sums halves (f16 bit patterns) over the ranks, in place. MPI has no half type: they travel
   * as 16-bit integers, added by a user operation (half_sum.ts).
   */
  sumF16(data: Uint16Array): void {
    this.check(this.fn.allreduce(this.inPlace, data, data.length, this.h.short, this.halfSumOp(), this.h.world), 'MPI_Allreduce');
  }

  /** MPI's handle of the half sum, created once: MPI calls it with (in, inout, *count, *type). */
  private halfSumOp(): Handle {
    if (this.halfSum === undefined) {
      const k = this.koffi;
      const proto = k.proto('void flstm_half_sum(void *in, void *inout, int *count, void *type)');
      const fn = k.register((from: unknown, into: unknown, count: unknown) => {
        const n = k.decode(count, 'int') as number;
        addHalves(new Uint16Array(k.view(into, 2 * n)), new Uint16Array(k.view(from, 2 * n)));
      }, k.pointer(proto));
      const out: Handle[] = [0];
      this.check(this.fn.opCreate(fn, 1, out), 'MPI_Op_create');
      this.halfSum = out[0];
    }
    return this.halfSum;
  }

  sumF64(data: Float64Array): void {
    this.check(this.fn.allreduce(this.inPlace, data, data.length, this.h.double, this.h.sum, this.h.world), 'MPI_Allreduce');
  }

  /** Every rank's `data` (the same length on each), rank after rank. */
  gatherI32(data: Int32Array): Int32Array {
    const out = new Int32Array(data.length * this.size);
    this.check(this.fn.allgather(data, data.length, this.h.int, out, data.length, this.h.int, this.h.world), 'MPI_Allgather');
    return out;
  }

  /** Every rank's `data` (of any length), rank after rank, and each rank's length. */
  gatherVarF32(data: Float32Array): { data: Float32Array; counts: Int32Array } {
    return this.gatherVar(data, this.h.float, (n) => new Float32Array(n));
  }

  gatherVarI32(data: Int32Array): { data: Int32Array; counts: Int32Array } {
    return this.gatherVar(data, this.h.int, (n) => new Int32Array(n));
  }

  /** Every rank's bytes (of any length), one entry per rank. */
  gatherBytes(data: Uint8Array): Uint8Array[] {
    const { data: out, counts } = this.gatherVar(data, this.h.byte, (n) => new Uint8Array(n));
    const displs = offsets(counts);
    return Array.from(counts, (n, r) => out.subarray(displs[r], displs[r] + n));
  }

  private gatherVar<A extends Float32Array | Int32Array | Uint8Array>(
    data: A,
    type: Handle,
    make: (n: number) => A,
  ): { data: A; counts: Int32Array } {
    const counts = this.gatherI32(Int32Array.of(data.length));
    const displs = offsets(counts);
    const out = make(displs[this.size]);
    this.check(this.fn.allgatherv(data, data.length, type, out, counts, displs, type, this.h.world), 'MPI_Allgatherv');
    return { data: out, counts };
  }

  /** Ends every rank of the job (the launcher kills the others) with `code`. Does not return. */
  abort(code: number): never {
    this.fn.abort(this.h.world, code);
    process.exit(code);
  }

  /** Ends MPI in this process; again is nothing (MPI refuses a second MPI_Finalize). */
  finalize(): void {
    if (this.finalized) return;
    this.finalized = true;
    this.fn.finalize();
  }
}

/** Each rank's start in the gathered array, and the total at [size]. */
function offsets(counts: Int32Array): Int32Array {
  const displs = new Int32Array(counts.length + 1);
  for (let r = 0; r < counts.length; r++) displs[r + 1] = displs[r] + counts[r];
  return displs;
}
