// The engine's GPU runtime: one device, its limits, the buffer pool, the pipeline cache,
// the command recorder (with the parameter ring). `fl.init()` makes it; ops use `rt()`.
import { findAdapter, type AdapterRequest } from './adapter.js';
import { BufferPool } from './pool.js';
import { packUniform, UniformFields, type UniformValues } from './uniforms.js';
import { PipelineCache, type KernelSource, type Overrides, type UniformSpec } from './pipelines.js';
import { Recorder, type Binding } from './recorder.js';
import { isBrowser } from './platform.js';
import { Profiler, type KernelTime } from './profiler.js';
import { requestedBindingCap } from './binding_cap.js';

/**
 * One dispatch: `params` are the fields of the kernel's uniform at binding 0 (required when it
 * declares one, typed by its struct), `buffers` the bindings from 1 on.
 */
export type RunOptions<U extends UniformSpec> = {
  overrides?: Overrides;
  buffers: (Binding | UniformFields)[];
  workgroups: [number, number?, number?];
} & ParamsOption<U>;

/** Untyped kernels (`KernelSource` with no uniform types) take any fields, checked at run time. */
type ParamsOption<U extends UniformSpec> = number extends keyof U
  ? { params?: UniformValues }
  : 0 extends keyof U
    ? { params: U[0] }
    : { params?: undefined };

export interface InitOptions extends AdapterRequest {
  /** Kernel variant family: 'auto' picks by adapter (software drivers: barrier-free register tiles). */
  variant?: 'auto' | 'software' | 'gpu';
  /**
   * Plan as if one storage binding held at most this many bytes (below the adapter's limit):
   * larger tables are stored as row shards. Default: the environment variable
   * FLSTM_MAX_BINDING_BYTES, else the adapter's limit.
   */
  maxBindingBytes?: number;
}

export interface AdapterInfoSummary {
  backend: 'node-dawn' | 'browser';
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  software: boolean;
  /** The Vulkan driver file chosen when no GPU driver answered (Node only). */
  icd?: string;
  variant: 'software' | 'gpu';
  /** Subgroup (SIMD) width range, where the adapter reports it. */
  subgroupMinSize?: number;
  subgroupMaxSize?: number;
  limits: Record<string, number>;
  /** The bytes one binding may hold as flstm plans: the adapter's limit, or a lower cap asked for. */
  maxBindingBytes: number;
  /** Set when maxBindingBytes is a cap below the adapter's limit. */
  bindingCapped: boolean;
  features: string[];
}

