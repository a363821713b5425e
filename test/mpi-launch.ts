// Launching processes under MPI from tests: Open MPI's mpirun (as root it needs
// --allow-run-as-root, and --oversubscribe where there are fewer cores than ranks) or MPICH's
// mpiexec. tools/setup.sh installs Open MPI.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { build } from 'esbuild';
import { join } from 'node:path';
import { root } from './cli-helpers.js';

/** The launcher and its options before the first program: Open MPI's as root, or MPICH's. */
function launcherBase(): { cmd: string; flags: string[]; np: string } {
  const v = spawnSync('mpirun', ['--version'], { encoding: 'utf8' });
  if (v.error) throw new Error(`no mpirun on PATH (tools/setup.sh installs Open MPI): ${v.error.message}`);
  if (/Open MPI/.test(v.stdout + v.stderr)) return { cmd: 'mpirun', flags: ['--allow-run-as-root', '--oversubscribe'], np: '-np' };
  return { cmd: 'mpirun', flags: [], np: '-n' };
}

/** Runs `args` on `n` ranks; returns status, stdout, stderr. */
export function mpiRun(n: number, args: string[], timeout = 120_000) {
  return mpiRunEach(
    Array.from({ length: n }, () => args),
    timeout,
  );
}

/** Runs one rank per command line (MPI's `a : b` form), each its own program and arguments. */
export function mpiRunEach(commands: string[][], timeout = 120_000) {
  const { cmd, flags, np } = launcherBase();
  const same = commands.every((c) => c.join('\0') === commands[0].join('\0'));
  const programs = same ? [np, String(commands.length), ...commands[0]] : commands.flatMap((c, i) => [...(i ? [':'] : []), np, '1', ...c]);
  const r = spawnSync(cmd, [...flags, ...programs], { cwd: root, encoding: 'utf8', timeout, env: { ...process.env, NODE_OPTIONS: '' } });
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
    entryPoints: [join(root, 'test/fixtures', `${name}.ts`)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile,
    logLevel: 'warning',
    external: ['koffi', 'webgpu'],
    loader: { '.wgsl': 'text' },
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  return outfile;
}

/** Starts `args` on `n` ranks in the background: the launcher's process, and its exit status when it ends. */
export function mpiStart(n: number, args: string[]): { child: ChildProcess; exited: Promise<number | null> } {
  const { cmd, flags, np } = launcherBase();
  const child = spawn(cmd, [...flags, np, String(n), ...args], { cwd: root, stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } });
  return { child, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}
