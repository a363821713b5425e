// Storage buffers come from a pool keyed by (rounded) byte size, so a training step that
// allocates the same temporaries every time reuses the same buffers and memory stays flat.
//
// Reuse is safe without waiting for the GPU: every use of a buffer is encoded in program
// order on one queue, so a later dispatch writing a recycled buffer runs after the earlier
// dispatches that read it. (Uploads therefore go through the encoder, never queue.writeBuffer.)

export const STORAGE_USAGE = 0x80 /* STORAGE */ | 0x4 /* COPY_SRC */ | 0x8 /* COPY_DST */;

/** Sizes are padded to 16 bytes so kernels may read any buffer as vec4 without overrunning. */
export function paddedSize(bytes: number): number {
  return Math.max(16, Math.ceil(bytes / 16) * 16);
}

let nextBufferId = 1;
const ids = new WeakMap<GPUBuffer, number>();
/** A stable small integer per buffer, for bind-group cache keys. */
export function bufferId(b: GPUBuffer): number {
  let id = ids.get(b);
  if (id === undefined) {
    id = nextBufferId++;
    ids.set(b, id);
  }
  return id;
}

export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  /** Bytes held by live tensors and bytes parked in the free lists. */
  inUseBytes = 0;
  freeBytes = 0;
  allocations = 0;
  onDestroy: (b: GPUBuffer) => void = () => {};

  /** `maxBufferSize` is the largest buffer a kernel can bind; `limitName` the adapter limit it comes from. */
  constructor(private device: GPUDevice, readonly maxBufferSize: number, readonly limitName = 'maxBufferSize') {}

  /** `what` names the buffer in the error when it is too large, e.g. "an f32 tensor of shape [2, 3]". */
  acquire(bytes: number, what: string | (() => string) = 'a buffer'): GPUBuffer {
    const size = paddedSize(bytes);
    if (size > this.maxBufferSize) {
      throw new Error(`flstm: ${typeof what === 'function' ? what() : what} needs ${bytes} bytes, over this adapter's ${this.limitName} (${this.maxBufferSize} bytes)`);
    }
    const list = this.free.get(size);
    const hit = list?.pop();
    this.inUseBytes += size;
    if (hit) {
      this.freeBytes -= size;
      return hit;
    }
    this.allocations++;
    return this.device.createBuffer({ size, usage: STORAGE_USAGE });
  }

  release(buffer: GPUBuffer): void {
    const size = buffer.size;
    this.inUseBytes -= size;
    this.freeBytes += size;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(buffer);
  }

  /** Destroy every parked buffer (after a phase that used sizes that will not come back). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) { this.onDestroy(b); b.destroy(); }
    this.free.clear();
    this.freeBytes = 0;
  }
}
