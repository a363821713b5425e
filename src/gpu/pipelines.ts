// Shader modules and compute pipelines, cached by the kernel's code (and entry point and
// override constants): two sources that share a name never share a module.
// Compile errors come back with the kernel's name and the offending source lines.
import { bindingKinds, LayoutCache, type Layout } from './layouts.js';
import { sourceLine } from './compose.js';
import { uniformBindings, type UniformLayout } from './uniforms.js';
import type { KernelSource } from './kernel_source.js';

export { kernelFile, type KernelSource, type SourcePart, type UniformSpec } from './kernel_source.js';

export type Overrides = Record<string, number | boolean>;

/** Formats WGSL compiler messages with the lines they point at. */
export function formatCompileMessages(kernel: KernelSource, messages: readonly GPUCompilationMessage[]): string {
  const lines = kernel.code.split('\n');
  const out: string[] = [];
  for (const m of messages) {
    if (m.type !== 'error') continue;
    const at = sourceLine(kernel, m.lineNum);
    const composed = kernel.parts ? ` (line ${m.lineNum} of the composed kernel)` : '';
    out.push(`${at.file}:${at.line}:${m.linePos}: ${m.type}: ${m.message}${composed}`);
    for (let l = Math.max(1, m.lineNum - 2); l <= Math.min(lines.length, m.lineNum + 1); l++) {
      out.push(`${l === m.lineNum ? '>' : ' '} ${String(l).padStart(4)} | ${lines[l - 1]}`);
      if (l === m.lineNum && m.linePos > 0) out.push(`       | ${' '.repeat(m.linePos - 1)}^`);
    }
  }
  return out.join('\n');
}

export class KernelCompileError extends Error {
  constructor(
    public kernel: string,
    public details: string,
  ) {
    super(`flstm: WGSL kernel "${kernel}" failed to compile:\n${details}`);
    this.name = 'KernelCompileError';
  }
}

export class PipelineCache {
  // Keyed by the code itself: a Map hashes a string once per string object, so the key is
  // exact (no collisions) and costs nothing for the constant sources used at every dispatch.
  private modules = new Map<string, GPUShaderModule>();
  private pipelines = new Map<string, Map<string, GPUComputePipeline>>();
  private layoutOfPipeline = new WeakMap<GPUComputePipeline, Layout>();
  private kernelKinds = new Map<string, ReturnType<typeof bindingKinds>>();
  private kernelUniforms = new Map<string, Map<number, UniformLayout>>();
  readonly layouts: LayoutCache;
  /** Errors found asynchronously (compilation info, validation) are reported at the next sync point. */
  pendingErrors: Error[] = [];

  constructor(private device: GPUDevice) {
    this.layouts = new LayoutCache(device);
  }

  module(kernel: KernelSource): GPUShaderModule {
    let m = this.modules.get(kernel.code);
    if (m) return m;
    m = this.device.createShaderModule({ code: kernel.code, label: kernel.name });
    this.modules.set(kernel.code, m);
    void m.getCompilationInfo().then((info) => {
      if (info.messages.some((x) => x.type === 'error')) {
        this.pendingErrors.push(new KernelCompileError(kernel.name, formatCompileMessages(kernel, info.messages)));
      }
    });
    return m;
  }

  /** Compiles a kernel and waits for the compiler's verdict (used at init and in tests). */
  async check(kernel: KernelSource): Promise<void> {
    // The scope keeps the error from also reaching the device's uncaptured-error handler,
    // which would report it again at the next unrelated readback.
    this.device.pushErrorScope('validation');
    const m = this.device.createShaderModule({ code: kernel.code, label: kernel.name });
    const scoped = this.device.popErrorScope();
    const info = await m.getCompilationInfo();
    const err = await scoped;
    if (info.messages.some((x) => x.type === 'error')) {
      throw new KernelCompileError(kernel.name, formatCompileMessages(kernel, info.messages));
    }
    if (err) throw new KernelCompileError(kernel.name, err.message);
  }

  get(kernel: KernelSource, overrides: Overrides = {}): GPUComputePipeline {
    const variant = (kernel.entryPoint ?? 'main') + JSON.stringify(overrides);
    let ofCode = this.pipelines.get(kernel.code);
    if (!ofCode) this.pipelines.set(kernel.code, (ofCode = new Map()));
    let p = ofCode.get(variant);
    if (p) return p;
    const key = kernel.name + JSON.stringify(overrides);
    const constants: Record<string, number> = {};
    for (const [k, v] of Object.entries(overrides)) constants[k] = typeof v === 'boolean' ? Number(v) : v;
    let kinds = this.kernelKinds.get(kernel.code);
    if (!kinds) this.kernelKinds.set(kernel.code, (kinds = bindingKinds(kernel.name, kernel.code)));
    const layout = this.layouts.get(kinds);
    this.device.pushErrorScope('validation');
    p = this.device.createComputePipeline({
      label: key,
      layout: layout.pipelineLayout,
      compute: { module: this.module(kernel), entryPoint: kernel.entryPoint ?? 'main', constants },
    });
    void this.device.popErrorScope().then((err) => {
      if (err) this.pendingErrors.push(new KernelCompileError(kernel.name, `pipeline ${key}: ${err.message}`));
    });
    ofCode.set(variant, p);
    this.layoutOfPipeline.set(p, layout);
    return p;
  }

  /** The layouts of a kernel's uniform structs, by binding (read once per code). */
  uniforms(kernel: KernelSource): Map<number, UniformLayout> {
    let u = this.kernelUniforms.get(kernel.code);
    if (!u) this.kernelUniforms.set(kernel.code, (u = uniformBindings(kernel.name, kernel.code)));
    return u;
  }

  /** The explicit layout a pipeline was made with (its bindings' kinds). */
  layout(p: GPUComputePipeline): Layout {
    return this.layoutOfPipeline.get(p)!;
  }

  get size(): number {
    let n = 0;
    for (const ofCode of this.pipelines.values()) n += ofCode.size;
    return n;
  }
}
