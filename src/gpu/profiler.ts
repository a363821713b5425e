// GPU time per kernel, from timestamp queries (the adapter's `timestamp-query` feature).
// While profiling, each dispatch runs in a compute pass of its own whose start and end are
// timestamped; `report()` resolves the queries and sums the time by kernel name. Off by
// default: one pass per dispatch costs a little, and not every adapter has the feature.

const CAPACITY = 2048; // dispatches per query set (two timestamps each; 4096 queries is the WebGPU maximum)

export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
}

export class Profiler {
  private querySet: GPUQuerySet;
  private resolveBuf: GPUBuffer;
  private labels: string[] = [];
  private totals = new Map<string, { calls: number; ns: number }>();
  private pending: Promise<void>[] = [];

  constructor(private device: GPUDevice) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * CAPACITY });
    this.resolveBuf = device.createBuffer({ size: 16 * CAPACITY, usage: 0x200 /* QUERY_RESOLVE */ | 0x4 /* COPY_SRC */ });
  }

  /** Timestamp writes for the next dispatch's pass, or null when the set is full (flush first). */
  next(label: string): GPUComputePassTimestampWrites | null {
    if (this.labels.length >= CAPACITY) return null;
    const i = this.labels.length;
    this.labels.push(label);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  get full(): boolean {
    return this.labels.length >= CAPACITY;
  }

  /** Encodes the resolve of the recorded timestamps; their values are read after submit. */
  resolve(encoder: GPUCommandEncoder): (() => void) | null {
    const n = this.labels.length;
    if (n === 0) return null;
    const labels = this.labels;
    this.labels = [];
    encoder.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuf, 0);
    const read = this.device.createBuffer({ size: 16 * n, usage: 0x1 /* MAP_READ */ | 0x8 /* COPY_DST */ });
    encoder.copyBufferToBuffer(this.resolveBuf, 0, read, 0, 16 * n);
    return () => {
      this.pending.push(
        read.mapAsync(0x1).then(() => {
          const t = new BigUint64Array(read.getMappedRange());
          for (let i = 0; i < n; i++) {
            const ns = Number(t[2 * i + 1] - t[2 * i]);
            const e = this.totals.get(labels[i]) ?? { calls: 0, ns: 0 };
            e.calls++;
            e.ns += ns > 0 ? ns : 0;
            this.totals.set(labels[i], e);
          }
          read.unmap();
          read.destroy();
        }),
      );
    };
  }

  /** GPU time by kernel since the last reset, largest first (call after the work is done). */
  async report(): Promise<KernelTime[]> {
    await Promise.all(this.pending);
    this.pending = [];
    return [...this.totals.entries()].map(([kernel, e]) => ({ kernel, calls: e.calls, ms: e.ns / 1e6 })).sort((a, b) => b.ms - a.ms);
  }

  reset(): void {
    this.totals.clear();
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuf.destroy();
  }
}
