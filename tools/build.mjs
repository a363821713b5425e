// Bundles the library, the CLI and the benches with esbuild; WGSL files become text.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  loader: { '.wgsl': 'text' },
  external: ['webgpu', '@tensorflow/*', 'benchmark'],
  logLevel: 'warning',
};
await build({ ...common, entryPoints: { index: 'src/index.ts' }, outdir: 'dist' });
await build({ ...common, entryPoints: { cli: 'src/cli.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } });
// The browser bundle and the demo page (dist/web): tools/build-web.mjs.
await (await import('./build-web.mjs')).buildWeb();
// The benches: the suite (loaded by `flstm bench`) and the standalone matmul and layer benches.
await build({
  ...common,
  entryPoints: {
    'bench/suite': 'bench/suite.ts',
    'bench/matmul': 'bench/matmul.ts',
    'bench/lstm': 'bench/lstm.ts',
    'bench/matmul_limits': 'bench/matmul_limits.ts',
    'bench/f16_ppl': 'bench/f16_ppl.ts',
    'bench/data': 'bench/data.ts',
    'bench/presets': 'bench/presets.ts',
    'bench/distributed': 'bench/distributed.ts',
    'bench/allreduce_f16': 'bench/allreduce_f16.ts',
    'bench/memory': 'bench/memory.ts',
    'bench/fuzz_checkpoints': 'bench/fuzz_checkpoints.ts',
  },
  outdir: 'dist',
});

// Type declarations for `import * as fl from 'flstm'` (package.json "types").
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
mkdirSync('dist/types', { recursive: true });
copyFileSync('src/wgsl.d.ts', 'dist/types/wgsl.d.ts');
// The declarations name WebGPU's types (GPUBuffer, GPUDevice, ...). TypeScript 6 and later
// have them in the DOM lib; older versions need `@webgpu/types`, which conflicts with the DOM
// lib's where both are present. So each entry point has a twin that references
// `@webgpu/types` and re-exports it, and package.json's "exports" gives the twin to
// TypeScript before 6 only (the "types@<6" condition).
for (const entry of ['index', 'browser']) {
  writeFileSync(`dist/types/${entry}.webgpu-types.d.ts`, `/// <reference types="@webgpu/types" />\nexport * from './${entry}.js';\n`);
}
