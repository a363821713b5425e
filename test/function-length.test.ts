// Budgets CI keeps: no function in src/ or bench/ grows past MAX_FUNCTION_LINES lines (a long
// function becomes named steps, the way the LSTM layer's backward is a list of calls). bench/
// is held to the same budget: its measurements are read and changed as often as the library.
import { describe, expect, it } from 'vitest';
import ts from 'typescript';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const MAX_FUNCTION_LINES = 80;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('budgets', () => {
  it(`no function in src/ or bench/ is longer than ${MAX_FUNCTION_LINES} lines (nested functions count toward the one that holds them)`, () => {
    const long: string[] = [];
    for (const file of [...sourceFiles('src'), ...sourceFiles('bench')]) {
      const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
      const visit = (n: ts.Node) => {
        if (ts.isFunctionLike(n) && 'body' in n && n.body) {
          const first = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line;
          const last = sf.getLineAndCharacterOfPosition(n.end).line;
          const name = 'name' in n && n.name ? n.name.getText(sf) : '(anonymous)';
          if (last - first + 1 > MAX_FUNCTION_LINES) long.push(`${file}:${first + 1} ${name}: ${last - first + 1} lines`);
        }
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
    expect(long, 'split these into named steps').toEqual([]);
  });
});
