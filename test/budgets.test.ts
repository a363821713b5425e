// Budgets of the source tree's layout, checked by scanning src/ with the TypeScript compiler.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(__dirname, '../src');
/** The package's entry points (Node, browser) and the barrels they re-export: re-exports only. */
const ENTRY_POINTS = new Set(['index.ts', 'browser.ts', 'surface.ts'].map((f) => join(SRC, f)));
const REEXPORTS_ONLY = [...ENTRY_POINTS, ...['train/index.ts', 'train/portable.ts', 'nn/index.ts', 'optim/index.ts', 'data/index.ts'].map((f) => join(SRC, f))];

function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : []));
}

/** The files a module imports or re-exports from (relative specifiers, resolved to .ts). */
function importsOf(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      const spec = n.moduleSpecifier.text;
      if (spec.startsWith('.')) out.push(resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

describe('budgets', () => {
  it('no module under src/ but the entry points imports an entry point', () => {
    const bad = sources().filter((f) => !ENTRY_POINTS.has(f) && importsOf(f).some((i) => ENTRY_POINTS.has(i)));
    expect(bad.map((f) => f.slice(SRC.length + 1))).toEqual([]);
  });

  it('the entry points and the barrels only re-export', () => {
    for (const f of REEXPORTS_ONLY) {
      const sf = ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.Latest);
      const other = sf.statements.filter((st) => !(ts.isExportDeclaration(st) && st.moduleSpecifier));
      expect(other.map((st) => st.getText(sf).slice(0, 60)), f).toEqual([]);
    }
  });

  it('no registration hook: tensor.ts and autograd.ts export no register* or gradOps', () => {
    for (const f of ['tensor.ts', 'autograd.ts']) {
      const text = readFileSync(join(SRC, f), 'utf8');
      expect(text).not.toMatch(/export (function|const|let) (register\w*|gradOps)\b/);
    }
  });
});
