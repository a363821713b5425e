// The command recorder: ops encode dispatches into one open compute pass of one command
// encoder; the recorder submits when data is read back or when the batch limit is reached.
// No op waits for the GPU; only readback does.
//
// Bind groups are keyed by layout and storage buffers only: uniform parameters live in the
// parameter ring at a dynamic offset (params.ts), so a repeated training step finds every
// bind group it needs already made.
import { bufferId } from './pool.js';
import type { PipelineCache } from './pipelines.js';
import { ParamRing, Uniform, UNIFORM_WINDOW } from './params.js';
import type { Profiler } from './profiler.js';
import { gpuWait } from './wait.js';

/**
 * A part of a storage buffer bound on its own: the byte range [offset, offset + size). WebGPU
 * refuses one buffer bound read-only and writable in a dispatch, but takes writable ranges of
 * it that do not overlap (the LSTM backward reads a step's gate gradients and writes the
 * previous step's in one dispatch). `offset` is a multiple of minStorageBufferOffsetAlignment.
 */
export class BufferRange {
  constructor(
    readonly buffer: GPUBuffer,
    readonly offset: number,
    readonly size: number,
  ) {}
}

/** What a dispatch binds: a whole storage buffer, a range of one, or uniform parameters. */
export type Binding = GPUBuffer | BufferRange | Uniform;

/** Submit after this many dispatches even without a readback, to bound the encoder's size. */
const MAX_DISPATCHES_PER_SUBMIT = 4096;
const MAX_BIND_GROUPS = 16384;

export class Recorder {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private bindGroups = new Map<string, GPUBindGroup>();
  readonly params: ParamRing;
  private offsets: number[] = [];
  private afterSubmit: GPUBuffer[] = [];
  private readbackPool = new Map<number, GPUBuffer[]>();
  dispatchesSinceSubmit = 0;
  /** When set, every dispatch gets a timestamped pass of its own (see profiler.ts). */
  profiler: Profiler | null = null;
  /** Counters for benches and tests. */
  stats = { dispatches: 0, submits: 0, bindGroupsCreated: 0, readbacks: 0 };

  constructor(
    private device: GPUDevice,
    private pipelines: PipelineCache,
  ) {
    this.params = new ParamRing(device);
  }

  private enc(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  private computePass(): GPUComputePassEncoder {
    return (this.pass ??= this.enc().beginComputePass());
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  /** The bind group for `entries` (storage buffers or ranges, and uniforms bound from the ring). */
  bindGroup(pipeline: GPUComputePipeline, entries: Binding[], label: string): GPUBindGroup {
    const layout = this.pipelines.layout(pipeline);
    if (entries.length !== layout.kinds.length) {
      throw new Error(`flstm: kernel ${label} declares ${layout.kinds.length} bindings but ${entries.length} were given`);
    }
    let key = String(layout.id);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (e instanceof Uniform !== (layout.kinds[i] === 'u')) {
        throw new Error(
          `flstm: kernel ${label} binding ${i} is ${layout.kinds[i] === 'u' ? 'a uniform' : 'a storage buffer'}, but ${e instanceof Uniform ? 'uniform parameters were' : 'a storage buffer was'} given`,
        );
      }
      key += e instanceof Uniform ? ',u' : e instanceof BufferRange ? `,${bufferId(e.buffer)}@${e.offset}+${e.size}` : ',' + bufferId(e);
    }
    let bg = this.bindGroups.get(key);
    if (!bg) {
      if (this.bindGroups.size >= MAX_BIND_GROUPS) this.bindGroups.clear();
      bg = this.device.createBindGroup({
        layout: layout.bindGroupLayout,
        entries: entries.map((e, binding) => ({
          binding,
          resource:
            e instanceof Uniform
              ? { buffer: this.params.buffer, offset: 0, size: UNIFORM_WINDOW }
              : e instanceof BufferRange
                ? { buffer: e.buffer, offset: e.offset, size: e.size }
                : { buffer: e },
        })),
      });
      this.bindGroups.set(key, bg);
      this.stats.bindGroupsCreated++;
    }
    return bg;
  }

  /** Forget bind groups that name a buffer about to be destroyed. */
  forgetBuffer(b: GPUBuffer): void {
    const id = ',' + bufferId(b);
    for (const k of this.bindGroups.keys()) {
      if ((k + ',').includes(id + ',') || k.includes(id + '@')) this.bindGroups.delete(k);
    }
  }

  dispatch(pipeline: GPUComputePipeline, entries: Binding[], workgroups: [number, number?, number?], label = ''): void {
    const bg = this.bindGroup(pipeline, entries, label);
    let uniforms = 0;
    for (const e of entries) if (e instanceof Uniform) uniforms++;
    if (!this.params.fits(uniforms)) this.submit();
    if (this.profiler) {
      this.endPass();
      if (this.profiler.full) this.submit();
      this.pass = this.enc().beginComputePass({ timestampWrites: this.profiler.next(label)! });
    }
    // After any submit above: the offsets belong to the command buffer this dispatch joins.
    this.offsets.length = 0;
    for (const e of entries) if (e instanceof Uniform) this.offsets.push(this.params.push(e));
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bg, this.offsets);
    pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
    this.stats.dispatches++;
    if (this.profiler) this.endPass();
    if (++this.dispatchesSinceSubmit >= MAX_DISPATCHES_PER_SUBMIT) this.submit();
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.endPass();
    this.enc().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Upload host data in stream order: a filled staging buffer copied by the encoder. */
  upload(dst: GPUBuffer, data: ArrayBufferView, dstOffset = 0): void {
    const bytes = Math.ceil(data.byteLength / 4) * 4;
    const staging = this.device.createBuffer({ size: Math.max(4, bytes), usage: 0x4 /* COPY_SRC */, mappedAtCreation: true });
    new Uint8Array(staging.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    staging.unmap();
    this.copy(staging, 0, dst, dstOffset, bytes);
    this.afterSubmit.push(staging);
  }

  /** Zero-fill (clearBuffer) in stream order. */
  clear(dst: GPUBuffer, offset = 0, bytes?: number): void {
    this.endPass();
    this.enc().clearBuffer(dst, offset, bytes);
  }

  submit(): void {
    this.endPass();
    const afterProfile = this.encoder && this.profiler ? this.profiler.resolve(this.encoder) : null;
    if (this.encoder) {
      this.params.flush(this.device.queue);
      this.device.queue.submit([this.encoder.finish()]);
      afterProfile?.();
      this.encoder = null;
      this.stats.submits++;
    }
    this.dispatchesSinceSubmit = 0;
    for (const b of this.afterSubmit) b.destroy();
    this.afterSubmit.length = 0;
  }

  /** Copies `bytes` from `src` to the host. The only place the engine waits for the GPU. */
  async read(src: GPUBuffer, bytes: number, srcOffset = 0): Promise<ArrayBuffer> {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    let staging = this.readbackPool.get(size)?.pop();
    staging ??= this.device.createBuffer({ size, usage: 0x1 /* MAP_READ */ | 0x8 /* COPY_DST */ });
    this.copy(src, srcOffset, staging, 0, size);
    this.submit();
    this.stats.readbacks++;
    await gpuWait(staging.mapAsync(0x1 /* GPUMapMode.READ */));
    const out = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    let list = this.readbackPool.get(size);
    if (!list) this.readbackPool.set(size, (list = []));
    if (list.length < 4) list.push(staging);
    else staging.destroy();
    return out;
  }

  /** Waits until everything submitted so far has run (benchmarks). */
  async finish(): Promise<void> {
    this.submit();
    await gpuWait(this.device.queue.onSubmittedWorkDone());
  }
}
