// Kernels made of several pieces (WGSL has no includes): a core, a generated prelude, an
// epilogue file. The composed source remembers which lines came from which file, so that a
// compile error names the real file and line, not a line of a source that exists nowhere.
import type { KernelSource, SourcePart, UniformSpec } from './kernel_source.js';

/** A piece of a composed kernel: a kernel file (itself perhaps composed) or generated code. */
export type Piece = KernelSource<any> | { generated: string; code: string };

/** The uniform bindings of all the pieces together (generated code declares none). */
type UniformsOf<P> = P extends KernelSource<infer U> ? U : {};
type Intersect<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
export type ComposedUniforms<P extends readonly Piece[]> = Intersect<UniformsOf<P[number]>> & UniformSpec;

function lineCount(code: string): number {
  let n = 0;
  for (let i = code.indexOf('\n'); i >= 0; i = code.indexOf('\n', i + 1)) n++;
  return n;
}

/** Each piece's own parts: a kernel's file is kernels/<name>.wgsl unless it is composed. */
function partsOf(piece: Piece, code: string): SourcePart[] {
  if ('generated' in piece) return [{ file: `(generated: ${piece.generated})`, lines: lineCount(code) }];
  return piece.parts ?? [{ file: `kernels/${piece.name}.wgsl`, lines: lineCount(code) }];
}

/** Concatenates `pieces` (each ended by a newline) into one kernel called `name`. */
export function composeKernel<P extends readonly Piece[]>(name: string, pieces: P): KernelSource<ComposedUniforms<P>> {
  let code = '';
  const parts: SourcePart[] = [];
  for (const piece of pieces) {
    const text = piece.code.endsWith('\n') ? piece.code : piece.code + '\n';
    code += text;
    parts.push(...partsOf(piece, text));
  }
  return { name, code, parts };
}

/** The file and line (1-based) that line `line` of a composed kernel came from. */
export function sourceLine(kernel: KernelSource, line: number): { file: string; line: number } {
  let first = 1;
  for (const part of kernel.parts ?? []) {
    if (line < first + part.lines) return { file: part.file, line: line - first + 1 };
    first += part.lines;
  }
  return { file: `${kernel.name}.wgsl`, line };
}
