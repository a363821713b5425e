// The built package: `import 'flstm'` resolves through package.json "exports" (checked by
// self-reference from the project root), and the `flstm` CLI (dist/cli.js) behaves as a
// command should: one JSON line with --json, one-line errors, usage exit codes, and it ends
// on its own (the device is destroyed).
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sourcesMtime } from './cli_helpers.js';

const root = resolve(__dirname, '..');
const TIMEOUT = 60_000;

/** `npm test` builds first; when run alone, build when dist/ is missing or older than the sources. */
beforeAll(() => {
  const outputs = ['dist/index.js', 'dist/cli.js'].map((f) => join(root, f));
  const stale =
    outputs.some((f) => !existsSync(f)) ||
    Math.min(...outputs.map((f) => statSync(f).mtimeMs)) < sourcesMtime();
  if (stale) execSync('npm run build', { cwd: root, stdio: 'pipe' });
}, 120_000);

function node(args: string[]) {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: TIMEOUT, env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.error) throw r.error; // e.g. ETIMEDOUT: the process did not end on its own
  return r;
}

function cli(...args: string[]) {
  return node(['dist/cli.js', ...args]);
}

/** Dawn writes its own warnings ("Warning: ...") to stderr; our messages start with "flstm". */
function ours(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('flstm'));
}

describe('the package', () => {
  it('package.json names the built entry points', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.name).toBe('flstm');
    expect(pkg.exports['.'].import).toBe('./dist/index.js');
    expect(pkg.bin.flstm).toBe('./dist/cli.js');
    expect(readFileSync(join(root, 'dist/cli.js'), 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
  });

  it("import('flstm') resolves by name through \"exports\" and can init, make a tensor and read it", () => {
    const script = `
      const url = import.meta.resolve('flstm');
      const fl = await import('flstm');
      await fl.init();
      const t = fl.tensor([1.5, -2, 3], [3]);
      const y = fl.scale(t, 2);
      console.log(JSON.stringify({ url, data: Array.from(await y.data()), backend: fl.info().backend }));
      fl.dispose();
    `;
    const r = node(['--input-type=module', '-e', script]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim());
    expect(out.url).toBe('file://' + join(root, 'dist/index.js'));
    expect(out.data).toEqual([3, -4, 6]);
    expect(out.backend).toBe('node-dawn');
  });
});

describe('the flstm CLI', () => {
  it('info --json prints exactly one JSON line, with software true on this machine', () => {
    const r = cli('info', '--json');
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    const info = JSON.parse(lines[0]);
    expect(info.backend).toBe('node-dawn');
    expect(info.software).toBe(true);
    expect(info.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(Array.isArray(info.features)).toBe(true);
  });

  it('info prints an aligned, readable listing', () => {
    const r = cli('info');
    expect(r.status, r.stderr).toBe(0);
    for (const label of ['backend', 'description', 'software adapter', 'kernel variant', 'limits', 'maxStorageBufferBindingSize', 'features']) {
      expect(r.stdout).toContain(label);
    }
    expect(r.stdout).toMatch(/^backend +node-dawn$/m);
    expect(r.stdout).toMatch(/^software adapter +yes$/m);
  });

  it('an unknown command exits non-zero, naming it and listing the commands', () => {
    const r = cli('bogus');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const msg = ours(r.stderr);
    expect(msg).toHaveLength(1);
    expect(msg[0]).toContain("unknown command 'bogus'");
    expect(msg[0]).toContain('info');
    expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
  });

  it('an unknown flag exits non-zero, naming the flag', () => {
    const r = cli('info', '--bogus');
    expect(r.status).toBe(2);
    const msg = ours(r.stderr);
    expect(msg).toHaveLength(1);
    expect(msg[0]).toContain('unknown option --bogus');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('a flag without its value is a usage error', () => {
    const r = cli('info', '--adapter');
    expect(r.status).toBe(2);
    expect(ours(r.stderr)[0]).toContain('--adapter needs a value');
  });

  it('an adapter that is not there is a one-line error with exit code 1', () => {
    const r = cli('info', '--adapter', 'no-such-gpu-xyz');
    expect(r.status).toBe(1);
    expect(ours(r.stderr)).toHaveLength(1);
    expect(ours(r.stderr)[0]).toContain('"no-such-gpu-xyz"');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('--help and info --help print usage', () => {
    const top = cli('--help');
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/usage: flstm <command>/);
    expect(top.stdout).toMatch(/^ +info +/m);
    const sub = cli('info', '--help');
    expect(sub.status).toBe(0);
    expect(sub.stdout).toContain('usage: flstm info');
    expect(sub.stdout).toContain('--json');
    expect(sub.stdout).toContain('--adapter');
  });
});