/** Limits we ask for at the adapter's own values, not WebGPU's small defaults. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxBindGroups',
  'minStorageBufferOffsetAlignment',
] as const;

const WANTED_FEATURES: GPUFeatureName[] = ['shader-f16', 'timestamp-query', 'subgroups' as GPUFeatureName];

export class Runtime {
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  readonly recorder: Recorder;
  readonly limits: Record<string, number> = {};
  lost: string | null = null;
  /** Profile labels carry the dispatch's grid, first parameters and overrides. */
  private profileDetail = false;
  /** A 16-byte buffer bound where a kernel's binding is unused by the chosen variant. */
  readonly dummy: GPUBuffer;
  private uncaptured: Error[] = [];
  /** When set, the name of every kernel dispatched is appended (tests check which variant ran). */
  dispatchLog: string[] | null = null;

  /** `gpu` and `adapter` are held so the Dawn instance is not garbage-collected under the device. */
  constructor(
    readonly device: GPUDevice,
    readonly info: AdapterInfoSummary,
    readonly gpu: GPU,
    readonly adapter: GPUAdapter,
    bindingCap?: number,
  ) {
    for (const k of WANTED_LIMITS) this.limits[k] = Number((device.limits as unknown as Record<string, number>)[k]);
    info.limits = this.limits;
    const bindingBound = this.limits.maxStorageBufferBindingSize <= this.limits.maxBufferSize;
    const adapterMax = bindingBound ? this.limits.maxStorageBufferBindingSize : this.limits.maxBufferSize;
    const capped = bindingCap !== undefined && bindingCap < adapterMax;
    info.maxBindingBytes = capped ? bindingCap : adapterMax;
    info.bindingCapped = capped;
    const limitName = capped
      ? 'binding cap (FLSTM_MAX_BINDING_BYTES or fl.init({ maxBindingBytes }))'
      : bindingBound
        ? 'maxStorageBufferBindingSize'
        : 'maxBufferSize';
    this.pool = new BufferPool(device, info.maxBindingBytes, limitName);
    this.pipelines = new PipelineCache(device);
    this.recorder = new Recorder(device, this.pipelines);
    this.dummy = device.createBuffer({ size: 16, usage: 0x80 | 0x8 });
    this.pool.onDestroy = (b) => this.recorder.forgetBuffer(b);
    device.onuncapturederror = (ev) => {
      this.uncaptured.push(new Error(`flstm: GPU error: ${ev.error.message}`));
    };
    void device.lost.then((l) => {
      if (l.reason !== 'destroyed') this.lost = `${l.reason}: ${l.message}`;
      else this.lost ??= 'the device was destroyed (fl.dispose() was called)';
    });
  }

  /** Throws if the device is lost; called by every op. */
  check(): void {
    if (this.lost) throw new Error(`flstm: the GPU device is lost (${this.lost}); call fl.init() again`);
  }

  /** Throws errors the GPU reported since the last sync point (compile or validation errors). */
  throwPending(): void {
    const errs = [...this.pipelines.pendingErrors, ...this.uncaptured];
    this.pipelines.pendingErrors.length = 0;
    this.uncaptured.length = 0;
    if (errs.length) throw errs[0];
  }

  /**
   * Encodes one dispatch: `params` (named fields of the kernel's struct at binding 0) become
   * the uniform at binding 0, then `buffers` from binding 1 (storage buffers or ranges of one,
   * or `uniform(kernel, binding, {...})` where the kernel declares another uniform).
   */
  run<U extends UniformSpec>(kernel: KernelSource<U>, opts: RunOptions<U>): void {
    this.check();
    const pipeline = this.pipelines.get(kernel, opts.overrides);
    const bufs = this.bindings(kernel, opts.params, opts.buffers);
    const maxWg = this.limits.maxComputeWorkgroupsPerDimension;
    for (const w of opts.workgroups) {
      if (w !== undefined && (w > maxWg || w < 0)) {
        throw new Error(`flstm: kernel ${kernel.name} needs ${w} workgroups in one dimension; the adapter allows ${maxWg}`);
      }
    }
    if (opts.workgroups.some((w) => w === 0)) return; // empty tensor: nothing to do
    this.dispatchLog?.push(kernel.name);
    const label = this.profileDetail
      ? `${kernel.name} wg=${opts.workgroups.join('x')} p=${Object.values(opts.params ?? {})
          .slice(0, 4)
          .join(',')} ${JSON.stringify(opts.overrides ?? {})}`
      : kernel.name;
    this.recorder.dispatch(pipeline, bufs, opts.workgroups, label);
  }

  /** The dispatch's bindings in order, each set of named uniform fields packed by its struct. */
  private bindings(kernel: KernelSource, params: UniformValues | undefined, buffers: (Binding | UniformFields)[]): Binding[] {
    const all = params ? [new UniformFields(params, 0), ...buffers] : buffers;
    const layouts = this.pipelines.uniforms(kernel);
    return all.map((b, binding) => {
      if (!(b instanceof UniformFields)) return b;
      if (b.binding !== binding) {
        throw new Error(`flstm: kernel ${kernel.name}: the uniform for binding ${b.binding} was given at binding ${binding}`);
      }
      const layout = layouts.get(binding);
      if (!layout)
        throw new Error(`flstm: kernel ${kernel.name} has no uniform at binding ${binding}, but uniform parameters were given there`);
      return packUniform(kernel.name, layout, b.values);
    });
  }

  /** Copies `bytes` of `buffer` from byte `srcOffset` (a multiple of 4) to the host. */
  async read(buffer: GPUBuffer, bytes: number, srcOffset = 0): Promise<ArrayBuffer> {
    this.check();
    const out = await this.recorder.read(buffer, bytes, srcOffset);
    // Let the error-scope promises of pipelines created since the last sync settle.
    await new Promise((r) => setTimeout(r, 0));
    this.throwPending();
    return out;
  }

  /** Starts timing every dispatch by kernel (needs the adapter feature timestamp-query). */
  startProfiling(opts: { detail?: boolean } = {}): void {
    this.profileDetail = !!opts.detail;
    if (!this.info.features.includes('timestamp-query')) {
      throw new Error('flstm: profiling needs the adapter feature timestamp-query, which this adapter lacks');
    }
    this.recorder.submit();
    this.recorder.profiler ??= new Profiler(this.device);
    this.recorder.profiler.reset();
  }

  /** Stops timing and returns GPU time by kernel since startProfiling(). */
  async stopProfiling(): Promise<KernelTime[]> {
    const p = this.recorder.profiler;
    if (!p) return [];
    await this.recorder.finish();
    const report = await p.report();
    this.recorder.profiler = null;
    p.destroy();
    return report;
  }

  destroy(): void {
    this.recorder.submit();
    this.device.destroy();
  }
}

