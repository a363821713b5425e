// Writes src/gpu/kernel_uniforms.ts (the uniform fields of every kernels/*.wgsl, as types)
// with the generator in src/gpu/uniform_types.ts, bundled on the fly by esbuild.
import { build } from 'esbuild';
import { readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(tmpdir(), `flstm-uniform-types-${process.pid}.mjs`);
await build({
  entryPoints: [join(root, 'src/gpu/uniform_types.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile: bundle,
  logLevel: 'warning',
});
const { uniformTypesModule, UNIFORM_TYPES_FILE } = await import(pathToFileURL(bundle).href);
const dir = join(root, 'kernels');
const files = readdirSync(dir)
  .filter((n) => n.endsWith('.wgsl'))
  .map((n) => ({ name: n.slice(0, -5), code: readFileSync(join(dir, n), 'utf8') }));
const target = join(root, UNIFORM_TYPES_FILE);
writeFileSync(`${target}.tmp`, uniformTypesModule(files));
renameSync(`${target}.tmp`, target);
console.log(`wrote ${UNIFORM_TYPES_FILE} (${files.length} kernel files)`);
