// Serves the demo page (dist/web) on localhost and prints its address:
//   npm run serve                 (port 8080, or the next free one)
//   node tools/serve.mjs --port 0 (any free port)
// WebGPU needs a secure context: http://localhost counts as one. Builds dist/web first when
// it is missing. startServer() is also used by test/browser.test.ts.
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.png': 'image/png',
  '.safetensors': 'application/octet-stream',
};

/**
 * Starts a static server of `dir` on `host`:`port` (0: a free port; EADDRINUSE on a fixed
 * port tries the next ones when `tryNext`). Resolves with { server, url }.
 */
export function startServer({ dir = join(root, 'dist/web'), port = 8080, host = '127.0.0.1', tryNext = false } = {}) {
  const base = resolve(dir);
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      let path = decodeURIComponent(url.pathname);
      if (path.endsWith('/')) path += 'index.html';
      const file = normalize(join(base, path));
      if (file !== base && !file.startsWith(base + sep)) {
        res.writeHead(403).end('forbidden');
        return;
      }
      const s = await stat(file).catch(() => null);
      if (!s || !s.isFile()) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
        return;
      }
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': body.length,
        'cache-control': 'no-cache',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(e));
    }
  });
  return new Promise((resolvePromise, reject) => {
    let p = port;
    const listen = () => server.listen(p, host);
    server.on('error', (e) => {
      if (e.code === 'EADDRINUSE' && tryNext && p !== 0 && p < port + 20) {
        p++;
        listen();
      } else reject(e);
    });
    server.on('listening', () => {
      const a = server.address();
      resolvePromise({ server, url: `http://localhost:${a.port}/` });
    });
    listen();
  });
}

async function main() {
  const args = process.argv.slice(2);
  const i = args.indexOf('--port');
  const fixed = i >= 0 ? Number(args[i + 1]) : process.env.PORT ? Number(process.env.PORT) : undefined;
  if (fixed !== undefined && !(Number.isInteger(fixed) && fixed >= 0 && fixed < 65536)) {
    console.error(`serve: --port must be a port number, got ${args[i + 1] ?? process.env.PORT}`);
    process.exit(2);
  }
  if (!existsSync(join(root, 'dist/web/index.html'))) {
    console.log('serve: dist/web is missing; building it (node tools/build-web.mjs)');
    await (await import('./build-web.mjs')).buildWeb();
  }
  // 127.0.0.1 and the name localhost: a secure context for WebGPU without certificates.
  const { url } = await startServer({ port: fixed ?? 8080, tryNext: fixed === undefined });
  console.log(`flstm demo: ${url}`);
  console.log(`kernel self-check: ${url}selfcheck.html`);
  console.log('Open it in Chrome or Edge (Linux: start Chrome with --enable-unsafe-webgpu). Ctrl-C stops the server.');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
