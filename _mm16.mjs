var __getOwnPropNames = Object.getOwnPropertyNames;
var __esm = (fn, res, err) => function __init() {
  if (err) throw err[0];
  try {
    return fn && (res = (0, fn[__getOwnPropNames(fn)[0]])(fn = 0)), res;
  } catch (e) {
    throw err = [e], e;
  }
};

// src/train/safetensors.ts
var LITTLE_ENDIAN;
var init_safetensors = __esm({
  "src/train/safetensors.ts"() {
    "use strict";
    LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
  }
});

// src/train/bundle.ts
var init_bundle = __esm({
  "src/train/bundle.ts"() {
    "use strict";
    init_safetensors();
  }
});

// src/train/checkpoint.ts
var init_checkpoint = __esm({
  "src/train/checkpoint.ts"() {
    "use strict";
    init_safetensors();
    init_bundle();
  }
});

// src/gpu/platform.ts
var isBrowser = typeof window !== "undefined" && typeof navigator !== "undefined";
var SOFTWARE_VULKAN_ICDS = [
  // Mesa lavapipe (Debian: mesa-vulkan-drivers; >= 23 needed, bookworm-backports has 25).
  "/usr/share/vulkan/icd.d/lvp_icd.json",
  "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json",
  "/usr/share/vulkan/icd.d/lvp_icd.aarch64.json",
  // SwiftShader as Debian's chromium package ships it (about 4x slower than lavapipe).
  "/usr/lib/chromium/vk_swiftshader_icd.json"
];
var nodeModule = null;
async function loadNodeWebGPU() {
  if (!nodeModule) {
    const name = "webgpu";
    const mod = await import(
      /* @vite-ignore */
      name
    );
    nodeModule = typeof mod.create === "function" ? mod : mod.default;
    for (const [k, v] of Object.entries(nodeModule.globals)) {
      if (!(k in globalThis)) globalThis[k] = v;
    }
  }
  return nodeModule;
}
async function gpuEntry() {
  if (isBrowser) return navigator.gpu ?? null;
  const m = await loadNodeWebGPU();
  return m.create([]);
}
function env(name) {
  return typeof process !== "undefined" ? process.env?.[name] : void 0;
}
function setEnv(name, value) {
  if (typeof process !== "undefined" && process.env) process.env[name] = value;
}
async function fileExists(path) {
  if (isBrowser) return false;
  const fs = await import(
    /* @vite-ignore */
    "node:fs"
  );
  return fs.existsSync(path);
}

// src/gpu/adapter.ts
var NO_ADAPTER_HELP = [
  "flstm: no WebGPU adapter found.",
  "Install a GPU driver with Vulkan support, or on a machine without a GPU a software Vulkan driver:",
  "  Debian 12: Mesa >= 23 lavapipe from bookworm-backports",
  "    echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/backports.list",
  "    apt-get update && apt-get install -t bookworm-backports mesa-vulkan-drivers",
  "  (Mesa 22 lavapipe lacks a Vulkan feature Dawn needs.) `bash tools/setup.sh` does this.",
  "  Other distributions: mesa-vulkan-drivers (lavapipe), or Chromium's SwiftShader, via VK_ICD_FILENAMES=/path/to/icd.json."
].join("\n");
async function tryAdapter(req) {
  const gpu = await gpuEntry();
  if (!gpu) return null;
  const adapter = await gpu.requestAdapter({ powerPreference: req.powerPreference ?? "high-performance" });
  return adapter ? { gpu, adapter } : null;
}
async function findAdapter(req = {}) {
  if (isBrowser) {
    if (!navigator.gpu) {
      throw new Error("flstm: this browser has no WebGPU (navigator.gpu is undefined). Use a recent Chrome or Edge; on Linux start it with --enable-unsafe-webgpu.");
    }
    const found = await tryAdapter(req);
    if (!found) throw new Error("flstm: navigator.gpu.requestAdapter() returned no adapter. Check chrome://gpu; on Linux try --enable-unsafe-webgpu --enable-features=Vulkan.");
    return found;
  }
  if (req.adapter && req.adapter.endsWith(".json")) {
    if (!await fileExists(req.adapter)) throw new Error(`flstm: adapter ICD file ${req.adapter} does not exist`);
    setEnv("VK_ICD_FILENAMES", req.adapter);
    const found = await tryAdapter(req);
    if (!found) throw new Error(`flstm: the Vulkan driver ${req.adapter} gave no WebGPU adapter.
${NO_ADAPTER_HELP}`);
    return { ...found, icd: req.adapter };
  }
  const first = await tryAdapter(req);
  if (first) return first;
  const chosen = env("VK_ICD_FILENAMES") ?? env("VK_DRIVER_FILES");
  if (chosen) throw new Error(`flstm: no WebGPU adapter from the Vulkan driver(s) in VK_ICD_FILENAMES/VK_DRIVER_FILES=${chosen}.
${NO_ADAPTER_HELP}`);
  for (const icd of SOFTWARE_VULKAN_ICDS) {
    if (!await fileExists(icd)) continue;
    setEnv("VK_ICD_FILENAMES", icd);
    const found = await tryAdapter(req);
    if (found) return { ...found, icd };
  }
  throw new Error(NO_ADAPTER_HELP);
}

// src/gpu/pool.ts
var STORAGE_USAGE = 128 | 4 | 8;
function paddedSize(bytes) {
  return Math.max(16, Math.ceil(bytes / 16) * 16);
}
var CLASS_LIMIT = 64 << 20;
var CLASSES_PER_OCTAVE = 8;
function sizeClass(bytes) {
  const size = paddedSize(bytes);
  if (size > CLASS_LIMIT) return size;
  if (size <= 1024) return Math.ceil(size / 128) * 128;
  const step = 2 ** (Math.floor(Math.log2(size - 1)) - Math.log2(CLASSES_PER_OCTAVE));
  return Math.ceil(size / step) * step;
}
var nextBufferId = 1;
var ids = /* @__PURE__ */ new WeakMap();
function bufferId(b) {
  let id = ids.get(b);
  if (id === void 0) {
    id = nextBufferId++;
    ids.set(b, id);
  }
  return id;
}
var BufferPool = class {
  /** `maxBufferSize` is the largest buffer a kernel can bind; `limitName` the adapter limit it comes from. */
  constructor(device, maxBufferSize, limitName = "maxBufferSize") {
    this.device = device;
    this.maxBufferSize = maxBufferSize;
    this.limitName = limitName;
  }
  device;
  maxBufferSize;
  limitName;
  free = /* @__PURE__ */ new Map();
  /** Bytes held by live tensors and bytes parked in the free lists. */
  inUseBytes = 0;
  freeBytes = 0;
  allocations = 0;
  onDestroy = () => {
  };
  /** `what` names the buffer in the error when it is too large, e.g. "an f32 tensor of shape [2, 3]". */
  acquire(bytes, what = "a buffer") {
    let size = sizeClass(bytes);
    if (size > this.maxBufferSize) size = paddedSize(bytes);
    if (size > this.maxBufferSize) {
      throw new Error(`flstm: ${typeof what === "function" ? what() : what} needs ${bytes} bytes, over this adapter's ${this.limitName} (${this.maxBufferSize} bytes)`);
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
    bufferId(b);
    return b;
  }
  release(buffer) {
    const size = buffer.size;
    this.inUseBytes -= size;
    this.freeBytes += size;
    let list = this.free.get(size);
    if (!list) this.free.set(size, list = []);
    list.push(buffer);
  }
  /** Destroy every parked buffer (after a phase that used sizes that will not come back). */
  trim() {
    for (const list of this.free.values()) for (const b of list) {
      this.onDestroy(b);
      b.destroy();
    }
    this.free.clear();
    this.freeBytes = 0;
  }
};
function takeOldest(list) {
  if (list.length === 0) return void 0;
  let best = 0;
  for (let i = 1; i < list.length; i++) if (bufferId(list[i]) < bufferId(list[best])) best = i;
  const b = list[best];
  list[best] = list[list.length - 1];
  list.pop();
  return b;
}

// src/gpu/params.ts
var Uniform = class {
  constructor(words, f32Mask = 0) {
    this.words = words;
    this.f32Mask = f32Mask;
    if (words.length > UNIFORM_WINDOW / 4) {
      throw new Error(`flstm: a uniform block of ${words.length} words is over the ${UNIFORM_WINDOW / 4} words a dispatch may bind`);
    }
  }
  words;
  f32Mask;
};
var UNIFORM_WINDOW = 256;
var RING_BYTES = 1 << 20;
var ParamRing = class {
  constructor(device) {
    this.device = device;
    this.align = Math.max(16, Number(device.limits.minUniformBufferOffsetAlignment) || 256);
    this.buffer = device.createBuffer({ size: RING_BYTES + UNIFORM_WINDOW, usage: 64 | 8, label: "flstm.params" });
  }
  device;
  /** The uniform buffer every dispatch binds its parameters from. */
  buffer;
  staging = new ArrayBuffer(RING_BYTES);
  u32 = new Uint32Array(this.staging);
  f32 = new Float32Array(this.staging);
  cursor = 0;
  /** Offsets are multiples of the adapter's minUniformBufferOffsetAlignment (at least 16). */
  align;
  /** Whether `n` more blocks fit before the next flush. */
  fits(n) {
    return this.cursor + n * Math.max(this.align, UNIFORM_WINDOW) <= RING_BYTES;
  }
  /** Appends a block and returns its byte offset (the dispatch's dynamic offset). */
  push(p) {
    const at = this.cursor;
    const base = at / 4;
    for (let i = 0; i < p.words.length; i++) {
      if (p.f32Mask & 1 << i) this.f32[base + i] = p.words[i];
      else this.u32[base + i] = p.words[i] >>> 0;
    }
    this.cursor = at + Math.ceil(Math.max(16, p.words.length * 4) / this.align) * this.align;
    return at;
  }
  /** Writes the blocks appended since the last flush; call just before queue.submit. */
  flush(queue) {
    if (this.cursor === 0) return;
    queue.writeBuffer(this.buffer, 0, this.staging, 0, this.cursor);
    this.cursor = 0;
  }
};

// src/gpu/layouts.ts
var DECL = /@group\(\s*0\s*\)\s*@binding\(\s*(\d+)\s*\)\s*var\s*<\s*(uniform|storage)\s*(?:,\s*(read_write|read)\s*)?>/g;
function bindingKinds(kernelName, code) {
  const text = code.replace(/\/\/[^\n]*/g, "").replace(/\/\*[\s\S]*?\*\//g, "");
  const kinds = [];
  for (const m of text.matchAll(DECL)) {
    const i = Number(m[1]);
    const kind = m[2] === "uniform" ? "u" : m[3] === "read_write" ? "w" : "r";
    if (kinds[i] !== void 0) throw new Error(`flstm: kernel ${kernelName} declares @binding(${i}) twice`);
    kinds[i] = kind;
  }
  for (let i = 0; i < kinds.length; i++) {
    if (kinds[i] === void 0) throw new Error(`flstm: kernel ${kernelName} skips @binding(${i}); bindings must be numbered 0, 1, 2, ...`);
  }
  return kinds;
}
var LayoutCache = class {
  constructor(device) {
    this.device = device;
  }
  device;
  layouts = /* @__PURE__ */ new Map();
  get(kinds) {
    const sig = kinds.join(",");
    let l = this.layouts.get(sig);
    if (l) return l;
    const bindGroupLayout = this.device.createBindGroupLayout({
      label: `flstm.layout(${sig})`,
      entries: kinds.map((k, binding) => ({
        binding,
        visibility: 4,
        buffer: k === "u" ? { type: "uniform", hasDynamicOffset: true } : { type: k === "w" ? "storage" : "read-only-storage" }
      }))
    });
    const pipelineLayout = this.device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] });
    l = { id: this.layouts.size + 1, kinds, bindGroupLayout, pipelineLayout };
    this.layouts.set(sig, l);
    return l;
  }
};

