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
await build({ ...common, entryPoints: { 'bench/matmul': 'bench/matmul.ts' }, outdir: 'dist' });
