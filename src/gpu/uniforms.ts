// A kernel's uniform structs, read from its WGSL: the one declaration host and kernel share.
//
// Call sites pass parameters by field name ({ n, lr, clipped }); the words are laid out from
// the struct the kernel itself declares, u32 or f32 by the field's WGSL type. A field the
// struct lacks, one it has that is not given, or a value its type cannot hold is an error
// naming the kernel and the field, so host and kernel cannot drift apart word by word.
// The same fields are types at the call sites (kernel_uniforms.ts, generated from the WGSL by
// uniform_types.ts), so tsc refuses such a call site before it runs.
import { Uniform } from './params.js';

export type UniformFieldType = 'u32' | 'i32' | 'f32';

export interface UniformField {
  name: string;
  type: UniformFieldType;
}

/** A uniform struct's layout: every field one 4-byte word, in declaration order. */
export interface UniformLayout {
  struct: string;
  fields: UniformField[];
  /** Fields the host gives (the struct's fields less its padding). */
  given: UniformField[];
  /** Per field: padding (written 0), read once here rather than at every dispatch. */
  padding: boolean[];
  /** Bit i set: word i is an f32. */
  f32Mask: number;
}

/** Named values for one uniform struct. */
export type UniformValues = Record<string, number>;

/** Parameters for a uniform bound after binding 0 (the call site names the fields). */
export class UniformFields {
  /** `binding`: where the kernel declares the struct (checked against the position it is bound at). */
  constructor(
    readonly values: UniformValues,
    readonly binding: number,
  ) {}
}

/**
 * The fields of the uniform `kernel` declares at `binding`, for its `buffers` list: typed by
 * the kernel's struct there (a missing, extra or misspelt field does not compile).
 */
export function uniform<U extends { [binding: number]: UniformValues }, B extends keyof U & number>(
  _kernel: { readonly uniformTypes?: U },
  binding: B,
  values: U[B],
): UniformFields {
  return new UniformFields(values, binding);
}

/** Fields named pad, pad0, pad1, ... only round a struct up to 16 bytes; they are written 0. */
const PADDING = /^pad\d*$/;
const SCALARS = new Set<string>(['u32', 'i32', 'f32']);

export function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
}

/** Every struct the code declares, as name -> field list (name and type as written). */
export function structFields(code: string): Map<string, { name: string; type: string }[]> {
  const structs = new Map<string, { name: string; type: string }[]>();
  for (const m of stripComments(code).matchAll(/\bstruct\s+(\w+)\s*\{([^}]*)\}/g)) {
    const fields = m[2]
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean)
      .map((f) => {
        const at = f.match(/^(\w+)\s*:\s*([\w<>]+)$/);
        if (!at) throw new Error(`flstm: cannot read the field "${f}" of struct ${m[1]}`);
        return { name: at[1], type: at[2] };
      });
    structs.set(m[1], fields);
  }
  return structs;
}

/** The layout of struct `struct` in `code`, whose fields must be 4-byte scalars. */
export function uniformLayout(kernelName: string, code: string, struct: string): UniformLayout {
  const fields = structFields(code).get(struct);
  if (!fields) throw new Error(`flstm: kernel ${kernelName} declares no struct ${struct}`);
  let f32Mask = 0;
  const typed = fields.map((f, i) => {
    if (!SCALARS.has(f.type)) {
      throw new Error(`flstm: kernel ${kernelName}: field ${struct}.${f.name} is ${f.type}; uniform fields must be u32, i32 or f32`);
    }
    if (f.type === 'f32') f32Mask |= 1 << i;
    return { name: f.name, type: f.type as UniformFieldType };
  });
  const padding = typed.map((f) => PADDING.test(f.name));
  return { struct, fields: typed, given: typed.filter((_, i) => !padding[i]), padding, f32Mask };
}

const UNIFORM_DECL = /@group\(\s*0\s*\)\s*@binding\(\s*(\d+)\s*\)\s*var\s*<\s*uniform\s*>\s*\w+\s*:\s*(\w+)\s*;/g;

/** The layouts of a kernel's uniform bindings, by binding number. */
export function uniformBindings(kernelName: string, code: string): Map<number, UniformLayout> {
  const out = new Map<number, UniformLayout>();
  for (const m of stripComments(code).matchAll(UNIFORM_DECL)) out.set(Number(m[1]), uniformLayout(kernelName, code, m[2]));
  return out;
}

function checkValue(kernelName: string, layout: UniformLayout, f: UniformField, v: unknown): void {
  const where = `kernel ${kernelName}: ${layout.struct}.${f.name}`;
  if (typeof v !== 'number')
    throw new Error(`flstm: ${where} is ${v === undefined ? 'missing' : `${typeof v} ${String(v)}`}; expected a number (${f.type})`);
  if (f.type === 'u32' && v >>> 0 !== v) throw new Error(`flstm: ${where} = ${v}; expected an integer in [0, 2^32) (u32)`);
  if (f.type === 'i32' && (v | 0) !== v) throw new Error(`flstm: ${where} = ${v}; expected an integer in [-2^31, 2^31) (i32)`);
}

function refuseExtraFields(kernelName: string, layout: UniformLayout, values: UniformValues): void {
  const extra = Object.keys(values).filter((k) => !layout.given.some((f) => f.name === k));
  if (extra.length) {
    throw new Error(
      `flstm: kernel ${kernelName}: ${layout.struct} has no field ${extra.join(', ')} (fields: ${layout.given.map((f) => f.name).join(', ')})`,
    );
  }
}

/** The words of one uniform block, checked field by field against the struct. */
export function packUniform(kernelName: string, layout: UniformLayout, values: UniformValues): Uniform {
  let count = 0;
  for (const k in values) count++;
  if (count !== layout.given.length) refuseExtraFields(kernelName, layout, values);
  const words = new Array<number>(layout.fields.length);
  for (let i = 0; i < layout.fields.length; i++) {
    const f = layout.fields[i];
    if (layout.padding[i]) {
      words[i] = 0;
      continue;
    }
    const v = values[f.name];
    // A misspelt field is both missing and extra: name the spelling the struct lacks.
    if (v === undefined) refuseExtraFields(kernelName, layout, values);
    checkValue(kernelName, layout, f, v);
    words[i] = f.type === 'i32' ? v >>> 0 : v;
  }
  return new Uniform(words, layout.f32Mask);
}

/**
 * Word indices of a struct the host reads back (a storage struct of 4-byte scalars), checked
 * against the names and types the host expects: a field renamed, retyped or missing in the
 * WGSL is an error when the module loads, not a misread word.
 */
export function structWords<K extends string>(
  file: string,
  code: string,
  struct: string,
  expected: Record<K, UniformFieldType>,
): Record<K, number> {
  const layout = uniformLayout(file, code, struct);
  const index = {} as Record<K, number>;
  for (const [name, type] of Object.entries(expected) as [K, UniformFieldType][]) {
    const i = layout.fields.findIndex((f) => f.name === name);
    if (i < 0 || layout.fields[i].type !== type) {
      throw new Error(
        `flstm: ${file}: struct ${struct} has ${i < 0 ? `no field ${name}` : `${name}: ${layout.fields[i].type}`}; the host reads ${name}: ${type}`,
      );
    }
    index[name] = i;
  }
  return index;
}
