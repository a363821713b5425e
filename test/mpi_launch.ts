// Launching processes under MPI from tests: Open MPI's mpirun (as root it needs
// --allow-run-as-root, and --oversubscribe where there are fewer cores than ranks) or MPICH's
// mpiexec. tools/setup.sh installs Open MPI.
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { join } from 'node:path';
import { root } from './cli_helpers.js';

/** The launcher's command line for `n` ranks, or an error naming what is missing. */
export function launcher(n: number): string[] {
  const v = spawnSync('mpirun', ['--version'], { encoding: 'utf8' });
  if (v.error) throw new Error(`no mpirun on PATH (tools/setup.sh installs Open MPI): ${v.error.message}`);
  if (/Open MPI/.test(v.stdout + v.stderr)) return ['mpirun', '--allow-run-as-root', '--oversubscribe', '-np', String(n)];
  return ['mpirun', '-n', String(n)];
}

/** Runs `args` on `n` ranks; returns status, stdout, stderr. */
export function mpiRun(n: number, args: string[], timeout = 120_000) {
  const [cmd, ...flags] = launcher(n);
  const r = spawnSync(cmd, [...flags, ...args], { cwd: root, encoding: 'utf8', timeout, env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.error) throw r.error;
  return r;
}

/**
 * Bundles a test fixture (TypeScript, importing the sources) into a script node can run, in
 * test-results/ (ignored by git) so that it finds the project's node_modules.
 */
export async function bundleFixture(name: string): Promise<string> {
  const outfile = join(root, 'test-results/fixtures', `${name}.mjs`);
  await build({
    entryPoints: [join(root, 'test/fixtures', `${name}.ts`)], bundle: true, platform: 'node', format: 'esm', outfile, logLevel: 'warning',
    external: ['koffi', 'webgpu'], loader: { '.wgsl': 'text' },
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  return outfile;
}
