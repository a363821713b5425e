// Budgets of the source tree's layout, checked by scanning src/ with the TypeScript compiler.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(__dirname, '../src');
/** The package's entry points (Node, browser) and the barrels they re-export: re-exports only. */
const ENTRY_POINTS = new Set(['index.ts', 'browser.ts', 'surface.ts'].map((f) => join(SRC, f)));
const REEXPORTS_ONLY = [
  ...ENTRY_POINTS,
  ...['train/index.ts', 'train/portable.ts', 'nn/index.ts', 'optim/index.ts', 'data/index.ts'].map((f) => join(SRC, f)),
];

function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );
}

/**
 * The files a module imports or re-exports from (relative specifiers, resolved to .ts): import
 * and export declarations, type-only ones included, and import('...') as a call or a type.
 */
function importsOf(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const out: string[] = [];
  const add = (spec: ts.Node | undefined): void => {
    if (spec && ts.isStringLiteral(spec) && spec.text.startsWith('.')) out.push(resolve(dirname(file), spec.text).replace(/\.js$/, '.ts'));
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) add(n.moduleSpecifier);
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) add(n.arguments[0]);
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) add(n.argument.literal);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/**
 * The import cycles among `files`, one per strongly connected component of the import graph,
 * each as a path of modules that comes back to its first: "a.ts -> b.ts -> a.ts".
 */
function importCycles(files: string[]): string[] {
  const edges = new Map(files.map((f) => [f, importsOf(f)]));
  // Tarjan's algorithm: a component is complete when its first-visited module is finished.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const components: string[][] = [];
  const visit = (f: string): void => {
    index.set(f, index.size);
    low.set(f, index.get(f)!);
    stack.push(f);
    for (const g of edges.get(f) ?? []) {
      if (!edges.has(g)) continue;
      if (!index.has(g)) {
        visit(g);
        low.set(f, Math.min(low.get(f)!, low.get(g)!));
      } else if (stack.includes(g)) low.set(f, Math.min(low.get(f)!, index.get(g)!));
    }
    if (low.get(f) !== index.get(f)) return;
    const component = stack.splice(stack.indexOf(f));
    if (component.length > 1 || edges.get(f)!.includes(f)) components.push(component);
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return components.map((c) => {
    const path = cyclePath(c, edges)
      .map((f) => relative(SRC, f))
      .join(' -> ');
    const all =
      c.length + 1 > path.split(' -> ').length
        ? ` (one of the cycles among ${c.length} modules: ${c
            .map((f) => relative(SRC, f))
            .sort()
            .join(', ')})`
        : '';
    return path + all;
  });
}

/** A shortest path from the component's first module back to itself, inside the component. */
function cyclePath(component: string[], edges: Map<string, string[]>): string[] {
  const inside = new Set(component);
  const from = new Map<string, string>();
  const queue = [component[0]];
  for (let i = 0; i < queue.length; i++) {
    for (const g of edges.get(queue[i])!) {
      if (!inside.has(g) || from.has(g)) continue;
      from.set(g, queue[i]);
      if (g === component[0]) break;
      queue.push(g);
    }
    if (from.has(component[0])) break;
  }
  const path = [component[0]];
  for (let f = from.get(component[0])!; f !== component[0]; f = from.get(f)!) path.unshift(f);
  return [component[0], ...path];
}

describe('budgets', () => {
  it('no module under src/ but the entry points imports an entry point', () => {
    const bad = sources().filter((f) => !ENTRY_POINTS.has(f) && importsOf(f).some((i) => ENTRY_POINTS.has(i)));
    expect(bad.map((f) => f.slice(SRC.length + 1))).toEqual([]);
  });

  // Each module imports only modules below it, so the modules form layers (gpu/ under the tape,
  // the tape under the tensors, the tensors under the ops, ...) and any one of them can be read,
  // loaded and tested with only what is beneath it. A type-only import counts as much as a value
  // import: a module that needs another's types sits above it too.
  it('no import cycle among the modules of src/', () => {
    expect(importCycles(sources())).toEqual([]);
  });

  it('the entry points and the barrels only re-export', () => {
    for (const f of REEXPORTS_ONLY) {
      const sf = ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.Latest);
      const other = sf.statements.filter((st) => !(ts.isExportDeclaration(st) && st.moduleSpecifier));
      expect(
        other.map((st) => st.getText(sf).slice(0, 60)),
        f,
      ).toEqual([]);
    }
  });

  it('no registration hook: tape.ts, tensor.ts and autograd.ts export no register* or gradOps', () => {
    for (const f of ['tape.ts', 'tensor.ts', 'autograd.ts']) {
      const text = readFileSync(join(SRC, f), 'utf8');
      expect(text).not.toMatch(/export (function|const|let) (register\w*|gradOps)\b/);
    }
  });
});
