// Explicit bind group layouts, read from a kernel's WGSL binding declarations.
//
// `layout: 'auto'` cannot declare dynamic offsets, and gives every pipeline a layout of its
// own, so bind groups could not be shared between pipelines. Here a kernel's group-0
// bindings become a signature such as "u,r,r,w" (uniform, read-only storage, read-write
// storage); kernels with one signature share one layout, and a bind group made for one of
// them serves all of them. Uniform bindings take their dynamic offset into the parameter
// ring (params.ts).

export type BindingKind = 'u' | 'r' | 'w';

const DECL = /@group\(\s*0\s*\)\s*@binding\(\s*(\d+)\s*\)\s*var\s*<\s*(uniform|storage)\s*(?:,\s*(read_write|read)\s*)?>/g;

/** The kinds of a kernel's group-0 bindings, by binding number (comments ignored). */
export function bindingKinds(kernelName: string, code: string): BindingKind[] {
  const text = code.replace(/\/\/[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
  const kinds: BindingKind[] = [];
  for (const m of text.matchAll(DECL)) {
    const i = Number(m[1]);
    const kind: BindingKind = m[2] === 'uniform' ? 'u' : m[3] === 'read_write' ? 'w' : 'r';
    if (kinds[i] !== undefined) throw new Error(`flstm: kernel ${kernelName} declares @binding(${i}) twice`);
    kinds[i] = kind;
  }
  for (let i = 0; i < kinds.length; i++) {
    if (kinds[i] === undefined) throw new Error(`flstm: kernel ${kernelName} skips @binding(${i}); bindings must be numbered 0, 1, 2, ...`);
  }
  return kinds;
}

export interface Layout {
  /** Small integer per distinct signature, for bind group cache keys. */
  id: number;
  kinds: BindingKind[];
  bindGroupLayout: GPUBindGroupLayout;
  pipelineLayout: GPUPipelineLayout;
}

export class LayoutCache {
  private layouts = new Map<string, Layout>();
  constructor(private device: GPUDevice) {}

  get(kinds: BindingKind[]): Layout {
    const sig = kinds.join(',');
    let l = this.layouts.get(sig);
    if (l) return l;
    const bindGroupLayout = this.device.createBindGroupLayout({
      label: `flstm.layout(${sig})`,
      entries: kinds.map((k, binding) => ({
        binding,
        visibility: 0x4 /* COMPUTE */,
        buffer:
          k === 'u'
            ? { type: 'uniform' as const, hasDynamicOffset: true }
            : { type: k === 'w' ? ('storage' as const) : ('read-only-storage' as const) },
      })),
    });
    const pipelineLayout = this.device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] });
    l = { id: this.layouts.size + 1, kinds, bindGroupLayout, pipelineLayout };
    this.layouts.set(sig, l);
    return l;
  }
}
