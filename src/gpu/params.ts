// Per-dispatch uniform parameters, packed into one ring buffer bound with dynamic offsets.
//
// Every dispatch's parameters (sizes, offsets, a dropout seed) are appended to a host-side
// staging array; the recorder writes the array into one uniform buffer with
// queue.writeBuffer just before it submits the command buffer that reads it. A queue write
// runs after every command buffer submitted before it and before every one submitted after
// it, so one buffer can be rewritten per submit without a hazard. Bind groups then name
// the ring, not a buffer per parameter value: a step whose seeds, time indices or sizes
// change still reuses the bind groups of the step before (see recorder.ts).

/** A dispatch's uniform block: words written as u32 unless marked f32 by `f32Mask` (bit i: word i). */
export class Uniform {
  constructor(
    readonly words: ArrayLike<number>,
    readonly f32Mask = 0,
  ) {
    if (words.length > UNIFORM_WINDOW / 4) {
      throw new Error(`flstm: a uniform block of ${words.length} words is over the ${UNIFORM_WINDOW / 4} words a dispatch may bind`);
    }
  }
}

/** Bytes bound per uniform binding: every kernel's parameter struct fits in it. */
export const UNIFORM_WINDOW = 256;
/** Ring capacity: the recorder submits early when an encoder's parameters would overflow it. */
const RING_BYTES = 1 << 20;

export class ParamRing {
  /** The uniform buffer every dispatch binds its parameters from. */
  readonly buffer: GPUBuffer;
  private staging = new ArrayBuffer(RING_BYTES);
  private u32 = new Uint32Array(this.staging);
  private f32 = new Float32Array(this.staging);
  private cursor = 0;
  /** Offsets are multiples of the adapter's minUniformBufferOffsetAlignment (at least 16). */
  private readonly align: number;

  constructor(private device: GPUDevice) {
    this.align = Math.max(16, Number(device.limits.minUniformBufferOffsetAlignment) || 256);
    // The window past the last slot keeps every binding (offset + window) inside the buffer.
    this.buffer = device.createBuffer({
      size: RING_BYTES + UNIFORM_WINDOW,
      usage: 0x40 /* UNIFORM */ | 0x8 /* COPY_DST */,
      label: 'flstm.params',
    });
  }

  /** Whether `n` more blocks fit before the next flush. */
  fits(n: number): boolean {
    return this.cursor + n * Math.max(this.align, UNIFORM_WINDOW) <= RING_BYTES;
  }

  /** Appends a block and returns its byte offset (the dispatch's dynamic offset). */
  push(p: Uniform): number {
    const at = this.cursor;
    const base = at / 4;
    for (let i = 0; i < p.words.length; i++) {
      if (p.f32Mask & (1 << i)) this.f32[base + i] = p.words[i];
      else this.u32[base + i] = p.words[i] >>> 0;
    }
    this.cursor = at + Math.ceil(Math.max(16, p.words.length * 4) / this.align) * this.align;
    return at;
  }

  /** Writes the blocks appended since the last flush; call just before queue.submit. */
  flush(queue: GPUQueue): void {
    if (this.cursor === 0) return;
    queue.writeBuffer(this.buffer, 0, this.staging, 0, this.cursor);
    this.cursor = 0;
  }
}