// src/gpu/pipelines.ts
function formatCompileMessages(kernel, messages) {
  const lines = kernel.code.split("\n");
  const out2 = [];
  for (const m of messages) {
    if (m.type !== "error") continue;
    out2.push(`${kernel.name}.wgsl:${m.lineNum}:${m.linePos}: ${m.type}: ${m.message}`);
    for (let l = Math.max(1, m.lineNum - 2); l <= Math.min(lines.length, m.lineNum + 1); l++) {
      out2.push(`${l === m.lineNum ? ">" : " "} ${String(l).padStart(4)} | ${lines[l - 1]}`);
      if (l === m.lineNum && m.linePos > 0) out2.push(`       | ${" ".repeat(m.linePos - 1)}^`);
    }
  }
  return out2.join("\n");
}
var KernelCompileError = class extends Error {
  constructor(kernel, details) {
    super(`flstm: WGSL kernel "${kernel}" failed to compile:
${details}`);
    this.kernel = kernel;
    this.details = details;
    this.name = "KernelCompileError";
  }
  kernel;
  details;
};
var PipelineCache = class {
  constructor(device) {
    this.device = device;
    this.layouts = new LayoutCache(device);
  }
  device;
  modules = /* @__PURE__ */ new Map();
  pipelines = /* @__PURE__ */ new Map();
  layoutOfPipeline = /* @__PURE__ */ new WeakMap();
  kernelKinds = /* @__PURE__ */ new Map();
  layouts;
  /** Errors found asynchronously (compilation info, validation) are reported at the next sync point. */
  pendingErrors = [];
  module(kernel) {
    let m = this.modules.get(kernel.name);
    if (m) return m;
    m = this.device.createShaderModule({ code: kernel.code, label: kernel.name });
    this.modules.set(kernel.name, m);
    void m.getCompilationInfo().then((info2) => {
      if (info2.messages.some((x) => x.type === "error")) {
        this.pendingErrors.push(new KernelCompileError(kernel.name, formatCompileMessages(kernel, info2.messages)));
      }
    });
    return m;
  }
  /** Compiles a kernel and waits for the compiler's verdict (used at init and in tests). */
  async check(kernel) {
    this.device.pushErrorScope("validation");
    const m = this.device.createShaderModule({ code: kernel.code, label: kernel.name });
    const scoped = this.device.popErrorScope();
    const info2 = await m.getCompilationInfo();
    const err = await scoped;
    if (info2.messages.some((x) => x.type === "error")) {
      throw new KernelCompileError(kernel.name, formatCompileMessages(kernel, info2.messages));
    }
    if (err) throw new KernelCompileError(kernel.name, err.message);
  }
  get(kernel, overrides = {}) {
    const key = kernel.name + JSON.stringify(overrides);
    let p = this.pipelines.get(key);
    if (p) return p;
    const constants = {};
    for (const [k, v] of Object.entries(overrides)) constants[k] = typeof v === "boolean" ? Number(v) : v;
    let kinds = this.kernelKinds.get(kernel.name);
    if (!kinds) this.kernelKinds.set(kernel.name, kinds = bindingKinds(kernel.name, kernel.code));
    const layout = this.layouts.get(kinds);
    this.device.pushErrorScope("validation");
    p = this.device.createComputePipeline({
      label: key,
      layout: layout.pipelineLayout,
      compute: { module: this.module(kernel), entryPoint: kernel.entryPoint ?? "main", constants }
    });
    void this.device.popErrorScope().then((err) => {
      if (err) this.pendingErrors.push(new KernelCompileError(kernel.name, `pipeline ${key}: ${err.message}`));
    });
    this.pipelines.set(key, p);
    this.layoutOfPipeline.set(p, layout);
    return p;
  }
  /** The explicit layout a pipeline was made with (its bindings' kinds). */
  layout(p) {
    return this.layoutOfPipeline.get(p);
  }
  get size() {
    return this.pipelines.size;
  }
};

// src/gpu/recorder.ts
var MAX_DISPATCHES_PER_SUBMIT = 4096;
var MAX_BIND_GROUPS = 16384;
var Recorder = class {
  constructor(device, pipelines) {
    this.device = device;
    this.pipelines = pipelines;
    this.params = new ParamRing(device);
  }
  device;
  pipelines;
  encoder = null;
  pass = null;
  bindGroups = /* @__PURE__ */ new Map();
  params;
  offsets = [];
  afterSubmit = [];
  readbackPool = /* @__PURE__ */ new Map();
  dispatchesSinceSubmit = 0;
  /** When set, every dispatch gets a timestamped pass of its own (see profiler.ts). */
  profiler = null;
  /** Counters for benches and tests. */
  stats = { dispatches: 0, submits: 0, bindGroupsCreated: 0, readbacks: 0 };
  enc() {
    return this.encoder ??= this.device.createCommandEncoder();
  }
  computePass() {
    return this.pass ??= this.enc().beginComputePass();
  }
  endPass() {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }
  /** The bind group for `entries` (storage buffers, and uniforms bound from the ring). */
  bindGroup(pipeline, entries, label) {
    const layout = this.pipelines.layout(pipeline);
    if (entries.length !== layout.kinds.length) {
      throw new Error(`flstm: kernel ${label} declares ${layout.kinds.length} bindings but ${entries.length} were given`);
    }
    let key = String(layout.id);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (e instanceof Uniform !== (layout.kinds[i] === "u")) {
        throw new Error(`flstm: kernel ${label} binding ${i} is ${layout.kinds[i] === "u" ? "a uniform" : "a storage buffer"}, but ${e instanceof Uniform ? "uniform parameters" : "a storage buffer"} were given`);
      }
      key += e instanceof Uniform ? ",u" : "," + bufferId(e);
    }
    let bg = this.bindGroups.get(key);
    if (!bg) {
      if (this.bindGroups.size >= MAX_BIND_GROUPS) this.bindGroups.clear();
      bg = this.device.createBindGroup({
        layout: layout.bindGroupLayout,
        entries: entries.map((e, binding) => ({
          binding,
          resource: e instanceof Uniform ? { buffer: this.params.buffer, offset: 0, size: UNIFORM_WINDOW } : { buffer: e }
        }))
      });
      this.bindGroups.set(key, bg);
      this.stats.bindGroupsCreated++;
    }
    return bg;
  }
  /** Forget bind groups that name a buffer about to be destroyed. */
  forgetBuffer(b) {
    const id = "," + bufferId(b);
    for (const k of this.bindGroups.keys()) {
      if ((k + ",").includes(id + ",")) this.bindGroups.delete(k);
    }
  }
  dispatch(pipeline, entries, workgroups, label = "") {
    const bg = this.bindGroup(pipeline, entries, label);
    let uniforms = 0;
    for (const e of entries) if (e instanceof Uniform) uniforms++;
    if (!this.params.fits(uniforms)) this.submit();
    if (this.profiler) {
      this.endPass();
      if (this.profiler.full) this.submit();
      this.pass = this.enc().beginComputePass({ timestampWrites: this.profiler.next(label) });
    }
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
  copy(src, srcOffset, dst, dstOffset, bytes) {
    this.endPass();
    this.enc().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }
  /** Upload host data in stream order: a filled staging buffer copied by the encoder. */
  upload(dst, data, dstOffset = 0) {
    const bytes = Math.ceil(data.byteLength / 4) * 4;
    const staging = this.device.createBuffer({ size: Math.max(4, bytes), usage: 4, mappedAtCreation: true });
    new Uint8Array(staging.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    staging.unmap();
    this.copy(staging, 0, dst, dstOffset, bytes);
    this.afterSubmit.push(staging);
  }
  /** Zero-fill (clearBuffer) in stream order. */
  clear(dst, offset = 0, bytes) {
    this.endPass();
    this.enc().clearBuffer(dst, offset, bytes);
  }
  submit() {
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
  async read(src, bytes, srcOffset = 0) {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    let staging = this.readbackPool.get(size)?.pop();
    staging ??= this.device.createBuffer({
      size,
      usage: 1 | 8
      /* COPY_DST */
    });
    this.copy(src, srcOffset, staging, 0, size);
    this.submit();
    this.stats.readbacks++;
    await staging.mapAsync(
      1
      /* GPUMapMode.READ */
    );
    const out2 = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    let list = this.readbackPool.get(size);
    if (!list) this.readbackPool.set(size, list = []);
    if (list.length < 4) list.push(staging);
    else staging.destroy();
    return out2;
  }
  /** Waits until everything submitted so far has run (benchmarks). */
  async finish() {
    this.submit();
    await this.device.queue.onSubmittedWorkDone();
  }
};

// src/gpu/profiler.ts
var CAPACITY = 2048;
var Profiler = class {
  constructor(device) {
    this.device = device;
    this.querySet = device.createQuerySet({ type: "timestamp", count: 2 * CAPACITY });
    this.resolveBuf = device.createBuffer({
      size: 16 * CAPACITY,
      usage: 512 | 4
      /* COPY_SRC */
    });
  }
  device;
  querySet;
  resolveBuf;
  labels = [];
  totals = /* @__PURE__ */ new Map();
  pending = [];
  /** Timestamp writes for the next dispatch's pass, or null when the set is full (flush first). */
  next(label) {
    if (this.labels.length >= CAPACITY) return null;
    const i = this.labels.length;
    this.labels.push(label);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }
  get full() {
    return this.labels.length >= CAPACITY;
  }
  /** Encodes the resolve of the recorded timestamps; their values are read after submit. */
  resolve(encoder) {
    const n = this.labels.length;
    if (n === 0) return null;
    const labels = this.labels;
    this.labels = [];
    encoder.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuf, 0);
    const read = this.device.createBuffer({
      size: 16 * n,
      usage: 1 | 8
      /* COPY_DST */
    });
    encoder.copyBufferToBuffer(this.resolveBuf, 0, read, 0, 16 * n);
    return () => {
      this.pending.push(
        read.mapAsync(1).then(() => {
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
        })
      );
    };
  }
  /** GPU time by kernel since the last reset, largest first (call after the work is done). */
  async report() {
    await Promise.all(this.pending);
    this.pending = [];
    return [...this.totals.entries()].map(([kernel, e]) => ({ kernel, calls: e.calls, ms: e.ns / 1e6 })).sort((a, b) => b.ms - a.ms);
  }
  reset() {
    this.totals.clear();
  }
  destroy() {
    this.querySet.destroy();
    this.resolveBuf.destroy();
  }
};

// src/gpu/runtime.ts
var WANTED_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
  "maxBindGroups"
];
var WANTED_FEATURES = ["shader-f16", "timestamp-query", "subgroups"];
var Runtime = class {
  /** `gpu` and `adapter` are held so the Dawn instance is not garbage-collected under the device. */
  constructor(device, info2, gpu, adapter) {
    this.device = device;
    this.info = info2;
    this.gpu = gpu;
    this.adapter = adapter;
    for (const k of WANTED_LIMITS) this.limits[k] = Number(device.limits[k]);
    info2.limits = this.limits;
    const bindingBound = this.limits.maxStorageBufferBindingSize <= this.limits.maxBufferSize;
    this.pool = new BufferPool(
      device,
      bindingBound ? this.limits.maxStorageBufferBindingSize : this.limits.maxBufferSize,
      bindingBound ? "maxStorageBufferBindingSize" : "maxBufferSize"
    );
    this.pipelines = new PipelineCache(device);
    this.recorder = new Recorder(device, this.pipelines);
    this.dummy = device.createBuffer({ size: 16, usage: 128 | 8 });
    this.pool.onDestroy = (b) => this.recorder.forgetBuffer(b);
    device.onuncapturederror = (ev) => {
      this.uncaptured.push(new Error(`flstm: GPU error: ${ev.error.message}`));
    };
    void device.lost.then((l) => {
      if (l.reason !== "destroyed") this.lost = `${l.reason}: ${l.message}`;
      else this.lost ??= "the device was destroyed (fl.dispose() was called)";
    });
  }
  device;
  info;
  gpu;
  adapter;
  pool;
  pipelines;
  recorder;
  limits = {};
  lost = null;
  /** Profile labels carry the dispatch's grid, first parameters and overrides. */
  profileDetail = false;
  /** A 16-byte buffer bound where a kernel's binding is unused by the chosen variant. */
  dummy;
  uncaptured = [];
  /** Throws if the device is lost; called by every op. */
  check() {
    if (this.lost) throw new Error(`flstm: the GPU device is lost (${this.lost}); call fl.init() again`);
  }
  /** Throws errors the GPU reported since the last sync point (compile or validation errors). */
  throwPending() {
    const errs = [...this.pipelines.pendingErrors, ...this.uncaptured];
    this.pipelines.pendingErrors.length = 0;
    this.uncaptured.length = 0;
    if (errs.length) throw errs[0];
  }
  /**
   * Encodes one dispatch: `params` become the uniform at binding 0, then `buffers` from
   * binding 1 (storage buffers, or a Uniform where the kernel declares another uniform).
   */
  run(kernel, opts) {
    this.check();
    const pipeline = this.pipelines.get(kernel, opts.overrides);
    const bufs = opts.params ? [new Uniform(opts.params, opts.f32Mask), ...opts.buffers] : opts.buffers;
    const maxWg = this.limits.maxComputeWorkgroupsPerDimension;
    for (const w of opts.workgroups) {
      if (w !== void 0 && (w > maxWg || w < 0)) {
        throw new Error(`flstm: kernel ${kernel.name} needs ${w} workgroups in one dimension; the adapter allows ${maxWg}`);
      }
    }
    if (opts.workgroups.some((w) => w === 0)) return;
    const label = this.profileDetail ? `${kernel.name} wg=${opts.workgroups.join("x")} p=${Array.from(opts.params ?? []).slice(0, 4).join(",")} ${JSON.stringify(opts.overrides ?? {})}` : kernel.name;
    this.recorder.dispatch(pipeline, bufs, opts.workgroups, label);
  }
  async read(buffer, bytes) {
    this.check();
    const out2 = await this.recorder.read(buffer, bytes);
    await new Promise((r) => setTimeout(r, 0));
    this.throwPending();
    return out2;
  }
  /** Starts timing every dispatch by kernel (needs the adapter feature timestamp-query). */
  startProfiling(opts = {}) {
    this.profileDetail = !!opts.detail;
    if (!this.info.features.includes("timestamp-query")) {
      throw new Error("flstm: profiling needs the adapter feature timestamp-query, which this adapter lacks");
    }
    this.recorder.submit();
    this.recorder.profiler ??= new Profiler(this.device);
    this.recorder.profiler.reset();
  }
  /** Stops timing and returns GPU time by kernel since startProfiling(). */
  async stopProfiling() {
    const p = this.recorder.profiler;
    if (!p) return [];
    await this.recorder.finish();
    const report = await p.report();
    this.recorder.profiler = null;
    p.destroy();
    return report;
  }
  destroy() {
    this.recorder.submit();
    this.device.destroy();
  }
};
var current = null;
var pending = null;
function rt() {
  if (!current) throw new Error("flstm: not initialized; call `await fl.init()` first");
  current.check();
  return current;
}
function currentRuntime() {
  return current;
}
function isSoftwareAdapter(info2, fallback) {
  const text = `${info2.vendor} ${info2.architecture} ${info2.device} ${info2.description}`;
  return fallback || /llvmpipe|lavapipe|swiftshader|software|warp|microsoft basic/i.test(text);
}
async function init(opts = {}) {
  if (current && !current.lost) return current;
  if (pending) return pending;
  pending = (async () => {
    const { gpu, adapter, icd } = await findAdapter(opts);
    const ai = adapter.info;
    if (opts.adapter && !opts.adapter.endsWith(".json")) {
      const text = `${ai.vendor} ${ai.architecture} ${ai.device} ${ai.description}`;
      if (!text.toLowerCase().includes(opts.adapter.toLowerCase())) {
        throw new Error(`flstm: adapter "${opts.adapter}" was asked for, but the adapter found is "${text.trim()}"`);
      }
    }
    const requiredLimits = {};
    for (const k of WANTED_LIMITS) {
      const v = adapter.limits[k];
      if (typeof v === "number") requiredLimits[k] = v;
    }
    const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));
    const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: "flstm" });
    const software = isSoftwareAdapter(ai, ai.isFallbackAdapter === true);
    const variant = opts.variant && opts.variant !== "auto" ? opts.variant : software ? "software" : "gpu";
    const info2 = {
      backend: isBrowser ? "browser" : "node-dawn",
      vendor: ai.vendor,
      architecture: ai.architecture,
      device: ai.device,
      description: ai.description,
      software,
      icd,
      variant,
      subgroupMinSize: ai.subgroupMinSize,
      subgroupMaxSize: ai.subgroupMaxSize,
      limits: {},
      features: [...device.features].sort()
    };
    current = new Runtime(device, info2, gpu, adapter);
    return current;
  })();
  try {
    return await pending;
  } finally {
    pending = null;
  }
}
function dispose() {
  if (current) {
    current.destroy();
    current = null;
  }
}

