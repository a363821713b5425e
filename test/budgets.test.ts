// Budgets of the source tree's layout, checked by scanning src/ with the TypeScript compiler.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(__dirname, '../src');
const ENTRY_POINTS = new Set([join(SRC, 'index.ts')]);

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
  it('no module under src/ but the entry point imports src/index.ts', () => {
    const bad = sources().filter((f) => !ENTRY_POINTS.has(f) && importsOf(f).includes(join(SRC, 'index.ts')));
    expect(bad.map((f) => f.slice(SRC.length + 1))).toEqual([]);
  });

  it('no registration hook: tensor.ts and autograd.ts export no register* or gradOps', () => {
    for (const f of ['tensor.ts', 'autograd.ts']) {
      const text = readFileSync(join(SRC, f), 'utf8');
      expect(text).not.toMatch(/export (function|const|let) (register\w*|gradOps)\b/);
    }
  });
});
