// What a kernel is: its WGSL source, the files a composed one's lines came from, and its
// uniform fields as types. Below both the pipeline cache and the composer (src/gpu/compose.ts),
// which the cache asks where a compile error's line came from.
import type { KernelFileUniforms } from './kernel_uniforms.js';

/** A kernel's uniform bindings as types: binding number -> the fields its call sites pass. */
export type UniformSpec = { [binding: number]: Record<string, number> };

export interface KernelSource<U extends UniformSpec = UniformSpec> {
  /** Name used in errors and labels, e.g. "matmul_reg_vec4"; the cache goes by `code`. */
  name: string;
  code: string;
  entryPoint?: string;
  /** For a composed kernel (gpu/compose.ts): the files its lines came from, in order. */
  parts?: SourcePart[];
  /** Never set: carries the uniform fields' types (from kernel_uniforms.ts) to the call sites. */
  readonly uniformTypes?: U;
}

/** The kernel in kernels/<name>.wgsl, typed by the uniform structs that file declares. */
export function kernelFile<N extends keyof KernelFileUniforms>(name: N, code: string): KernelSource<KernelFileUniforms[N]> {
  return { name, code };
}

/** `lines` consecutive lines of a composed kernel's code that came from `file`. */
export interface SourcePart {
  file: string;
  lines: number;
}
