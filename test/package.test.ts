// The built package: `import 'flstm'` resolves through package.json "exports" (checked by
// self-reference from the project root); the packed tarball, installed in a new project as a
// user installs it, type-checks under `tsc --strict` and runs the library examples of docs/library.md;
// and the `flstm` CLI (dist/cli.js) behaves as a command should: one JSON line with --json,
// one-line errors, usage exit codes, and it ends on its own (the device is destroyed).
import { execSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourcesMtime } from './cli-helpers.js';

const root = resolve(__dirname, '..');
const TIMEOUT = 60_000;

/** `npm test` builds first; when run alone, build when dist/ is missing or older than the sources. */
beforeAll(() => {
  const outputs = ['dist/index.js', 'dist/cli.js'].map((f) => join(root, f));
  const stale = outputs.some((f) => !existsSync(f)) || Math.min(...outputs.map((f) => statSync(f).mtimeMs)) < sourcesMtime();
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

  it('import(\'flstm\') resolves by name through "exports" and can init, make a tensor and read it', () => {
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

  it('the browser entry point ("browser" in "exports") is the Node surface, but fl.train without the parts that read and write files', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.exports['.'].browser).toEqual({
      'types@<6': './dist/types/browser.webgpu-types.d.ts',
      types: './dist/types/browser.d.ts',
      default: './dist/browser.js',
    });
    expect(Object.keys(pkg.exports['.'])[0]).toBe('browser'); // conditions match in order
    const script = `
      const node = await import('./dist/index.js');
      const browser = await import('./dist/browser.js');
      const names = (m) => Object.keys(m).sort();
      console.log(JSON.stringify({ node: names(node), browser: names(browser), nodeTrain: names(node.train), browserTrain: names(browser.train) }));
    `;
    const r = node(['--input-type=module', '-e', script]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim());
    expect(out.browser).toEqual(out.node);
    const fileBased = [
      'DEFAULT_LOG_EVERY',
      'DEFAULT_SAVE_EVERY',
      'appendMetrics',
      'checkCompatible',
      'joinWorld',
      'loadCheckpoint',
      'loadModel',
      'readCheckpointConfig',
      'readMetrics',
      'saveCheckpoint',
      'train',
      'writeChart',
    ];
    expect(out.nodeTrain.filter((n: string) => !out.browserTrain.includes(n))).toEqual(fileBased);
    expect(out.browserTrain.filter((n: string) => !out.nodeTrain.includes(n))).toEqual([]);
    expect(out.browserTrain).toEqual(
      expect.arrayContaining(['TrainingLoop', 'trainStep', 'evaluate', 'generate', 'encodeModelBundle', 'renderChart']),
    );
    // The browser's bundle loads no Node module (a lazy import() of one is only reached when reading files).
    expect(readFileSync(join(root, 'dist/browser.js'), 'utf8')).not.toMatch(/^import[^\n]*["']node:/m);
  });
});

// The packed tarball in a project of its own, installed by npm from the cache only: `npm ci`
// filled the cache with the dependencies' tarballs and abbreviated registry documents, but
// `npm install <tarball>` in a project without a lockfile asks for the full documents, which
// only the network has. So the project's lockfile pins flstm's dependencies to this
// repository's package-lock.json first, as a project that already installed them would, and
// `npm install --offline <tarball>` then adds flstm from the tarball.

const TSC = join(root, 'node_modules/typescript/bin/tsc');
/** The newest TypeScript (what `npm install typescript` gives a user), whose DOM lib declares WebGPU's types itself. */
const TSC_NEWEST = join(root, 'node_modules/typescript-7/bin/tsc');
/** What a user of a Node ESM package sets; skipLibCheck stays off, so flstm's declarations are checked too. */
const USER_TSC = ['--strict', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--skipLibCheck', 'false'];
/** @types/node from this repository, for docs/library.md's examples: a Node project would have it. */
const WITH_NODE_TYPES = ['--typeRoots', join(root, 'node_modules/@types'), '--types', 'node'];
const TRAIN_TIMEOUT = 120_000;

type LockEntry = {
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  dev?: boolean;
  devOptional?: boolean;
};

/** Where Node would find `name` from the package at lockfile location `from` ('' is the root). */
function lockedLocation(packages: Record<string, LockEntry>, from: string, name: string): string {
  for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
    const location = `${dir ? dir + '/' : ''}node_modules/${name}`;
    if (packages[location]) return location;
    if (dir === '') throw new Error(`package-lock.json has no entry for '${name}', a dependency of ${from || 'flstm'}`);
  }
}

/** The entries of this repository's package-lock.json that flstm's dependencies install. */
function lockedDependencies(): Record<string, LockEntry> {
  const packages: Record<string, LockEntry> = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')).packages;
  const found: Record<string, LockEntry> = {};
  const visit = (from: string, deps: Record<string, string> = {}) => {
    for (const name of Object.keys(deps)) {
      const location = lockedLocation(packages, from, name);
      if (found[location]) continue;
      // The dev flags describe this repository's tree, not the user's.
      const entry = { ...packages[location] };
      delete entry.dev;
      delete entry.devOptional;
      found[location] = entry;
      // Optional ones too (koffi's binaries per platform): npm skips those of other platforms by
      // their lockfile entries, and would ask the registry for a package whose entries are missing.
      visit(location, { ...entry.dependencies, ...entry.optionalDependencies });
    }
  };
  visit('', packages[''].dependencies);
  return found;
}

/** A new ES module project whose lockfile holds flstm's dependencies but not flstm. */
function createProject(dir: string): void {
  const name = 'flstm-user';
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }, null, 2));
  const lock = {
    name,
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: { '': { name, version: '1.0.0' }, ...lockedDependencies() },
  };
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock, null, 2));
}

