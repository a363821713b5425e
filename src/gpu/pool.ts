// Storage buffers come from a pool keyed by byte size (rounded to a size class), so a training step that
// allocates the same temporaries every time reuses the same buffers and memory stays flat.
//
// Reuse is safe without waiting for the GPU: every use of a buffer is encoded in program
// order on one queue, so a later dispatch writing a recycled buffer runs after the earlier
// dispatches that read it. (Uploads therefore go through the encoder, never queue.writeBuffer.)

export const STORAGE_USAGE = 0x80 /* STORAGE */ | 0x4 /* COPY_SRC */ | 0x8; /* COPY_DST */

/** Sizes are padded to 16 bytes so kernels may read any buffer as vec4 without overrunning. */
export function paddedSize(bytes: number): number {
  return Math.max(16, Math.ceil(bytes / 16) * 16);
}

/** Above this, buffers keep their exact (padded) size: weights and their optimizer state. */
const CLASS_LIMIT = 64 << 20;
/** Size classes per power of two: at most 1/8 of a buffer is unused. */
const CLASSES_PER_OCTAVE = 8;

/**
 * The pool's size class for a request: 128-byte multiples up to 1 KiB, then 8 classes per
 * power of two up to 64 MiB. Some tensors' sizes follow the data (the unique ids of a
 * batch, the sampled candidates); with classes they land in the same buffers from one step
 * to the next, so the bind groups naming those buffers are made once, not every step.
 */
export function sizeClass(bytes: number): number {
  const size = paddedSize(bytes);
  if (size > CLASS_LIMIT) return size;
  if (size <= 1024) return Math.ceil(size / 128) * 128;
  const step = 2 ** (Math.floor(Math.log2(size - 1)) - Math.log2(CLASSES_PER_OCTAVE));
  return Math.ceil(size / step) * step;
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
  constructor(
    private device: GPUDevice,
    readonly maxBufferSize: number,
    readonly limitName = 'maxBufferSize',
  ) {}

  /** `what` names the buffer in the error when it is too large, e.g. "an f32 tensor of shape [2, 3]". */
  acquire(bytes: number, what: string | (() => string) = 'a buffer'): GPUBuffer {
    let size = sizeClass(bytes);
    if (size > this.maxBufferSize) size = paddedSize(bytes); // the class may not fit where the exact size does
    if (size > this.maxBufferSize) {
      throw new Error(
        `flstm: ${typeof what === 'function' ? what() : what} needs ${bytes} bytes, over this adapter's ${this.limitName} (${this.maxBufferSize} bytes)`,
      );
    }
    const list = this.free.get(size);
    const hit = list && takeOldest(list);
    this.inUseBytes += size;
    if (hit) {
      this.freeBytes -= size;
      return hit;
    }
    this.allocations++;
    const b = this.device.createBuffer({ size, usage: STORAGE_USAGE });
    bufferId(b); // ids in creation order (takeOldest)
    return b;
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
    for (const list of this.free.values())
      for (const b of list) {
        this.onDestroy(b);
        b.destroy();
      }
    this.free.clear();
    this.freeBytes = 0;
  }
}

/**
 * Takes the free buffer made first. Which buffer a tensor gets then depends only on which
 * buffers are free, not on the order they were freed in, so a step that allocates what the
 * step before did gets the same buffers (and the same bind groups), even after a step whose
 * data-dependent sizes fell into other size classes.
 */
function takeOldest(list: GPUBuffer[]): GPUBuffer | undefined {
  if (list.length === 0) return undefined;
  let best = 0;
  for (let i = 1; i < list.length; i++) if (bufferId(list[i]) < bufferId(list[best])) best = i;
  const b = list[best];
  list[best] = list[list.length - 1];
  list.pop();
  return b;
}
