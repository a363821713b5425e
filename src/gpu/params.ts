// Uniform parameter buffers cached by value.
//
// Why not one buffer rewritten with queue.writeBuffer: writes land before any command
// buffer submitted after them, so two dispatches in one encoder that read one uniform
// written twice would both see the last write. A buffer per distinct value, created
// already filled (mappedAtCreation) and never rewritten, has no such hazard, and sizes
// repeat from step to step, so the cache stays small.

const MAX_ENTRIES = 8192;

export class ParamCache {
  private cache = new Map<string, GPUBuffer>();
  constructor(private device: GPUDevice) {}

  /** Words are written as u32 unless they are marked as f32 by the `f32Mask` (bit i: word i is f32). */
  get(words: ArrayLike<number>, f32Mask = 0): GPUBuffer {
    let key = f32Mask.toString(36);
    for (let i = 0; i < words.length; i++) key += ',' + words[i];
    let buf = this.cache.get(key);
    if (buf) return buf;
    if (this.cache.size >= MAX_ENTRIES) this.evictOldest();
    const n = Math.max(4, Math.ceil(words.length / 4) * 4); // uniform structs pad to 16 bytes
    buf = this.device.createBuffer({ size: n * 4, usage: 0x40 /* UNIFORM */, mappedAtCreation: true });
    const range = buf.getMappedRange();
    const u = new Uint32Array(range);
    const f = new Float32Array(range);
    for (let i = 0; i < words.length; i++) {
      if (f32Mask & (1 << i)) f[i] = words[i];
      else u[i] = words[i] >>> 0;
    }
    buf.unmap();
    this.cache.set(key, buf);
    return buf;
  }

  private evictOldest(): void {
    // Map iteration order is insertion order; drop the oldest quarter. Buffers are not
    // destroyed here: a pending command may still bind them; the GC frees them later.
    let n = MAX_ENTRIES / 4;
    for (const k of this.cache.keys()) {
      if (n-- <= 0) break;
      this.cache.delete(k);
    }
  }
}