function runIn(cwd: string, command: string, args: string[], timeout = TIMEOUT) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.error) throw r.error;
  return r;
}

/** The ```ts blocks of docs/library.md, the library's page. */
function libraryBlocks(): string[] {
  const page = readFileSync(join(root, 'docs', 'library.md'), 'utf8');
  return [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/** The one example of docs/library.md that contains `marker`. */
function libraryExample(marker: string): string {
  const found = libraryBlocks().filter((b) => b.includes(marker));
  if (found.length !== 1) throw new Error(`docs/library.md should have one ts example containing '${marker}', found ${found.length}`);
  return found[0];
}

/** The capture of `pattern` in a library example: what the example says it does. */
function exampleValue(example: string, pattern: RegExp): string {
  const m = pattern.exec(example);
  if (!m) throw new Error(`the library example has nothing matching ${pattern}`);
  return m[1];
}

/** The values of the first `Float32Array(n) [ ... ]` that Node printed. */
function printedFloat32Array(stdout: string): { length: number; values: number[] } {
  const m = /Float32Array\((\d+)\) \[([^\]]*)\]/.exec(stdout);
  if (!m) throw new Error(`no Float32Array printed in:\n${stdout}`);
  return { length: Number(m[1]), values: m[2].split(',').map(Number) };
}

const TYPES_TS = `import * as fl from 'flstm';

export async function use(): Promise<number[]> {
  await fl.init();
  const x: fl.Tensor = fl.randn([5, 2, 4], { seed: 1 });
  const lstm = new fl.nn.LSTM({ inputSize: 4, hiddenSize: 8, cell: 'flstm', factor: 2 });
  const { y, state } = lstm.forward(x);
  const h: fl.Tensor = state.h;
  const loss: fl.Tensor = fl.mean(fl.mul(y, fl.tanh(y)));
  loss.backward();
  const config: fl.train.TrainConfig = {
    data: 'text:train.txt',
    model: { cell: 'glstm', groups: 2, layers: 1, emb: 8, hidden: 16, proj: 8, dropout: 0 },
    batch: 2, bptt: 5, optimizer: 'adam', lr: 0.01, clip: 0, sampled: 0, seed: 1,
  };
  const options: fl.train.TrainOptions = { out: 'runs/x', steps: 1, onLog: (e: fl.train.TrainEvent) => console.log(e.type) };
  const summary: fl.train.TrainSummary = await fl.train.train(config, options);
  const loaded: fl.train.LoadedModel = await fl.train.loadModel('runs/x/checkpoint');
  const text = await fl.train.generate(loaded.model, loaded.vocab, 'a b', { tokens: 2, temperature: 0 });
  const words: string[] = text.words;
  return [summary.step, h.shape[0], words.length, ...(await loss.data())];
}
`;

const WRONG_LINE = 3;
const WRONG_TS = `import * as fl from 'flstm';
const a = fl.tensor([1, 2], [2]);
export const b = fl.add(a, 'not a tensor');
`;

describe('the packed tarball, installed in a new project', () => {
  let work = '';
  let tarball = '';
  let project = '';
  const inProject = (file: string) => join(project, file);

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'flstm-package-'));
    const pack = runIn(root, 'npm', ['pack', '--json', '--pack-destination', work]);
    if (pack.status !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
    tarball = join(work, JSON.parse(pack.stdout)[0].filename);
    project = join(work, 'project');
    mkdirSync(project);
    createProject(project);
    const install = runIn(project, 'npm', ['install', '--offline', '--no-audit', '--no-fund', tarball]);
    if (install.status !== 0) throw new Error(`npm install --offline ${tarball} failed:\n${install.stderr}`);
  }, 120_000);

  afterAll(() => {
    // npm pack and npm install each leave the tarball in npm's cache, never to be used again:
    // cleaning the install's entry deletes the content both point to.
    if (tarball) runIn(root, 'npm', ['cache', 'clean', `pacote:tarball:file:${tarball}`]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('npm installs a copy of flstm from the tarball, with @webgpu/types as its own dependency', () => {
    const ours = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(JSON.parse(readFileSync(inProject('package.json'), 'utf8')).dependencies.flstm).toMatch(/^file:.*\.tgz$/);
    expect(lstatSync(inProject('node_modules/flstm')).isSymbolicLink()).toBe(false);
    const installed = JSON.parse(readFileSync(inProject('node_modules/flstm/package.json'), 'utf8'));
    expect(installed.version).toBe(ours.version);
    // The declarations reference @webgpu/types: flstm must depend on it, not find it through webgpu by chance.
    expect(Object.keys(installed.dependencies)).toContain('@webgpu/types');
    expect(existsSync(inProject('node_modules/@webgpu/types/package.json'))).toBe(true);
    // TypeScript before 6 gets the entry point that references them; 6 and later have them in the DOM lib.
    const firstLine = (file: string) => readFileSync(inProject(`node_modules/flstm/dist/types/${file}`), 'utf8').split('\n')[0];
    expect(firstLine('index.webgpu-types.d.ts')).toBe('/// <reference types="@webgpu/types" />');
    expect(firstLine('index.d.ts')).not.toContain('@webgpu/types');
    // No @types/node in the project: the check below shows flstm's types do without it.
    expect(existsSync(inProject('node_modules/@types'))).toBe(false);
  });

  it('its types check under tsc --strict (NodeNext, no skipLibCheck, no @types/node): tensors, nn.LSTM, fl.train', () => {
    writeFileSync(inProject('types.ts'), TYPES_TS);
    const r = runIn(project, process.execPath, [TSC, ...USER_TSC, '--noEmit', 'types.ts']);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it("its types check under the newest TypeScript too, whose DOM lib has WebGPU's types (no duplicate declarations)", () => {
    writeFileSync(inProject('types.ts'), TYPES_TS);
    const version = runIn(project, process.execPath, [TSC_NEWEST, '--version']);
    expect(version.stdout).toMatch(/Version [7-9]\./);
    const r = runIn(project, process.execPath, [TSC_NEWEST, ...USER_TSC, '--noEmit', 'types.ts']);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('tsc reports a string passed where a Tensor is expected, so that check is real', () => {
    writeFileSync(inProject('wrong.ts'), WRONG_TS);
    const r = runIn(project, process.execPath, [TSC, ...USER_TSC, '--noEmit', 'wrong.ts']);
    expect(r.status).not.toBe(0);
    const errors = r.stdout.split('\n').filter((l) => / error TS\d+:/.test(l));
    expect(errors, r.stdout).toHaveLength(1);
    expect(errors[0]).toMatch(
      new RegExp(
        `^wrong\\.ts\\(${WRONG_LINE},\\d+\\): error TS2345: Argument of type 'string' is not assignable to parameter of type 'Tensor'`,
      ),
    );
  });

  it("docs/library.md's tensor example runs as an .mjs and as a .ts compiled by tsc --strict, printing a.grad as it says", () => {
    const example = libraryExample('fl.matmul(');
    const promised = Number(exampleValue(example, /a\.grad\?\.data\(\)\);\s*\/\/ Float32Array\((\d+)\)/));
    writeFileSync(inProject('tensors.mjs'), example);
    writeFileSync(inProject('tensors.ts'), example);
    const compiled = runIn(project, process.execPath, [TSC, ...USER_TSC, ...WITH_NODE_TYPES, '--outDir', 'out', 'tensors.ts']);
    expect(compiled.stdout + compiled.stderr).toBe('');
    expect(compiled.status).toBe(0);
    const printed = ['tensors.mjs', 'out/tensors.js'].map((file) => {
      const r = runIn(project, process.execPath, [file]);
      expect(r.status, `${file}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain("backend: 'node-dawn'");
      return printedFloat32Array(r.stdout);
    });
    for (const grad of printed) {
      expect(grad.length).toBe(promised);
      expect(grad.values).toHaveLength(promised);
      expect(grad.values.every(Number.isFinite)).toBe(true);
    }
    // Both runs draw b from the same seed.
    expect(printed[1].values).toEqual(printed[0].values);
  });

  it(
    "docs/library.md's training example type-checks and runs: the steps it asks for, then the prompt and as many words as asked",
    () => {
      const example = libraryExample('fl.train.train(');
      const steps = Number(exampleValue(example, /\bsteps: (\d+)/));
      const tokens = Number(exampleValue(example, /\{ tokens: (\d+)/));
      const prompt = exampleValue(example, /generate\(model, vocab, '([^']*)'/).split(' ');
      const out = exampleValue(example, /\bout: '([^']+)'/);
      writeFileSync(inProject('train.ts'), example);
      const checked = runIn(project, process.execPath, [TSC, ...USER_TSC, ...WITH_NODE_TYPES, '--noEmit', 'train.ts']);
      expect(checked.stdout + checked.stderr).toBe('');
      expect(checked.status).toBe(0);

      writeFileSync(inProject('train.mjs'), example);
      const r = runIn(project, process.execPath, ['train.mjs'], TRAIN_TIMEOUT);
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stdout.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(2);
      const [step, ppl] = lines[0].split(' ').map(Number);
      expect(step).toBe(steps);
      expect(ppl).toBeGreaterThan(1);
      expect(Number.isFinite(ppl)).toBe(true);
      const words = lines[1].split(' ');
      expect(words.slice(0, prompt.length)).toEqual(prompt);
      expect(words).toHaveLength(prompt.length + tokens);
      expect(existsSync(join(project, out, 'checkpoint/config.json'))).toBe(true);
    },
    TRAIN_TIMEOUT + 30_000,
  );

  it("writes a `> log 2>&1` log whole, without Dawn's warnings: the installed koffi gives dup and dup2", () => {
    expect(existsSync(inProject('node_modules/koffi/package.json'))).toBe(true);
    writeFileSync(
      inProject('log.mjs'),
      "import * as fl from 'flstm';\nawait fl.init();\nconsole.error('to stderr');\nconsole.log('to stdout');\nfl.dispose();\n",
    );
    const log = inProject('log.txt');
    const fd = openSync(log, 'w');
    const r = spawnSync(process.execPath, ['log.mjs'], { cwd: project, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    expect(r.status).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('to stderr\nto stdout\n');
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
    for (const label of [
      'backend',
      'description',
      'software adapter',
      'kernel variant',
      'limits',
      'maxStorageBufferBindingSize',
      'features',
    ]) {
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