let current: Runtime | null = null;
let pending: Promise<Runtime> | null = null;

export function rt(): Runtime {
  if (!current) throw new Error('flstm: not initialized; call `await fl.init()` first');
  current.check();
  return current;
}

/** The open runtime, or null; never throws (tensor disposal uses it). */
export function currentRuntime(): Runtime | null {
  return current;
}

/**
 * The adapter's device, as Dawn names it: a slug of the driver's name, in which a closing
 * parenthesis leaves a dash at the end ("llvmpipe (LLVM 15.0.6, 256 bits)" becomes
 * "llvmpipe-llvm-15-0-6-256-bits-"). Dashes at either end say nothing: they go.
 */
export function deviceName(device: string): string {
  return device.replace(/^-+|-+$/g, '');
}

function isSoftwareAdapter(info: GPUAdapterInfo, fallback: boolean): boolean {
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  return fallback || /llvmpipe|lavapipe|swiftshader|software|warp|microsoft basic/i.test(text);
}

export async function init(opts: InitOptions = {}): Promise<Runtime> {
  if (current && !current.lost) return current;
  if (pending) return pending;
  pending = (async () => {
    const bindingCap = requestedBindingCap(opts.maxBindingBytes);
    const { gpu, adapter, icd } = await findAdapter(opts);
    const ai = adapter.info;
    if (opts.adapter && !opts.adapter.endsWith('.json')) {
      const text = `${ai.vendor} ${ai.architecture} ${ai.device} ${ai.description}`;
      if (!text.toLowerCase().includes(opts.adapter.toLowerCase())) {
        throw new Error(`flstm: adapter "${opts.adapter}" was asked for, but the adapter found is "${text.trim()}"`);
      }
    }
    const requiredLimits: Record<string, number> = {};
    for (const k of WANTED_LIMITS) {
      const v = (adapter.limits as unknown as Record<string, number>)[k];
      if (typeof v === 'number') requiredLimits[k] = v;
    }
    const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));
    const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'flstm' });
    const software = isSoftwareAdapter(ai, (ai as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter === true);
    const variant = opts.variant && opts.variant !== 'auto' ? opts.variant : software ? 'software' : 'gpu';
    const info: AdapterInfoSummary = {
      backend: isBrowser ? 'browser' : 'node-dawn',
      vendor: ai.vendor,
      architecture: ai.architecture,
      device: deviceName(ai.device),
      description: ai.description,
      software,
      icd,
      variant,
      subgroupMinSize: (ai as unknown as { subgroupMinSize?: number }).subgroupMinSize,
      subgroupMaxSize: (ai as unknown as { subgroupMaxSize?: number }).subgroupMaxSize,
      limits: {},
      maxBindingBytes: 0,
      bindingCapped: false,
      features: [...device.features].sort(),
    };
    current = new Runtime(device, info, gpu, adapter, bindingCap);
    return current;
  })();
  try {
    return await pending;
  } finally {
    pending = null;
  }
}

/** Destroys the device (a Dawn instance otherwise keeps Node alive). */
export function dispose(): void {
  if (current) {
    current.destroy();
    current = null;
  }
}
