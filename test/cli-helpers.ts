// Running the built CLI (dist/cli.js) from tests. `npm test` builds first; a test file run
// alone builds when dist/cli.js is missing or older than the sources.
import { beforeAll } from 'vitest';
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const root = resolve(__dirname, '..');

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Newest modification time of the library sources and kernels. */
export function sourcesMtime(): number {
  return Math.max(newestMtime(join(root, 'src')), newestMtime(join(root, 'kernels')));
}

/** Registers a beforeAll that builds dist/ when it is stale. */
export function useBuiltCli(): void {
  beforeAll(() => {
    const cliJs = join(root, 'dist/cli.js');
    if (!existsSync(cliJs) || statSync(cliJs).mtimeMs < sourcesMtime()) execSync('npm run build', { cwd: root, stdio: 'pipe' });
  }, 120_000);
}

/** Runs `node dist/cli.js ...args` in the project root; returns status, stdout, stderr. */
export function runCli(args: string[], timeout = 60_000) {
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  if (r.error) throw r.error;
  return r;
}

/** The words of a command line written as one string: words('--emb 8 --hidden 16'). */
export const words = (line: string): string[] => line.trim().split(/\s+/);

/** The smallest model the CLI tests train: its sizes and batch (each test adds its cadence and softmax). */
export const TINY_MODEL = words('--emb 8 --hidden 16 --proj 8 --batch 4 --bptt 5');
