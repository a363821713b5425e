// The uniform fields of every kernel file are types at the call sites (src/gpu/kernel_uniforms.ts,
// generated from the WGSL): this file checks that the generated types match the kernels, that
// every kernel file the library imports is typed by its own file name, and (under tsc, which
// `npm test` runs) that a call site passing a field its struct lacks does not compile.
import { describe, expect, it } from 'vitest';
import ts from 'typescript';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { uniformTypesModule, UNIFORM_TYPES_FILE } from '../src/gpu/uniform_types.js';
import { kernelFile, type KernelSource } from '../src/gpu/pipelines.js';
import { uniform } from '../src/gpu/uniforms.js';
import { rt } from '../src/gpu/runtime.js';
import { withEpilogue } from '../src/ops/matmul_kernel.js';
import sgdSrc from '../kernels/optim_sgd.wgsl';
import cellStoreSrc from '../kernels/lstm_cell_store.wgsl';
import { useDevice } from './helpers.js';

useDevice();

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Each default import of a .wgsl file in `file`, with the names kernelFile() is called with on it. */
function wgslImports(file: string): { wgsl: string; local: string; kernelFileNames: string[] }[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const imports: { wgsl: string; local: string; kernelFileNames: string[] }[] = [];
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier) || !st.moduleSpecifier.text.endsWith('.wgsl')) continue;
    const local = st.importClause?.name?.text;
    if (local) imports.push({ wgsl: st.moduleSpecifier.text, local, kernelFileNames: [] });
  }
  const visit = (n: ts.Node) => {
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'kernelFile' && n.arguments.length === 2) {
      const [name, code] = n.arguments;
      const imp = imports.find((i) => ts.isIdentifier(code) && code.text === i.local);
      if (imp && ts.isStringLiteral(name)) imp.kernelFileNames.push(name.text);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return imports;
}

describe('kernel uniform types', () => {
  it(`${UNIFORM_TYPES_FILE} is what kernels/*.wgsl declare (else: npm run gen:uniforms)`, () => {
    const files = readdirSync('kernels')
      .filter((n) => n.endsWith('.wgsl'))
      .map((n) => ({ name: n.slice(0, -5), code: readFileSync(join('kernels', n), 'utf8') }));
    expect(readFileSync(UNIFORM_TYPES_FILE, 'utf8')).toBe(uniformTypesModule(files));
  });

  it('every kernel file the library imports is made a kernel by kernelFile() under its own file name', () => {
    const found: string[] = [];
    for (const file of sourceFiles('src')) {
      for (const imp of wgslImports(file)) {
        const name = basename(imp.wgsl, '.wgsl');
        found.push(name);
        expect(
          imp.kernelFileNames,
          `${file}: ${imp.wgsl} (imported as ${imp.local}) must reach kernelFile('${name}', ${imp.local})`,
        ).toEqual([name]);
      }
    }
    expect(found.length).toBeGreaterThan(20);
  });

  it('a uniform given at a binding other than the one it was made for is refused', () => {
    const store = withEpilogue('scalar', kernelFile('lstm_cell_store', cellStoreSrc));
    const fields = { n: 1, ldAdd: 1, offAdd: 0, offCprev: 0, offGates: 0, offC: 0, offM: 0 };
    const d = rt().dummy;
    const params = {
      M: 1,
      N: 1,
      K: 1,
      lda: 1,
      ldb: 1,
      ldc: 1,
      strideA: 0,
      strideB: 0,
      strideC: 0,
      strideBias: 0,
      alpha: 1,
      offA: 0,
      offB: 0,
      offC: 0,
      offBias: 0,
    };
    expect(() => rt().run(store, { params, buffers: [d, d, d, uniform(store, 7, fields), d, d, d], workgroups: [1, 1, 1] })).toThrow(
      /the uniform for binding 7 was given at binding 4/,
    );
  });
});

// Type checks (tsc, run by `npm test`): each line below must fail to compile, or tsc reports
// the unused @ts-expect-error. Never called: the runtime checks have their own tests.
export function callSitesThatDoNotCompile(k: KernelSource<any>): void {
  const sgd = kernelFile('optim_sgd', sgdSrc);
  const ok = { n: 1, d: 1, lr: 0.1, momentum: 0, clipped: 0 };
  const buffers = [k.code as unknown as GPUBuffer];
  rt().run(sgd, { params: ok, buffers, workgroups: [1] });
  // @ts-expect-error a field optim_sgd's Params lacks
  rt().run(sgd, { params: { ...ok, beta: 1 }, buffers, workgroups: [1] });
  // @ts-expect-error a field misspelt (momentum)
  rt().run(sgd, { params: { n: 1, d: 1, lr: 0.1, momentun: 0, clipped: 0 }, buffers, workgroups: [1] });
  // @ts-expect-error a field missing (clipped)
  rt().run(sgd, { params: { n: 1, d: 1, lr: 0.1, momentum: 0 }, buffers, workgroups: [1] });
  // @ts-expect-error a field of the wrong type
  rt().run(sgd, { params: { ...ok, lr: '0.1' }, buffers, workgroups: [1] });
  // @ts-expect-error no params for a kernel that declares a uniform at binding 0
  rt().run(sgd, { buffers, workgroups: [1] });
  // @ts-expect-error a kernel file that does not exist
  kernelFile('optim_sgdd', sgdSrc);
  const store = kernelFile('lstm_cell_store', cellStoreSrc);
  uniform(store, 7, { n: 1, ldAdd: 1, offAdd: 0, offCprev: 0, offGates: 0, offC: 0, offM: 0 });
  // @ts-expect-error a binding where lstm_cell_store declares no uniform
  uniform(store, 6, { n: 1, ldAdd: 1, offAdd: 0, offCprev: 0, offGates: 0, offC: 0, offM: 0 });
  // @ts-expect-error a field CellParams lacks
  uniform(store, 7, { n: 1, ldAdd: 1, offAdd: 0, offCprev: 0, offGates: 0, offC: 0, offM: 0, offX: 0 });
  // prettier-ignore
  // @ts-expect-error the matmul contract's Params at binding 0 of a composed kernel: M missing
  rt().run(withEpilogue('scalar', store), { params: { N: 1, K: 1, lda: 1, ldb: 1, ldc: 1, strideA: 0, strideB: 0, strideC: 0, strideBias: 0, alpha: 1, offA: 0, offB: 0, offC: 0, offBias: 0 }, buffers, workgroups: [1] });
}