// src/half.ts
var f32 = new Float32Array(1);
var u32 = new Uint32Array(f32.buffer);
function toHalfBits(x) {
  f32[0] = x;
  const b = u32[0];
  const sign = b >>> 16 & 32768;
  const exp2 = b >>> 23 & 255;
  let mant = b & 8388607;
  if (exp2 === 255) return sign | 31744 | (mant ? 512 : 0);
  let e = exp2 - 127 + 15;
  if (e >= 31) return sign | 31744;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 8388608;
    const shift = 14 - e;
    const half2 = mant >>> shift;
    const rest2 = mant & (1 << shift) - 1;
    const mid = 1 << shift - 1;
    return sign | half2 + (rest2 > mid || rest2 === mid && half2 & 1 ? 1 : 0);
  }
  const half = e << 10 | mant >>> 13;
  const rest = mant & 8191;
  return sign | half + (rest > 4096 || rest === 4096 && half & 1 ? 1 : 0);
}
function fromHalfBits(h) {
  const sign = h & 32768 ? -1 : 1;
  const e = h >>> 10 & 31;
  const m = h & 1023;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

// src/tensor.ts
function dtypeBytes(dtype) {
  return dtype === "f16" ? 2 : 4;
}
function shapeSize(shape) {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
function fmtShape(shape) {
  return `[${shape.join(", ")}]`;
}
function checkShape(shape, what = "shape") {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`flstm: ${what} must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
}
var scopes = [];
var nextId = 1;
var Storage = class {
  /** `pool` is the pool (and so the device) the buffer belongs to. */
  constructor(buffer, pool = currentRuntime()?.pool ?? null) {
    this.buffer = buffer;
    this.pool = pool;
  }
  buffer;
  pool;
  refs = 1;
};
var Tensor = class _Tensor {
  id = nextId++;
  shape;
  dtype;
  size;
  /** Shared with reshaped views; the buffer returns to the pool when the last view is disposed. */
  storage;
  requiresGrad;
  grad = null;
  /** The op that produced this tensor, while the tape holds it. */
  node = null;
  /** Which op made it (for error messages). */
  origin;
  constructor(shape, dtype, buffer, opts = {}) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = shapeSize(shape);
    if (buffer instanceof Storage) {
      buffer.refs++;
      this.storage = buffer;
    } else this.storage = new Storage(buffer);
    this.requiresGrad = opts.requiresGrad ?? false;
    this.origin = opts.origin ?? "tensor";
    scopes[scopes.length - 1]?.add(this);
  }
  /** A fresh tensor with uninitialized contents. */
  static empty(shape, dtype = "f32", origin) {
    checkShape(shape);
    const what = () => `${origin ?? "tensor"}: an ${dtype} tensor of shape ${fmtShape(shape)}`;
    return new _Tensor(shape, dtype, rt().pool.acquire(shapeSize(shape) * dtypeBytes(dtype), what), { origin });
  }
  get buffer() {
    if (!this.storage) throw new Error(`flstm: tensor ${fmtShape(this.shape)} (${this.dtype}, from ${this.origin}) was used after dispose()`);
    const pool = this.storage.pool;
    if (pool && pool !== currentRuntime()?.pool) {
      throw new Error(`flstm: tensor ${fmtShape(this.shape)} (${this.dtype}, from ${this.origin}) belongs to a GPU device that was closed (fl.dispose() or a lost device); make it again after fl.init()`);
    }
    return this.storage.buffer;
  }
  /** The shared storage, for views (reshape). */
  get sharedStorage() {
    this.buffer;
    return this.storage;
  }
  get disposed() {
    return this.storage === null;
  }
  get rank() {
    return this.shape.length;
  }
  /** Copies the contents to the host (f16 as the f32 values they hold). */
  async data() {
    const bytes = await rt().read(this.buffer, this.size * dtypeBytes(this.dtype));
    if (this.dtype === "i32") return new Int32Array(bytes);
    if (this.dtype === "f32") return new Float32Array(bytes);
    const h = new Uint16Array(bytes);
    const out2 = new Float32Array(this.size);
    for (let i = 0; i < out2.length; i++) out2[i] = fromHalfBits(h[i]);
    return out2;
  }
  /** Nested arrays (for printing and small tests). */
  async array() {
    const d = Array.from(await this.data());
    const build = (dim, off) => {
      if (dim === this.shape.length) return d[off];
      const stride = shapeSize(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, off + i * stride));
    };
    return build(0, 0);
  }
  /** Keeps this tensor alive past the enclosing fl.tidy scope. */
  keep() {
    for (const s of scopes) s.delete(this);
    return this;
  }
  /** Returns the buffer to the pool. Using the tensor afterwards is an error. */
  dispose() {
    if (!this.storage) return;
    if (--this.storage.refs === 0) {
      const pool = this.storage.pool ?? currentRuntime()?.pool;
      if (pool && pool === currentRuntime()?.pool) pool.release(this.storage.buffer);
    }
    this.storage = null;
    this.node = null;
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
  }
  /** A view of the same data with another shape (the buffer is shared; no copy). */
  reshape(shape) {
    const s = [...shape];
    const inferred = s.indexOf(-1);
    if (inferred >= 0) s[inferred] = this.size / shapeSize(s.filter((_, i) => i !== inferred));
    checkShape(s, "reshape: shape");
    if (shapeSize(s) !== this.size) {
      throw new Error(`flstm: cannot reshape ${fmtShape(this.shape)} (${this.size} elements) to ${fmtShape(shape)}`);
    }
    return reshapeImpl(this, s);
  }
  /** Backpropagates from this tensor (a scalar, or pass the output gradient). */
  backward(grad, opts) {
    backwardImpl(this, grad, opts);
  }
  toString() {
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype}${this.requiresGrad ? ", requiresGrad" : ""})`;
  }
};
var reshapeImpl = () => {
  throw new Error("flstm: reshape not registered");
};
function registerReshape(fn) {
  reshapeImpl = fn;
}
var backwardImpl = () => {
  throw new Error("flstm: autograd not registered");
};
function registerBackward(fn) {
  backwardImpl = fn;
}

// src/autograd.ts
var gradEnabled = true;
function noGrad(fn) {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}
function record(out2, op, inputs, backward2) {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out2.requiresGrad = true;
    out2.node = { op, inputs, backward: backward2 };
  }
  return out2;
}
var gradOps = {
  add: null,
  onesLike: null
};
function topoOrder(root) {
  const order = [];
  const seen = /* @__PURE__ */ new Set();
  const stack = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const c = inputs[i];
      if (c.requiresGrad && !seen.has(c)) {
        seen.add(c);
        stack.push([c, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}
function backward(root, grad, opts = {}) {
  if (!root.requiresGrad) {
    throw new Error(`flstm: backward() on ${fmtShape(root.shape)} tensor that does not require grad (no input had requiresGrad: true)`);
  }
  if (!grad && root.size !== 1) {
    throw new Error(`flstm: backward() without a gradient needs a scalar; got shape ${fmtShape(root.shape)} (pass the output gradient)`);
  }
  if (grad && (grad.size !== root.size || grad.dtype !== "f32")) {
    throw new Error(`flstm: backward() gradient has shape ${fmtShape(grad.shape)}, expected ${fmtShape(root.shape)}`);
  }
  noGrad(() => {
    const order = topoOrder(root);
    const grads = /* @__PURE__ */ new Map();
    grads.set(root, grad ? grad.reshape(root.shape) : gradOps.onesLike(root));
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      if (!t.node) {
        if (t.grad) {
          const sum2 = gradOps.add(t.grad, g);
          t.grad.dispose();
          g.dispose();
          t.grad = sum2.keep();
        } else t.grad = g.keep();
        continue;
      }
      const node = t.node;
      const inGrads = node.backward(g);
      for (let j = 0; j < node.inputs.length; j++) {
        const x = node.inputs[j];
        let gx = inGrads[j];
        if (!gx) continue;
        if (gx.size !== x.size) {
          throw new Error(`flstm: internal error: ${node.op} backward gave a gradient of shape ${fmtShape(gx.shape)} for an input of shape ${fmtShape(x.shape)}`);
        }
        if (!x.requiresGrad) {
          if (gx !== g) gx.dispose();
          continue;
        }
        if (gx === g || gx.shape.join() !== x.shape.join()) {
          const v = gx.reshape(x.shape);
          if (gx !== g) gx.dispose();
          gx = v;
        }
        const prev = grads.get(x);
        if (prev) {
          grads.set(x, gradOps.add(prev, gx));
          prev.dispose();
          gx.dispose();
        } else grads.set(x, gx);
      }
      g.dispose();
      if (!opts.retainGraph) t.node = null;
    }
  });
}
registerBackward(backward);

// src/ops/shape.ts
registerReshape((t, shape) => {
  const v = new Tensor(shape, t.dtype, t.sharedStorage, { origin: "reshape" });
  return record(v, "reshape", [t], (g) => [g.reshape(t.shape)]);
});

// src/ops/dispatch.ts
function grid1d(n, wg = 256, maxPerDim = 65535) {
  const groups = Math.ceil(n / wg);
  if (groups <= maxPerDim) return [groups, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y];
}
function assertTensor(t, what) {
  if (!(t instanceof Tensor)) throw new Error(`flstm: ${what} must be a Tensor, got ${t === null ? "null" : typeof t}`);
  t.buffer;
}
function assertDType(t, dtype, op, what) {
  if (t.dtype !== dtype) throw new Error(`flstm: ${op}: ${what} must be ${dtype}, got ${t.dtype} ${fmtShape(t.shape)}`);
}
function sameShape(a, b) {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
function out(shape, dtype, origin) {
  return Tensor.empty(shape, dtype, origin);
}
function requireF16(op) {
  const info2 = rt().info;
  if (!info2.features.includes("shader-f16")) {
    throw new Error(`flstm: ${op}: f16 storage needs the adapter feature shader-f16, which this adapter (${info2.description || info2.device || info2.vendor}) lacks; use f32`);
  }
}

// kernels/reduce_rows.wgsl
var reduce_rows_default = "// reduce_rows.wgsl: out[o, j] = alpha * sum_r x[o, r, j] for x viewed as [outer, len, inner].\n// One invocation per output, summing in index order: deterministic, no atomics. Best when\n// there are many outputs (e.g. a bias gradient: sum over rows of [rows, cols]).\n// Bindings: 0 uniform {outer, len, inner, alpha: f32}, 1 x, 2 out.\n// Dispatch: ceil(outer*inner / 256) workgroups of 256, folded into (x, y).\n// Reference: src/ref/elementwise.ts `sumAxisRef`.\nstruct Params { outer: u32, len: u32, inner: u32, alpha: f32 }\n@group(0) @binding(0) var<uniform> p: Params;\n@group(0) @binding(1) var<storage, read> x: array<f32>;\n@group(0) @binding(2) var<storage, read_write> out: array<f32>;\n\n@compute @workgroup_size(256)\nfn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {\n  let i = gid.x + gid.y * nwg.x * 256u;\n  if (i >= p.outer * p.inner) { return; }\n  let o = i / p.inner;\n  let j = i % p.inner;\n  var base = o * p.len * p.inner + j;\n  var s = 0.0;\n  for (var r = 0u; r < p.len; r++) {\n    s += x[base];\n    base += p.inner;\n  }\n  out[i] = p.alpha * s;\n}\n";

// kernels/reduce_tree.wgsl
var reduce_tree_default = "// reduce_tree.wgsl: out[o, j] = alpha * sum_r x[o, r, j] for x viewed as [outer, len, inner],\n// one workgroup per output: 256 strided partial sums, then a fixed shared-memory tree.\n// The order of additions is fixed, so results are bit-for-bit reproducible. Best when\n// there are few outputs over a long axis (a whole-tensor sum, a loss).\n// Bindings: 0 uniform {outer, len, inner, alpha: f32}, 1 x, 2 out.\n// Dispatch: outer*inner workgroups of 256, folded into (x, y).\n// Reference: src/ref/elementwise.ts `sumAxisRef`.\nstruct Params { outer: u32, len: u32, inner: u32, alpha: f32 }\n@group(0) @binding(0) var<uniform> p: Params;\n@group(0) @binding(1) var<storage, read> x: array<f32>;\n@group(0) @binding(2) var<storage, read_write> out: array<f32>;\n\nvar<workgroup> partial: array<f32, 256>;\n\n@compute @workgroup_size(256)\nfn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,\n        @builtin(local_invocation_index) lid: u32) {\n  let i = wid.x + wid.y * nwg.x;\n  let valid = i < p.outer * p.inner;\n  var s = 0.0;\n  if (valid) {\n    let o = i / p.inner;\n    let j = i % p.inner;\n    let base = o * p.len * p.inner + j;\n    for (var r = lid; r < p.len; r += 256u) {\n      s += x[base + r * p.inner];\n    }\n  }\n  partial[lid] = s;\n  workgroupBarrier();\n  for (var w = 128u; w > 0u; w >>= 1u) {\n    if (lid < w) { partial[lid] += partial[lid + w]; }\n    workgroupBarrier();\n  }\n  if (lid == 0u && valid) { out[i] = p.alpha * partial[0]; }\n}\n";

// src/ops/reduce.ts
var REDUCE_ROWS = { name: "reduce_rows", code: reduce_rows_default };
var REDUCE_TREE = { name: "reduce_tree", code: reduce_tree_default };
function reduceRaw(x, outer, len, inner, alpha, shape) {
  const y = out(shape, "f32", "sum");
  const outputs = outer * inner;
  const tree = outputs < 2048 && len >= 64;
  rt().run(tree ? REDUCE_TREE : REDUCE_ROWS, {
    params: [outer, len, inner, alpha],
    f32Mask: 8,
    buffers: [x.buffer, y.buffer],
    workgroups: tree ? grid1d(outputs, 1) : grid1d(outputs)
  });
  return y;
}
function sumTo(grad, size) {
  return reduceRaw(grad, 1, grad.size / size, size, 1, [size]);
}

// kernels/unary.wgsl
var unary_default = "// unary.wgsl: y = f(x) elementwise. f is the override OP:\n//   0 sigmoid, 1 tanh, 2 relu, 3 exp, 4 y = alpha*x + beta (scale), 5 fill (y = beta).\n// Bindings: 0 uniform {n, alpha: f32, beta: f32}, 1 x: array<f32> (read), 2 y: array<f32>.\n// Dispatch: ceil(n / 256) workgroups of 256, folded into (x, y) when over 65535 in x.\n// Reference: src/ref/elementwise.ts `unaryRef`.\noverride OP: u32 = 0;\n\nstruct Params { n: u32, alpha: f32, beta: f32, pad: u32 }\n@group(0) @binding(0) var<uniform> p: Params;\n@group(0) @binding(1) var<storage, read> x: array<f32>;\n@group(0) @binding(2) var<storage, read_write> y: array<f32>;\n\nfn f(v: f32) -> f32 {\n  switch OP {\n    case 0u: { return 1.0 / (1.0 + exp(-v)); }\n    case 1u: { return tanh(clamp(v, -15.0, 15.0)); }\n    case 2u: { return max(v, 0.0); }\n    case 3u: { return exp(v); }\n    case 4u: { return p.alpha * v + p.beta; }\n    default: { return p.beta; }\n  }\n}\n\n@compute @workgroup_size(256)\nfn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {\n  let i = gid.x + gid.y * nwg.x * 256u;\n  if (i >= p.n) { return; }\n  if (OP == 5u) { y[i] = p.beta; return; }\n  y[i] = f(x[i]);\n}\n";

// kernels/unary_backward.wgsl
var unary_backward_default = "// unary_backward.wgsl: dx = dy * f'(x), f as in unary.wgsl (override OP, same numbering).\n// sigmoid and tanh use the saved output y (f' = y(1-y), 1-y^2), relu the input x, exp y,\n// scale alpha.\n// Bindings: 0 uniform {n, alpha: f32, beta: f32}, 1 dy, 2 saved (x for relu, y otherwise), 3 dx.\n// Dispatch: as unary.wgsl. Reference: src/ref/elementwise.ts `unaryBackwardRef`.\noverride OP: u32 = 0;\n\nstruct Params { n: u32, alpha: f32, beta: f32, pad: u32 }\n@group(0) @binding(0) var<uniform> p: Params;\n@group(0) @binding(1) var<storage, read> dy: array<f32>;\n@group(0) @binding(2) var<storage, read> saved: array<f32>;\n@group(0) @binding(3) var<storage, read_write> dx: array<f32>;\n\n@compute @workgroup_size(256)\nfn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {\n  let i = gid.x + gid.y * nwg.x * 256u;\n  if (i >= p.n) { return; }\n  let g = dy[i];\n  let s = saved[i];\n  var d: f32;\n  switch OP {\n    case 0u: { d = g * s * (1.0 - s); }\n    case 1u: { d = g * (1.0 - s * s); }\n    case 2u: { d = select(0.0, g, s > 0.0); }\n    case 3u: { d = g * s; }\n    default: { d = g * p.alpha; }\n  }\n  dx[i] = d;\n}\n";

// kernels/binary.wgsl
var binary_default = "// binary.wgsl: c = a (op) b elementwise, override OP: 0 add, 1 sub, 2 mul.\n// Broadcasting: an operand whose shape is a suffix of the other's (a row vector, a scalar)\n// is indexed modulo its size: a[i % na], b[i % nb], for i < n = max(na, nb).\n// Bindings: 0 uniform {n, na, nb}, 1 a, 2 b, 3 c.\n// Dispatch: ceil(n / 256) workgroups of 256, folded into (x, y).\n// Reference: src/ref/elementwise.ts `binaryRef`.\noverride OP: u32 = 0;\n\nstruct Params { n: u32, na: u32, nb: u32, pad: u32 }\n@group(0) @binding(0) var<uniform> p: Params;\n@group(0) @binding(1) var<storage, read> a: array<f32>;\n@group(0) @binding(2) var<storage, read> b: array<f32>;\n@group(0) @binding(3) var<storage, read_write> c: array<f32>;\n\n@compute @workgroup_size(256)\nfn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {\n  let i = gid.x + gid.y * nwg.x * 256u;\n  if (i >= p.n) { return; }\n  let va = a[select(i, i % p.na, p.na != p.n)];\n  let vb = b[select(i, i % p.nb, p.nb != p.n)];\n  var r: f32;\n  switch OP {\n    case 0u: { r = va + vb; }\n    case 1u: { r = va - vb; }\n    default: { r = va * vb; }\n  }\n  c[i] = r;\n}\n";

// src/ops/elementwise.ts
var UNARY = { name: "unary", code: unary_default };
var UNARY_BACKWARD = { name: "unary_backward", code: unary_backward_default };
var BINARY = { name: "binary", code: binary_default };
var UnaryOp = { sigmoid: 0, tanh: 1, relu: 2, exp: 3, scale: 4, fill: 5 };
var F32_ALPHA_BETA = 6;
function unaryRaw(op, x, alpha = 1, beta = 0) {
  const y = out(x.shape, "f32", op);
  rt().run(UNARY, {
    overrides: { OP: UnaryOp[op] },
    params: [x.size, alpha, beta],
    f32Mask: F32_ALPHA_BETA,
    buffers: [x.buffer, y.buffer],
    workgroups: grid1d(x.size)
  });
  return y;
}
function unaryBackwardRaw(op, dy, saved, alpha = 1) {
  const dx = out(dy.shape, "f32", `${op}.backward`);
  rt().run(UNARY_BACKWARD, {
    overrides: { OP: UnaryOp[op] },
    params: [dy.size, alpha, 0],
    f32Mask: F32_ALPHA_BETA,
    buffers: [dy.buffer, saved.buffer, dx.buffer],
    workgroups: grid1d(dy.size)
  });
  return dx;
}
function fill(shape, value) {
  const y = out(shape, "f32", "fill");
  if (value === 0) {
    rt().recorder.clear(y.buffer);
    return y;
  }
  rt().run(UNARY, {
    overrides: { OP: UnaryOp.fill },
    params: [y.size, 0, value],
    f32Mask: F32_ALPHA_BETA,
    buffers: [rt().dummy, y.buffer],
    workgroups: grid1d(y.size)
  });
  return y;
}
var BinaryOp = { add: 0, sub: 1, mul: 2 };
function broadcastShape(op, a, b) {
  if (sameShape(a.shape, b.shape)) return a.shape;
  const isSuffix = (s, of) => s.length <= of.length && s.every((d, i) => d === of[of.length - s.length + i]);
  if (isSuffix(b.shape, a.shape) || b.size === 1) return a.shape;
  if (isSuffix(a.shape, b.shape) || a.size === 1) return b.shape;
  throw new Error(
    `flstm: ${op}: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} do not broadcast (expected equal shapes, or one a trailing part of the other such as a row vector, or a scalar)`
  );
}
function binaryRaw(op, a, b, shape) {
  const c = out(shape, "f32", op);
  rt().run(BINARY, {
    overrides: { OP: BinaryOp[op] },
    params: [c.size, a.size, b.size],
    buffers: [a.buffer, b.buffer, c.buffer],
    workgroups: grid1d(c.size)
  });
  return c;
}
function binary(op, a, b) {
  assertTensor(a, `${op}(a, b): a`);
  assertTensor(b, `${op}(a, b): b`);
  assertDType(a, "f32", op, "a");
  assertDType(b, "f32", op, "b");
  const shape = broadcastShape(op, a, b);
  const c = binaryRaw(op, a, b, shape);
  return record(c, op, [a, b], (g) => {
    let ga = null;
    let gb = null;
    if (a.requiresGrad) ga = op === "mul" ? binaryRaw("mul", g, b, shape) : g;
    if (b.requiresGrad) gb = op === "mul" ? binaryRaw("mul", g, a, shape) : op === "sub" ? unaryRaw("scale", g, -1) : g;
    return [ga && reduceTo(ga, a, g), gb && reduceTo(gb, b, g)];
  });
}
function reduceTo(grad, x, g) {
  if (grad.size === x.size) return grad;
  const r = sumTo(grad, x.size);
  if (grad !== g) grad.dispose();
  return r;
}
var add = (a, b) => binary("add", a, b);

// src/random.ts
var Rng = class {
  s;
  constructor(seed) {
    this.s = new Uint32Array(4);
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = x + 2654435769 >>> 0;
      let z = x;
      z = Math.imul(z ^ z >>> 16, 2246822507) >>> 0;
      z = Math.imul(z ^ z >>> 13, 3266489909) >>> 0;
      this.s[i] = (z ^ z >>> 16) >>> 0;
    }
  }
  nextU32() {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = s[1] << 9 >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }
  /** Uniform in [0, 1). */
  uniform() {
    return this.nextU32() / 4294967296;
  }
  normal() {
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** Integer in [0, n). */
  int(n) {
    return Math.floor(this.uniform() * n);
  }
};
function rotl(x, k) {
  return (x << k | x >>> 32 - k) >>> 0;
}
var globalRng = new Rng(24301);
function rngFor(seed) {
  return seed === void 0 ? new Rng(globalRng.nextU32()) : new Rng(seed);
}

// src/ops/create.ts
var hostMirror = /* @__PURE__ */ new WeakMap();
function flatten(data, outArr) {
  for (const v of data) {
    if (Array.isArray(v)) flatten(v, outArr);
    else outArr.push(v);
  }
}
function inferShape(data) {
  const shape = [];
  let d = data;
  while (Array.isArray(d)) {
    shape.push(d.length);
    d = d[0];
  }
  return shape;
}
function tensor(data, shape, opts = {}) {
  let flat;
  if (Array.isArray(data) && data.some((v) => Array.isArray(v))) {
    const f = [];
    flatten(data, f);
    flat = f;
    shape ??= inferShape(data);
  } else {
    flat = data;
    shape ??= [flat.length];
  }
  checkShape(shape);
  if (shapeSize(shape) !== flat.length) {
    throw new Error(`flstm: tensor(): ${flat.length} values do not fill shape ${fmtShape(shape)} (${shapeSize(shape)} elements)`);
  }
  const dtype = opts.dtype ?? (data instanceof Int32Array ? "i32" : "f32");
  if (dtype === "i32") {
    for (let i = 0; i < flat.length; i++) {
      if (!Number.isInteger(flat[i])) throw new Error(`flstm: tensor(): i32 data must be integers, got ${flat[i]} at index ${i}`);
    }
  }
  if (dtype === "f16") requireF16("tensor()");
  const host = dtype === "f32" ? Float32Array.from(flat) : dtype === "f16" ? Uint16Array.from(flat, toHalfBits) : Int32Array.from(flat);
  const t = Tensor.empty(shape, dtype, "tensor");
  if (host.length > 0) rt().recorder.upload(t.buffer, host);
  if (host instanceof Int32Array) hostMirror.set(t.sharedStorage, host);
  t.requiresGrad = opts.requiresGrad ?? false;
  if (t.requiresGrad && dtype !== "f32") throw new Error("flstm: tensor(): only f32 tensors can require grad");
  return t;
}
function full(shape, value, opts = {}) {
  checkShape(shape);
  if (opts.dtype === "f16") return tensor(new Float32Array(shapeSize(shape)).fill(value), shape, opts);
  const t = fill(shape, value);
  t.requiresGrad = opts.requiresGrad ?? false;
  return t;
}
var ones = (shape, opts = {}) => full(shape, 1, opts);
function randn(shape, opts = {}) {
  checkShape(shape);
  const rng = rngFor(opts.seed);
  const n = shapeSize(shape);
  const h = new Float32Array(n);
  const s = opts.scale ?? 1;
  const m = opts.mean ?? 0;
  for (let i = 0; i < n; i++) h[i] = m + s * rng.normal();
  return tensor(h, shape, { requiresGrad: opts.requiresGrad });
}

// kernels/softmax_ce_grad.wgsl
var softmax_ce_grad_default = "// softmax_ce_grad.wgsl: the gradient of softmaxCrossEntropy, computed in backward from the\n// row losses the forward saved (so the forward writes no [N, C] gradient, and the upstream\n// gradient is applied here instead of in a pass of its own). For row r with target t:\n//   lse[r]     = loss[r] + x[r, t]                         (loss[r] = logsumexp - x[r, t])\n//   grad[r, c] = g * (exp(x[r, c] - lse[r]) - [c == t]) * invN\n// g is the upstream gradient of the mean loss, a scalar read from its GPU buffer. A target\n// outside [0, C) has a NaN loss (see softmax_ce_rows.wgsl), so its row's gradient is NaN.\n// Each invocation covers WIDTH consecutive elements of one row: 4 (as vec4) when C % 4 == 0,\n// else 1. The element prelude that src/ops/softmax_ce.ts prepends declares bindings 1\n// (logits) and 5 (grad) with WIDTH, logitAt (one element), loadUnit and storeUnit (WIDTH\n// elements in the components of a vec4f).\n// Bindings: 0 uniform {units = N*C / WIDTH, c = C, invN: f32, pad}, 1 logits, 2 targets:\n//           array<i32> [N], 3 loss: array<f32> [N], 4 g: array<f32> [1], 5 grad [N, C].\n// Dispatch: ceil(units / 256) workgroups of 256, folded into (x, y).\n// Reference: src/ref/softmax_ce.ts `softmaxCrossEntropyRef` (grad).\n\nstruct Params { units: u32, c: u32, invN: f32, pad: u32 }\n@group(0) @binding(0) var<uniform> p: Params;\n@group(0) @binding(2) var<storage, read> targets: array<i32>;\n@group(0) @binding(3) var<storage, read> loss: array<f32>;\n@group(0) @binding(4) var<storage, read> g: array<f32>;\n\n@compute @workgroup_size(256)\nfn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {\n  let u = gid.x + gid.y * nwg.x * 256u;\n  if (u >= p.units) { return; }\n  let i = u * WIDTH; // the unit's first element; a unit never crosses a row\n  let row = i / p.c;\n  let c0 = i - row * p.c;\n  let t = bitcast<u32>(targets[row]); // negative targets become >= 2^31\n  let lse = loss[row] + logitAt(row * p.c + min(t, p.c - 1u));\n  let onehot = vec4f(vec4u(c0, c0 + 1u, c0 + 2u, c0 + 3u) == vec4u(t));\n  storeUnit(u, (exp(loadUnit(u) - lse) - onehot) * (g[0] * p.invN));\n}\n";

// src/ops/softmax_ce.ts
var GRAD_SCALAR = {
  name: "softmax_ce_grad",
  code: `@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;
const WIDTH = 1u;
fn logitAt(i: u32) -> f32 { return logits[i]; }
fn loadUnit(u: u32) -> vec4f { return vec4f(logits[u]); }
fn storeUnit(u: u32, v: vec4f) { grad[u] = v.x; }
${softmax_ce_grad_default}`
};
var GRAD_VEC4 = {
  name: "softmax_ce_grad_vec4",
  code: `@group(0) @binding(1) var<storage, read> logits: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> grad: array<vec4f>;
const WIDTH = 4u;
fn logitAt(i: u32) -> f32 { return logits[i / 4u][i % 4u]; }
fn loadUnit(u: u32) -> vec4f { return logits[u]; }
fn storeUnit(u: u32, v: vec4f) { grad[u] = v; }
${softmax_ce_grad_default}`
};

// kernels/matmul_scalar.wgsl
var matmul_scalar_default = "// matmul_scalar.wgsl: C[z] = epilogue(A[z] \xB7 B[z]) for any sizes, strides and transposes.\n// Barrier-free: each invocation owns a 4x4 block of C and reads A and B with scalar loads,\n// clamping indices at the edges (no branch in the inner loop). The generic fallback.\n//   A(m, k) = a[offA + z*strideA + (TRANS_A ? k*lda + m : m*lda + k)]\n//   B(k, n) = b[offB + z*strideB + (TRANS_B ? n*ldb + k : k*ldb + n)]\n// Epilogue: this file is a matmul *core*. It is compiled together with a store epilogue\n// that defines the rest of the bindings (3 and up) and\n//   fn mm_store(z: u32, m: u32, n0: u32, v: vec4f)\n// called once per row m < M of the invocation's block with the accumulated values of\n// columns n0 .. n0+3 (n0 % 4 == 0, n0 < N; columns at or past N must be masked by the store).\n// kernels/matmul_store.wgsl is the plain one (alpha, bias, activation, accumulate);\n// kernels/lstm_cell_store.wgsl is the fused LSTM cell.\n// Bindings: 0 uniform Params, 1 a, 2 b; 3.. the epilogue's.\n// Dispatch: (ceil(N / (4*WG_X)), ceil(M / (4*WG_Y)), batch).\n// Reference: src/ref/matmul.ts `matmulRef`.\noverride TRANS_A: bool = false;\noverride TRANS_B: bool = false;\noverride WG_X: u32 = 8u;\noverride WG_Y: u32 = 8u;\n\nstruct Params {\n  M: u32, N: u32, K: u32, lda: u32,\n  ldb: u32, ldc: u32, strideA: u32, strideB: u32,\n  strideC: u32, strideBias: u32, alpha: f32, offA: u32,\n  offB: u32, offC: u32, offBias: u32, pad: u32,\n}\n@group(0) @binding(0) var<uniform> p: Params;\n// Bindings 1 (a) and 2 (b) and their loaders ldA/ldB come from the operand prelude that\n// src/ops/matmul_kernel.ts appends: f32, or f16 widened to f32 where the adapter has shader-f16.\n\nfn readA(base: u32, m: u32, k: u32) -> f32 {\n  if (TRANS_A) { return ldA(base + k * p.lda + m); }\n  return ldA(base + m * p.lda + k);\n}\n\nfn readB(base: u32, k: u32, n: u32) -> f32 {\n  if (TRANS_B) { return ldB(base + n * p.ldb + k); }\n  return ldB(base + k * p.ldb + n);\n}\n\n\n\n@compute @workgroup_size(WG_X, WG_Y, 1)\nfn main(@builtin(global_invocation_id) gid: vec3u) {\n  let n0 = gid.x * 4u;\n  let m0 = gid.y * 4u;\n  let z = gid.z;\n  if (n0 >= p.N || m0 >= p.M) { return; }\n  let baseA = p.offA + z * p.strideA;\n  let baseB = p.offB + z * p.strideB;\n  // Clamped indices: edge invocations compute on repeated rows/columns and skip those stores.\n  var rows: array<u32, 4>;\n  var cols: array<u32, 4>;\n  for (var i = 0u; i < 4u; i++) {\n    rows[i] = min(m0 + i, p.M - 1u);\n    cols[i] = min(n0 + i, p.N - 1u);\n  }\n  var acc: array<vec4f, 4>;\n  for (var k = 0u; k < p.K; k++) {\n    let bv = vec4f(readB(baseB, k, cols[0]), readB(baseB, k, cols[1]), readB(baseB, k, cols[2]), readB(baseB, k, cols[3]));\n    acc[0] += readA(baseA, rows[0], k) * bv;\n    acc[1] += readA(baseA, rows[1], k) * bv;\n    acc[2] += readA(baseA, rows[2], k) * bv;\n    acc[3] += readA(baseA, rows[3], k) * bv;\n  }\n  for (var i = 0u; i < 4u; i++) {\n    if (m0 + i >= p.M) { break; }\n    mm_store(z, m0 + i, n0, acc[i]);\n  }\n}\n";

// kernels/matmul_reg_vec4.wgsl
var matmul_reg_vec4_default = "// matmul_reg_vec4.wgsl: C[z] = epilogue(A[z] \xB7 B[z]), the barrier-free register-tiled kernel\n// for software drivers (lavapipe, SwiftShader), where each invocation is one SIMD lane and\n// workgroup barriers are expensive. Each invocation owns a 4x4 block of C and loads A and B\n// as vec4 along their contiguous axes; neighbouring invocations read neighbouring vec4s.\n// Layout and store hook (mm_store) as matmul_scalar.wgsl:\n//   A(m, k) = a[offA + z*strideA + (TRANS_A ? k*lda + m : m*lda + k)]\n//   B(k, n) = b[offB + z*strideB + (TRANS_B ? n*ldb + k : k*ldb + n)]\n// Requires (checked by src/ops/matmul_kernel.ts): K % 4 == 0; A's contiguous extent\n// (TRANS_A ? M : K), lda, strideA and offA multiples of 4; likewise B's (TRANS_B ? K : N),\n// ldb, strideB and offB. Other edges are clamped (loads) and masked (stores).\n// Bindings: 0 uniform Params, 1 a (vec4), 2 b (vec4); 3.. the epilogue's.\n// Dispatch: (ceil(N / (4*WG_X)), ceil(M / (4*WG_Y)), batch).\n// Reference: src/ref/matmul.ts `matmulRef`.\noverride TRANS_A: bool = false;\noverride TRANS_B: bool = false;\noverride WG_X: u32 = 8u;\noverride WG_Y: u32 = 8u;\n\nstruct Params {\n  M: u32, N: u32, K: u32, lda: u32,\n  ldb: u32, ldc: u32, strideA: u32, strideB: u32,\n  strideC: u32, strideBias: u32, alpha: f32, offA: u32,\n  offB: u32, offC: u32, offBias: u32, pad: u32,\n}\n@group(0) @binding(0) var<uniform> p: Params;\n// Bindings 1 (a) and 2 (b) and their loaders ldA/ldB come from the operand prelude that\n// src/ops/matmul_kernel.ts appends: f32, or f16 widened to f32 where the adapter has shader-f16.\n\n\n\n@compute @workgroup_size(WG_X, WG_Y, 1)\nfn main(@builtin(global_invocation_id) gid: vec3u) {\n  let n0 = gid.x * 4u;\n  let m0 = gid.y * 4u;\n  let z = gid.z;\n  if (n0 >= p.N || m0 >= p.M) { return; }\n  let baseA = p.offA + z * p.strideA;\n  let baseB = p.offB + z * p.strideB;\n  // Row offsets of A (when K runs along rows of A) and of B^T, clamped at the edges.\n  var rowA: array<u32, 4>;\n  var colB: array<u32, 4>;\n  for (var i = 0u; i < 4u; i++) {\n    rowA[i] = baseA + min(m0 + i, p.M - 1u) * p.lda;\n    colB[i] = baseB + min(n0 + i, p.N - 1u) * p.ldb;\n  }\n  var acc: array<vec4f, 4>;\n  // Running vec4 indices: loads step by a fixed stride per 4 values of k.\n  let lda4 = p.lda / 4u;\n  let ldb4 = p.ldb / 4u;\n  var ia: array<u32, 4>;\n  var ib: array<u32, 4>;\n  if (TRANS_A) { ia[0] = (baseA + m0) / 4u; } else { for (var i = 0u; i < 4u; i++) { ia[i] = rowA[i] / 4u; } }\n  if (TRANS_B) { for (var i = 0u; i < 4u; i++) { ib[i] = colB[i] / 4u; } } else { ib[0] = (baseB + n0) / 4u; }\n  for (var k = 0u; k < p.K; k += 4u) {\n    var ar: array<vec4f, 4>;\n    if (TRANS_A) {\n      let ak0 = ldA(ia[0]);\n      let ak1 = ldA(ia[0] + lda4);\n      let ak2 = ldA(ia[0] + 2u * lda4);\n      let ak3 = ldA(ia[0] + 3u * lda4);\n      ia[0] += 4u * lda4;\n      ar[0] = vec4f(ak0.x, ak1.x, ak2.x, ak3.x);\n      ar[1] = vec4f(ak0.y, ak1.y, ak2.y, ak3.y);\n      ar[2] = vec4f(ak0.z, ak1.z, ak2.z, ak3.z);\n      ar[3] = vec4f(ak0.w, ak1.w, ak2.w, ak3.w);\n    } else {\n      ar[0] = ldA(ia[0]); ar[1] = ldA(ia[1]); ar[2] = ldA(ia[2]); ar[3] = ldA(ia[3]);\n      ia[0] += 1u; ia[1] += 1u; ia[2] += 1u; ia[3] += 1u;\n    }\n    if (TRANS_B) {\n      let bt0 = ldB(ib[0]); let bt1 = ldB(ib[1]); let bt2 = ldB(ib[2]); let bt3 = ldB(ib[3]);\n      ib[0] += 1u; ib[1] += 1u; ib[2] += 1u; ib[3] += 1u;\n      for (var r = 0u; r < 4u; r++) {\n        acc[r] += vec4f(dot(ar[r], bt0), dot(ar[r], bt1), dot(ar[r], bt2), dot(ar[r], bt3));\n      }\n    } else {\n      let bk0 = ldB(ib[0]);\n      let bk1 = ldB(ib[0] + ldb4);\n      let bk2 = ldB(ib[0] + 2u * ldb4);\n      let bk3 = ldB(ib[0] + 3u * ldb4);\n      ib[0] += 4u * ldb4;\n      for (var r = 0u; r < 4u; r++) {\n        acc[r] += ar[r].x * bk0 + ar[r].y * bk1 + ar[r].z * bk2 + ar[r].w * bk3;\n      }\n    }\n  }\n  for (var i = 0u; i < 4u; i++) {\n    if (m0 + i >= p.M) { break; }\n    mm_store(z, m0 + i, n0, acc[i]);\n  }\n}\n";

// kernels/matmul_shared.wgsl
var matmul_shared_default = "// matmul_shared.wgsl: the matmul core with shared-memory tiles, for real GPUs, which reward\n// data reuse through workgroup memory (software drivers punish its barriers).\n// A workgroup of 16x16 invocations computes a 64x64 block of C; each invocation a 4x4\n// sub-block: rows ty + 16i, columns 4tx .. 4tx+3 (four consecutive columns, so the store\n// hook sees whole vec4s, e.g. the four gates of one LSTM unit). K advances in tiles of 16:\n// the workgroup stages a 64x16 slice of A and a 16x64 slice of B in shared memory\n// (zero-padded at the edges), then each invocation runs 16 rank-1 updates from registers.\n// Any sizes, strides and transposes.\n//   A(m, k) = a[offA + z*strideA + (TRANS_A ? k*lda + m : m*lda + k)]\n//   B(k, n) = b[offB + z*strideB + (TRANS_B ? n*ldb + k : k*ldb + n)]\n// Store hook: mm_store(z, m, n0, v), as described in matmul_scalar.wgsl.\n// Bindings: 0 uniform Params, 1 a, 2 b; 3.. the epilogue's.\n// Dispatch: (ceil(N / 64), ceil(M / 64), batch).\n// Reference: src/ref/matmul.ts `matmulRef`.\noverride TRANS_A: bool = false;\noverride TRANS_B: bool = false;\n\nconst TILE = 64u;\nconst TK = 16u;\n\nstruct Params {\n  M: u32, N: u32, K: u32, lda: u32,\n  ldb: u32, ldc: u32, strideA: u32, strideB: u32,\n  strideC: u32, strideBias: u32, alpha: f32, offA: u32,\n  offB: u32, offC: u32, offBias: u32, pad: u32,\n}\n@group(0) @binding(0) var<uniform> p: Params;\n// Bindings 1 (a) and 2 (b) and their loaders ldA/ldB come from the operand prelude that\n// src/ops/matmul_kernel.ts appends: f32, or f16 widened to f32 where the adapter has shader-f16.\n\nvar<workgroup> As: array<array<f32, 64>, 16>;   // As[k][m]\nvar<workgroup> Bs: array<array<vec4f, 16>, 16>; // Bs[k][n / 4]\n\nfn readA(base: u32, m: u32, k: u32) -> f32 {\n  if (m >= p.M || k >= p.K) { return 0.0; }\n  if (TRANS_A) { return ldA(base + k * p.lda + m); }\n  return ldA(base + m * p.lda + k);\n}\n\nfn readB(base: u32, k: u32, n: u32) -> f32 {\n  if (k >= p.K || n >= p.N) { return 0.0; }\n  if (TRANS_B) { return ldB(base + n * p.ldb + k); }\n  return ldB(base + k * p.ldb + n);\n}\n\n@compute @workgroup_size(16, 16, 1)\nfn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {\n  let z = wid.z;\n  let mBase = wid.y * TILE;\n  let nBase = wid.x * TILE;\n  let baseA = p.offA + z * p.strideA;\n  let baseB = p.offB + z * p.strideB;\n  let tx = lid.x;\n  let ty = lid.y;\n  let flat = ty * 16u + tx;\n  var acc: array<vec4f, 4>;\n  for (var k0 = 0u; k0 < p.K; k0 += TK) {\n    // 256 invocations stage 1024 values of each tile: 4 apiece, along the stored\n    // contiguous axis so that neighbouring invocations read neighbouring memory.\n    for (var i = 0u; i < 4u; i++) {\n      let e = flat + i * 256u;\n      if (TRANS_A) {\n        let m = e % TILE; let k = e / TILE;\n        As[k][m] = readA(baseA, mBase + m, k0 + k);\n      } else {\n        let k = e % TK; let m = e / TK;\n        As[k][m] = readA(baseA, mBase + m, k0 + k);\n      }\n      if (TRANS_B) {\n        let k = e % TK; let n = e / TK;\n        Bs[k][n / 4u][n % 4u] = readB(baseB, k0 + k, nBase + n);\n      } else {\n        let n = e % TILE; let k = e / TILE;\n        Bs[k][n / 4u][n % 4u] = readB(baseB, k0 + k, nBase + n);\n      }\n    }\n    workgroupBarrier();\n    for (var k = 0u; k < TK; k++) {\n      let bv = Bs[k][tx];\n      for (var i = 0u; i < 4u; i++) {\n        acc[i] += As[k][ty + 16u * i] * bv;\n      }\n    }\n    workgroupBarrier();\n  }\n  let n0 = nBase + 4u * tx;\n  if (n0 >= p.N) { return; }\n  for (var i = 0u; i < 4u; i++) {\n    let m = mBase + ty + 16u * i;\n    if (m >= p.M) { break; }\n    mm_store(z, m, n0, acc[i]);\n  }\n}\n";

// kernels/matmul_subgroup.wgsl
var matmul_subgroup_default = "// matmul_subgroup.wgsl: C[z] = epilogue(A[z] \xB7 B[z]) for software drivers with subgroups\n// (lavapipe: a subgroup is the 8 SIMD lanes of one CPU vector). No workgroup memory, no\n// barriers. Each invocation owns a ROWSx4 block of C: ROWS (8 or 16) rows shared by the\n// whole workgroup (rows depend only on the workgroup id) and 4 columns of its own. Per 4\n// steps of k, each lane loads ROWS/8 vec4s of A and the lanes exchange them with\n// subgroupBroadcast (register moves), so A costs one load per lane instead of eight; B\n// costs four vec4 loads per lane. ROWS = 16 is 256 FMAs per 6 vec4 loads (8: 128 per 5;\n// matmul_reg_vec4: 64 per 8).\n// Why loads dominate on lavapipe: a load whose address differs between lanes is compiled\n// to a loop over the 8 lanes with a bounds check per component (about 25 instructions\n// per vec4 per lane), so a vec4 load costs as much as ~100 multiply-adds. This loop runs at\n// ~27% of the adapter's FMA ceiling, and about twice as fast with its operands generated in\n// registers instead of loaded (`npm run bench:limits`, bench/probe_matmul_loads.wgsl).\n// Layout and store hook (mm_store) as matmul_scalar.wgsl:\n//   A(m, k) = a[offA + z*strideA + (TRANS_A ? k*lda + m : m*lda + k)]\n//   B(k, n) = b[offB + z*strideB + (TRANS_B ? n*ldb + k : k*ldb + n)]\n// Requires: the `subgroups` feature with a subgroup size >= 8; the vec4 alignment of\n// matmul_reg_vec4.wgsl (K % 4 == 0; A's and B's contiguous extents, strides and offsets\n// multiples of 4). Row and column edges are clamped (loads) and masked (stores).\n// Bindings: 0 uniform Params, 1 a (vec4), 2 b (vec4); 3.. the epilogue's.\n// Dispatch: (ceil(N / (4*WG_X)), ceil(M / ROWS), batch), workgroup (WG_X, 1, 1).\n// Reference: src/ref/matmul.ts `matmulRef`.\nenable subgroups;\n\noverride TRANS_A: bool = false;\noverride TRANS_B: bool = false;\noverride WG_X: u32 = 32u;\n// Rows of C per workgroup: 8 or 16 (16 halves the B loads per FMA; 8 wastes less on short M).\noverride ROWS: u32 = 16u;\n\nstruct Params {\n  M: u32, N: u32, K: u32, lda: u32,\n  ldb: u32, ldc: u32, strideA: u32, strideB: u32,\n  strideC: u32, strideBias: u32, alpha: f32, offA: u32,\n  offB: u32, offC: u32, offBias: u32, pad: u32,\n}\n@group(0) @binding(0) var<uniform> p: Params;\n// Bindings 1 (a) and 2 (b) and their loaders ldA/ldB come from the operand prelude that\n// src/ops/matmul_kernel.ts appends: f32, or f16 widened to f32 where the adapter has shader-f16.\n\n\n\n// acc += ar.x * B(k, :) + ar.y * B(k+1, :) + ...  (ar: one row of A over 4 values of k)\nfn rank4(acc: vec4f, ar: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> vec4f {\n  if (TRANS_B) {\n    // b_c holds B(k..k+3, n0+c): one dot product per output column.\n    return acc + vec4f(dot(ar, b0), dot(ar, b1), dot(ar, b2), dot(ar, b3));\n  }\n  return acc + ar.x * b0 + ar.y * b1 + ar.z * b2 + ar.w * b3;\n}\n\n// Where this lane's share of an 8 x 4 block of A (rows r0.., 4 values of k) starts.\nfn aIndex(baseA: u32, r0: u32, lane: u32) -> u32 {\n  if (TRANS_A) {\n    // Stored [K, M]: lane l loads A(r0 + 4(l%2) .. +3, k + l/2), a vec4 along m.\n    return (baseA + (lane / 2u) * p.lda + min(r0 + 4u * (lane % 2u), p.M - 4u)) / 4u;\n  }\n  // Stored [M, K]: lane l loads A(r0 + l, k .. k+3), a vec4 along k.\n  return (baseA + min(r0 + lane, p.M - 1u) * p.lda) / 4u;\n}\n\n// Eight rows of C, as values (an array here would live in memory on lavapipe).\nstruct Rows8 { r0: vec4f, r1: vec4f, r2: vec4f, r3: vec4f, r4: vec4f, r5: vec4f, r6: vec4f, r7: vec4f }\n\n// Eight rows of C advanced by 4 steps of k: acc[i] += A(r0 + i, k..k+3) \xB7 B(k..k+3, cols),\n// where av is this lane's share of the 8 x 4 block of A (see aIndex).\nfn step8(acc: Rows8, av: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> Rows8 {\n  var r: Rows8;\n  let l0 = subgroupBroadcast(av, 0u); let l1 = subgroupBroadcast(av, 1u);\n  let l2 = subgroupBroadcast(av, 2u); let l3 = subgroupBroadcast(av, 3u);\n  let l4 = subgroupBroadcast(av, 4u); let l5 = subgroupBroadcast(av, 5u);\n  let l6 = subgroupBroadcast(av, 6u); let l7 = subgroupBroadcast(av, 7u);\n  if (TRANS_A) {\n    // Row r, step j lives in lane 2j + r/4, component r%4.\n    r.r0 = rank4(acc.r0, vec4f(l0.x, l2.x, l4.x, l6.x), b0, b1, b2, b3);\n    r.r1 = rank4(acc.r1, vec4f(l0.y, l2.y, l4.y, l6.y), b0, b1, b2, b3);\n    r.r2 = rank4(acc.r2, vec4f(l0.z, l2.z, l4.z, l6.z), b0, b1, b2, b3);\n    r.r3 = rank4(acc.r3, vec4f(l0.w, l2.w, l4.w, l6.w), b0, b1, b2, b3);\n    r.r4 = rank4(acc.r4, vec4f(l1.x, l3.x, l5.x, l7.x), b0, b1, b2, b3);\n    r.r5 = rank4(acc.r5, vec4f(l1.y, l3.y, l5.y, l7.y), b0, b1, b2, b3);\n    r.r6 = rank4(acc.r6, vec4f(l1.z, l3.z, l5.z, l7.z), b0, b1, b2, b3);\n    r.r7 = rank4(acc.r7, vec4f(l1.w, l3.w, l5.w, l7.w), b0, b1, b2, b3);\n  } else {\n    // Row r lives in lane r.\n    r.r0 = rank4(acc.r0, l0, b0, b1, b2, b3);\n    r.r1 = rank4(acc.r1, l1, b0, b1, b2, b3);\n    r.r2 = rank4(acc.r2, l2, b0, b1, b2, b3);\n    r.r3 = rank4(acc.r3, l3, b0, b1, b2, b3);\n    r.r4 = rank4(acc.r4, l4, b0, b1, b2, b3);\n    r.r5 = rank4(acc.r5, l5, b0, b1, b2, b3);\n    r.r6 = rank4(acc.r6, l6, b0, b1, b2, b3);\n    r.r7 = rank4(acc.r7, l7, b0, b1, b2, b3);\n  }\n  return r;\n}\n\nfn store8(z: u32, r0: u32, n0: u32, acc: Rows8) {\n  let v = array<vec4f, 8>(acc.r0, acc.r1, acc.r2, acc.r3, acc.r4, acc.r5, acc.r6, acc.r7);\n  for (var i = 0u; i < 8u; i++) {\n    if (r0 + i >= p.M) { return; }\n    mm_store(z, r0 + i, n0, v[i]);\n  }\n}\n\n@compute @workgroup_size(WG_X, 1, 1)\nfn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u,\n        @builtin(subgroup_invocation_id) sid: u32) {\n  let n0 = gid.x * 4u;\n  let m0 = wid.y * ROWS;\n  let z = wid.z;\n  let lane = sid % 8u;\n  let baseA = p.offA + z * p.strideA;\n  let baseB = p.offB + z * p.strideB;\n  let ldb4 = p.ldb / 4u;\n  // Per 4 steps of k, A advances 4 elements along a row, or 4 rows of a transposed A.\n  let stepA = select(1u, p.lda, TRANS_A);\n\n  var ia0 = aIndex(baseA, m0, lane);\n  var ia1 = aIndex(baseA, m0 + 8u, lane);\n  // This lane's columns of B.\n  var ib0: u32; var ib1: u32; var ib2: u32; var ib3: u32;\n  if (TRANS_B) {\n    ib0 = (baseB + min(n0 + 0u, p.N - 1u) * p.ldb) / 4u;\n    ib1 = (baseB + min(n0 + 1u, p.N - 1u) * p.ldb) / 4u;\n    ib2 = (baseB + min(n0 + 2u, p.N - 1u) * p.ldb) / 4u;\n    ib3 = (baseB + min(n0 + 3u, p.N - 1u) * p.ldb) / 4u;\n  } else {\n    ib0 = (baseB + min(n0, p.N - 4u)) / 4u;\n  }\n\n  var lo: Rows8;\n  var hi: Rows8;\n  for (var k = 0u; k < p.K; k += 4u) {\n    var b0: vec4f; var b1: vec4f; var b2: vec4f; var b3: vec4f;\n    if (TRANS_B) {\n      b0 = ldB(ib0); b1 = ldB(ib1); b2 = ldB(ib2); b3 = ldB(ib3);\n      ib0 += 1u; ib1 += 1u; ib2 += 1u; ib3 += 1u;\n    } else {\n      b0 = ldB(ib0); b1 = ldB(ib0 + ldb4); b2 = ldB(ib0 + 2u * ldb4); b3 = ldB(ib0 + 3u * ldb4);\n      ib0 += 4u * ldb4;\n    }\n    lo = step8(lo, ldA(ia0), b0, b1, b2, b3);\n    ia0 += stepA;\n    if (ROWS == 16u) {\n      hi = step8(hi, ldA(ia1), b0, b1, b2, b3);\n      ia1 += stepA;\n    }\n  }\n  // Stores only after the loop: every lane took part in every broadcast.\n  if (n0 >= p.N) { return; }\n  store8(z, m0, n0, lo);\n  if (ROWS == 16u) { store8(z, m0 + 8u, n0, hi); }\n}\n";

// kernels/matmul_store.wgsl
var matmul_store_default = "// matmul_store.wgsl: the plain store epilogue of the matmul cores (matmul_scalar,\n// matmul_reg_vec4, matmul_subgroup, matmul_shared), appended to one of them at pipeline\n// creation (src/ops/matmul_kernel.ts). For each column n of the block:\n//   v = act(alpha*acc + bias[offBias + z*strideBias + n] if HAS_BIAS)\n//   C(m, n) = c[offC + z*strideC + m*ldc + n] = v, or += v if ACCUM\n// ACT: 0 none, 1 sigmoid, 2 tanh, 3 relu.\n// Bindings: 3 bias (a dummy when !HAS_BIAS), 4 c.\n// Reference: src/ref/matmul.ts `matmulRef`.\noverride HAS_BIAS: bool = false;\noverride ACT: u32 = 0u;\noverride ACCUM: bool = false;\n\n@group(0) @binding(3) var<storage, read> bias: array<f32>;\n@group(0) @binding(4) var<storage, read_write> c: array<f32>;\n\nfn activate(v: f32) -> f32 {\n  switch ACT {\n    case 1u: { return 1.0 / (1.0 + exp(-v)); }\n    case 2u: { return tanh(clamp(v, -15.0, 15.0)); }\n    case 3u: { return max(v, 0.0); }\n    default: { return v; }\n  }\n}\n\nfn mm_store(z: u32, m: u32, n0: u32, acc: vec4f) {\n  let row = p.offC + z * p.strideC + m * p.ldc;\n  for (var j = 0u; j < 4u; j++) {\n    let n = n0 + j;\n    if (n >= p.N) { return; }\n    var v = p.alpha * acc[j];\n    if (HAS_BIAS) { v += bias[p.offBias + z * p.strideBias + n]; }\n    v = activate(v);\n    if (ACCUM) { v += c[row + n]; }\n    c[row + n] = v;\n  }\n}\n";

// src/ops/matmul_kernel.ts
var MATMUL_CORES = {
  scalar: { name: "matmul_scalar", code: matmul_scalar_default },
  vec4: { name: "matmul_reg_vec4", code: matmul_reg_vec4_default },
  subgroup: { name: "matmul_subgroup", code: matmul_subgroup_default },
  shared: { name: "matmul_shared", code: matmul_shared_default }
};
function operandPrelude(name, binding, vec4, type) {
  const decl = (stored) => `@group(0) @binding(${binding}) var<storage, read> ${name}: array<${stored}>;
`;
  const fn = `fn ld${name.toUpperCase()}(i: u32)`;
  if (type === "f32") return decl(vec4 ? "vec4f" : "f32") + `${fn} -> ${vec4 ? "vec4f" : "f32"} { return ${name}[i]; }
`;
  if (vec4) return decl("vec2u") + `${fn} -> vec4f { let w = ${name}[i]; return vec4f(unpack2x16float(w.x), unpack2x16float(w.y)); }
`;
  return decl("u32") + `${fn} -> f32 { return unpack2x16float(${name}[i / 2u])[i % 2u]; }
`;
}
var composed = /* @__PURE__ */ new Map();
function withEpilogue(variant, epilogue, typeA = "f32", typeB = "f32") {
  const core = MATMUL_CORES[variant];
  const types = typeA === "f32" && typeB === "f32" ? "" : `[${typeA},${typeB}]`;
  const name = `${core.name}${types}+${epilogue.name}`;
  let k = composed.get(name);
  if (!k) {
    const vec4 = variant === "vec4" || variant === "subgroup";
    const code = core.code + `
// ---- operands: a ${typeA}, b ${typeB} ----
` + operandPrelude("a", 1, vec4, typeA) + operandPrelude("b", 2, vec4, typeB) + `// ---- epilogue: ${epilogue.name}.wgsl ----
${epilogue.code}`;
    composed.set(name, k = { name, code });
  }
  return k;
}
var MATMUL_STORE = { name: "matmul_store", code: matmul_store_default };
var Activation = { none: 0, sigmoid: 1, tanh: 2, relu: 3 };
var m4 = (x) => x % 4 === 0;
function vec4Eligible(s) {
  const aContig = s.transA ? s.M : s.K;
  const bContig = s.transB ? s.K : s.N;
  return m4(s.K) && m4(aContig) && m4(s.lda) && m4(s.strideA) && m4(s.offA ?? 0) && m4(bContig) && m4(s.ldb) && m4(s.strideB) && m4(s.offB ?? 0);
}
function subgroupCapable() {
  const info2 = rt().info;
  return info2.features.includes("subgroups") && (info2.subgroupMinSize ?? 0) >= 8;
}
function chooseVariant(s) {
  const v = s.variant;
  if (v) {
    const unfit = variantUnfit(v, s);
    if (!unfit) return v;
    if (s.strictVariant) throw new Error(`flstm: matmul variant ${v} ${unfit}`);
    return "scalar";
  }
  if (rt().info.variant === "gpu") return "shared";
  if (!vec4Eligible(s)) return "scalar";
  return subgroupCapable() ? "subgroup" : "vec4";
}
function variantUnfit(v, s) {
  if (v === "subgroup" && !subgroupCapable()) return 'needs the adapter feature "subgroups" with at least 8 lanes';
  if ((v === "vec4" || v === "subgroup") && !vec4Eligible(s)) {
    return `needs K and the contiguous extents of A and B to be multiples of 4 (M=${s.M}, N=${s.N}, K=${s.K})`;
  }
  return null;
}
function subgroupRows(M) {
  return M % 16 === 0 || M > 64 ? 16 : 8;
}
var GEOMETRY = {
  scalar: { wg: [8, 8], tileM: 32, tileN: 32 },
  vec4: { wg: [8, 8], tileM: 32, tileN: 32 },
  subgroup: { wg: [32, 1], tileM: 16, tileN: 128 },
  // tileM and wg[0] are set per product below
  shared: { wg: [16, 16], tileM: 64, tileN: 64 }
};
function matmulRaw(s) {
  runMatmulCore(s, MATMUL_STORE, {
    HAS_BIAS: !!s.bias,
    ACT: Activation[s.activation ?? "none"],
    ACCUM: !!s.accumulate
  }, [s.bias ?? rt().dummy, s.c]);
}
function runMatmulCore(s, epilogue, overrides, buffers) {
  const variant = chooseVariant(s);
  let g = GEOMETRY[variant];
  const all = { TRANS_A: s.transA, TRANS_B: s.transB, ...overrides };
  if (variant === "scalar" || variant === "vec4") {
    all.WG_X = g.wg[0];
    all.WG_Y = g.wg[1];
  } else if (variant === "subgroup") {
    const wgX = Math.min(g.wg[0], Math.max(8, Math.ceil(s.N / 32) * 8));
    const rows = subgroupRows(s.M);
    g = { wg: [wgX, 1], tileM: rows, tileN: 4 * wgX };
    all.WG_X = wgX;
    all.ROWS = rows;
  }
  rt().run(withEpilogue(variant, epilogue, s.typeA, s.typeB), {
    overrides: all,
    params: [
      s.M,
      s.N,
      s.K,
      s.lda,
      s.ldb,
      s.ldc,
      s.strideA,
      s.strideB,
      s.strideC,
      s.strideBias ?? 0,
      s.alpha ?? 1,
      s.offA ?? 0,
      s.offB ?? 0,
      s.offC ?? 0,
      s.offBias ?? 0,
      0
    ],
    f32Mask: 1 << 10,
    buffers: [s.a, s.b, ...buffers],
    workgroups: [Math.ceil(s.N / g.tileN), Math.ceil(s.M / g.tileM), s.batch]
  });
}

// src/ops/matmul.ts
function dims(a, b, o) {
  const op = "matmul";
  if (a.rank < 2 || a.rank > 3) throw new Error(`flstm: ${op}: a must be 2-D or 3-D, got shape ${fmtShape(a.shape)}`);
  if (b.rank < 2 || b.rank > 3) throw new Error(`flstm: ${op}: b must be 2-D or 3-D, got shape ${fmtShape(b.shape)}`);
  const batchA = a.rank === 3 ? a.shape[0] : 1;
  const batchB = b.rank === 3 ? b.shape[0] : 1;
  if (b.rank === 3 && a.rank === 2) throw new Error(`flstm: ${op}: a 3-D b ${fmtShape(b.shape)} needs a 3-D a, got ${fmtShape(a.shape)}`);
  if (b.rank === 3 && batchA !== batchB) {
    throw new Error(`flstm: ${op}: batch sizes differ: a ${fmtShape(a.shape)}, b ${fmtShape(b.shape)}`);
  }
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const M = o.transposeA ? ac : ar;
  const Ka = o.transposeA ? ar : ac;
  const Kb = o.transposeB ? bc : br;
  const N = o.transposeB ? br : bc;
  if (Ka !== Kb) {
    throw new Error(
      `flstm: ${op}: inner sizes differ: a ${fmtShape(a.shape)}${o.transposeA ? " (transposed)" : ""} has ${Ka}, b ${fmtShape(b.shape)}${o.transposeB ? " (transposed)" : ""} has ${Kb}`
    );
  }
  if (o.bias) {
    assertTensor(o.bias, "matmul bias");
    if (o.bias.rank !== 1 || o.bias.shape[0] !== N) {
      throw new Error(`flstm: ${op}: bias must have shape [${N}], got ${fmtShape(o.bias.shape)}`);
    }
  }
  const outShape = a.rank === 3 ? [batchA, M, N] : [M, N];
  return { batch: batchA, M, K: Ka, N, bShared: a.rank === 3 && b.rank === 2, outShape };
}
function matmul(a, b, opts = {}) {
  assertTensor(a, "matmul(a, b): a");
  assertTensor(b, "matmul(a, b): b");
  for (const [t, name] of [[a, "a"], [b, "b"]]) {
    if (t.dtype === "f16") requireF16("matmul");
    else if (t.dtype !== "f32") throw new Error(`flstm: matmul: ${name} must be f32 or f16, got ${t.dtype} ${fmtShape(t.shape)}`);
  }
  const d = dims(a, b, opts);
  const tA = !!opts.transposeA;
  const tB = !!opts.transposeB;
  const c = out(d.outShape, "f32", "matmul");
  const act = opts.activation ?? "none";
  matmulRaw({
    a: a.buffer,
    b: b.buffer,
    c: c.buffer,
    bias: opts.bias?.buffer,
    M: d.M,
    N: d.N,
    K: d.K,
    batch: d.batch,
    transA: tA,
    transB: tB,
    lda: tA ? d.M : d.K,
    ldb: tB ? d.K : d.N,
    ldc: d.N,
    strideA: d.M * d.K,
    strideB: d.bShared ? 0 : d.K * d.N,
    strideC: d.M * d.N,
    strideBias: 0,
    activation: act,
    variant: opts.variant,
    strictVariant: true,
    typeA: a.dtype,
    typeB: b.dtype
  });
  const inputs = opts.bias ? [a, b, opts.bias] : [a, b];
  return record(c, "matmul", inputs, (g) => {
    const dz = act === "none" ? g : unaryBackwardRaw(act, g, c);
    const grads = matmulBackward(a, b, dz, d, tA, tB, opts.variant);
    if (opts.bias) grads.push(opts.bias.requiresGrad ? reduceRaw(dz, 1, d.batch * d.M, d.N, 1, [d.N]) : null);
    if (dz !== g) dz.dispose();
    return grads;
  });
}
function matmulBackward(a, b, dz, d, tA, tB, variant) {
  const { batch, M, N, K } = d;
  const typeA = a.dtype;
  const typeB = b.dtype;
  let da = null;
  let db = null;
  if (a.requiresGrad) {
    da = out(a.shape, "f32", "matmul.backward");
    const bSpec = { b: b.buffer, ldb: tB ? K : N, strideB: d.bShared ? 0 : K * N };
    if (!tA) {
      matmulRaw({ a: dz.buffer, ...bSpec, c: da.buffer, M, N: K, K: N, batch, transA: false, transB: !tB, lda: N, ldc: K, strideA: M * N, strideC: M * K, variant, typeB });
    } else {
      matmulRaw({ a: b.buffer, lda: tB ? K : N, strideA: d.bShared ? 0 : K * N, b: dz.buffer, ldb: N, strideB: M * N, c: da.buffer, M: K, N: M, K: N, batch, transA: tB, transB: true, ldc: M, strideC: M * K, variant, typeA: typeB });
    }
  }
  if (b.requiresGrad) {
    const target = d.bShared && batch > 1 ? out([batch, ...b.shape], "f32", "matmul.backward") : db = out(b.shape, "f32", "matmul.backward");
    const aSpec = { lda: tA ? M : K, strideA: M * K };
    if (!tB) {
      matmulRaw({ a: a.buffer, ...aSpec, b: dz.buffer, ldb: N, strideB: M * N, c: target.buffer, M: K, N, K: M, batch, transA: !tA, transB: false, ldc: N, strideC: K * N, variant, typeA });
    } else {
      matmulRaw({ a: dz.buffer, lda: N, strideA: M * N, b: a.buffer, ldb: aSpec.lda, strideB: M * K, c: target.buffer, M: N, N: K, K: M, batch, transA: true, transB: tA, ldc: K, strideC: K * N, variant, typeB: typeA });
    }
    if (!db) {
      db = reduceRaw(target, 1, batch, K * N, 1, b.shape);
      target.dispose();
    }
  }
  return [da, db];
}

// kernels/cast_to_f16.wgsl
var cast_to_f16_default = "// cast_to_f16.wgsl: y = f16(x), four elements per invocation (f16 storage for matmul operands).\n// Values past f16's range become +-inf; the rounding is the adapter's (nearest, or toward\n// zero on some), within one f16 ulp either way.\n// Bindings: 0 uniform {n4: vec4 count}, 1 x: array<vec4f> (read), 2 y: array<vec4<f16>>.\n// Buffers are padded to 16 bytes, so the last vec4 stays inside both (its tail is padding).\n// Dispatch: ceil(n4 / 256) workgroups of 256, folded into (x, y) when over 65535 in x.\n// Reference: src/half.ts `roundHalf`.\nenable f16;\n\nstruct Params { n4: u32, pad0: u32, pad1: u32, pad2: u32 }\n@group(0) @binding(0) var<uniform> p: Params;\n@group(0) @binding(1) var<storage, read> x: array<vec4f>;\n@group(0) @binding(2) var<storage, read_write> y: array<vec4<f16>>;\n\n@compute @workgroup_size(256)\nfn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {\n  let i = gid.x + gid.y * nwg.x * 256u;\n  if (i >= p.n4) { return; }\n  y[i] = vec4<f16>(x[i]);\n}\n";

// kernels/cast_to_f32.wgsl
var cast_to_f32_default = "// cast_to_f32.wgsl: y = f32(x) for f16 x, four elements per invocation (exact).\n// Bindings: 0 uniform {n4: vec4 count}, 1 x: array<vec4<f16>> (read), 2 y: array<vec4f>.\n// Dispatch: ceil(n4 / 256) workgroups of 256, folded into (x, y) when over 65535 in x.\n// Reference: src/half.ts `fromHalfBits`.\nenable f16;\n\nstruct Params { n4: u32, pad0: u32, pad1: u32, pad2: u32 }\n@group(0) @binding(0) var<uniform> p: Params;\n@group(0) @binding(1) var<storage, read> x: array<vec4<f16>>;\n@group(0) @binding(2) var<storage, read_write> y: array<vec4f>;\n\n@compute @workgroup_size(256)\nfn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {\n  let i = gid.x + gid.y * nwg.x * 256u;\n  if (i >= p.n4) { return; }\n  y[i] = vec4f(x[i]);\n}\n";

// src/ops/cast.ts
var TO_F16 = { name: "cast_to_f16", code: cast_to_f16_default };
var TO_F32 = { name: "cast_to_f32", code: cast_to_f32_default };
function cast(x, dtype) {
  assertTensor(x, "cast(x)");
  if (dtype !== "f16" && dtype !== "f32") throw new Error(`flstm: cast: dtype must be 'f16' or 'f32', got ${JSON.stringify(dtype)}`);
  if (x.dtype === dtype) return x;
  if (x.dtype === "i32") throw new Error(`flstm: cast: x must be f32 or f16, got i32 ${JSON.stringify(x.shape)}`);
  requireF16("cast");
  const y = castRaw(x, dtype);
  return record(y, `cast.${dtype}`, [x], (g) => [g]);
}
function castRaw(x, dtype) {
  const y = out(x.shape, dtype, `cast.${dtype}`);
  const n4 = Math.ceil(x.size / 4);
  rt().run(dtype === "f16" ? TO_F16 : TO_F32, { params: [n4], buffers: [x.buffer, y.buffer], workgroups: grid1d(n4) });
  return y;
}

// src/train/trainer.ts
init_checkpoint();

// src/train/index.ts
init_checkpoint();
init_safetensors();
init_bundle();

// src/index.ts
gradOps.add = add;
gradOps.onesLike = (t) => ones(t.shape);
async function init2(opts = {}) {
  return (await init(opts)).info;
}
function dispose2() {
  dispose();
}
async function sync() {
  await rt().recorder.finish();
}

// ../../tmp/dbg/mm16.ts
await init2();
var cases = [["X\xB7W", 640, 768, 2048, false, false], ["dG\xB7W^T", 640, 2048, 768, false, true], ["1024^3", 1024, 1024, 1024, false, false], ["softmax H\xB7W^T", 640, 512, 1e4, false, true], ["softmax dL\xB7W", 640, 1e4, 512, false, false]];
for (const [name, M, K, N, tA, tB] of cases) {
  const a = randn([M, K], { seed: 1 });
  const b = randn(tB ? [N, K] : [K, N], { seed: 2 });
  const b16 = cast(b, "f16");
  const a16 = cast(a, "f16");
  const time = async (x, y) => {
    for (let i = 0; i < 2; i++) matmul(x, y, { transposeB: tB }).dispose();
    await sync();
    const t0 = performance.now();
    const n = 5;
    for (let i = 0; i < n; i++) matmul(x, y, { transposeB: tB }).dispose();
    await sync();
    return (performance.now() - t0) / n;
  };
  const r = [[], [], []];
  for (let k = 0; k < 3; k++) {
    r[0].push(await time(a, b));
    r[1].push(await time(a, b16));
    r[2].push(await time(a16, b16));
  }
  const med = (v) => v.sort((p, q) => p - q)[1];
  const gf = (ms) => (2 * M * N * K / ms / 1e6).toFixed(1);
  console.log(`${name.padEnd(16)} f32 ${gf(med(r[0]))}  B f16 ${gf(med(r[1]))}  A,B f16 ${gf(med(r[2]))} GFLOP/s`);
}
dispose2();
