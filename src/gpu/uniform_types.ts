// The TypeScript side of the kernels' uniform structs, generated from the WGSL: one interface
// that maps each kernel file to the fields its call sites pass, binding by binding, so that a
// missing, extra or misspelt field is a compile error at the call site (tsc), before the
// run-time check in uniforms.ts would refuse it at the first dispatch.
import { uniformBindings } from './uniforms.js';

/** The generated module's path, relative to the repository root. */
export const UNIFORM_TYPES_FILE = 'src/gpu/kernel_uniforms.ts';

function bindingType(name: string, code: string): string {
  const bindings = [...uniformBindings(name, code)].sort((x, y) => x[0] - y[0]);
  if (!bindings.length) return '{}';
  const fields = bindings.map(([binding, layout]) => `${binding}: { ${layout.given.map((f) => `${f.name}: number`).join('; ')} }`);
  return `{ ${fields.join('; ')} }`;
}

/** The text of src/gpu/kernel_uniforms.ts for the kernel files `files` ({ name: file name less .wgsl, code }). */
export function uniformTypesModule(files: { name: string; code: string }[]): string {
  const rows = [...files].sort((x, y) => (x.name < y.name ? -1 : 1)).map((f) => `  ${f.name}: ${bindingType(f.name, f.code)};`);
  return [
    '// Generated from the uniform structs of kernels/*.wgsl by `npm run gen:uniforms`: do not edit.',
    '// test/kernel-uniforms.test.ts fails when this file and the kernels disagree.',
    '//',
    '// Per kernel file, its uniform bindings, each with the fields a call site passes (padding',
    '// fields excluded: they are written 0). u32, i32 and f32 fields are all numbers here; the',
    '// run-time packing checks that a u32 or i32 value is an integer in range.',
    'export interface KernelFileUniforms {',
    ...rows,
    '}',
    '',
  ].join('\n');
}
