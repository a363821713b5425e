// The demo page and the kernel self-check in a real headless Chromium (WebGPU through
// navigator.gpu; on a machine without a GPU, Chromium's SwiftShader), driven by
// playwright-core. Needs Debian's chromium (FLSTM_BROWSER=1 bash tools/setup.sh installs it)
// or FLSTM_CHROMIUM=/path/to/chrome; never skipped. Builds dist/web first (a fraction of a
// second); the CLI checkpoint test uses dist/cli.js (npm run build).
//
// Artifacts: test-results/browser/demo.png, a screenshot of the page after training and
// generating (test-results/ is gitignored).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildWeb, brownExcerpt } from '../tools/build-web.mjs';
import { startServer } from '../tools/serve.mjs';
import type { FlstmDemo } from '../src/web/app.js';
import type { CheckResult } from '../src/web/selfcheck.js';

const ROOT = join(import.meta.dirname, '..');
const SHOTS = join(ROOT, 'test-results/browser');
/** FLSTM_CHROMIUM, else chromium (Debian's), chromium-browser or google-chrome on the PATH. */
const CHROMIUM = process.env.FLSTM_CHROMIUM ??
  ['/usr/bin', ...(process.env.PATH ?? '').split(delimiter)].flatMap((d) => ['chromium', 'chromium-browser', 'google-chrome'].map((n) => join(d, n))).find((p) => existsSync(p));

let browser: Browser;
let server: Server;
let base: string;
const dirs: string[] = [];

beforeAll(async () => {
  if (!CHROMIUM || !existsSync(CHROMIUM)) {
    throw new Error(
      `the browser tests need Chromium (${process.env.FLSTM_CHROMIUM ? `FLSTM_CHROMIUM=${process.env.FLSTM_CHROMIUM} does not exist` : 'no chromium, chromium-browser or google-chrome on the PATH'}): run \`FLSTM_BROWSER=1 bash tools/setup.sh\` ` +
        '(it installs Debian\'s chromium), or set FLSTM_CHROMIUM to a Chrome or Chromium binary',
    );
  }
  await buildWeb();
  ({ server, url: base } = await startServer({ port: 0 }));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // --no-sandbox: CI runs as root; /dev/shm of a container is small.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--enable-unsafe-webgpu', '--enable-features=Vulkan'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** dist/cli.js, built by `npm run build` (the tests do not rebuild the CLI). */
function cli(): string {
  const f = join(ROOT, 'dist/cli.js');
  if (!existsSync(f)) throw new Error('dist/cli.js is missing: run `npm run build` first');
  return f;
}

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'flstm-browser-'));
  dirs.push(d);
  return d;
}

/** A page that records console errors and uncaught exceptions. */
async function openPage(path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  await page.goto(base + path);
  return { page, errors };
}

const demoOf = (page: Page) => page.evaluate(() => window.flstmDemo) as Promise<FlstmDemo>;

async function waitFor(page: Page, fn: string, timeout = 180_000): Promise<void> {
  await page.waitForFunction(fn, null, { timeout, polling: 200 });
}

async function waitForRun(page: Page): Promise<FlstmDemo> {
  await waitFor(page, "window.flstmDemo && (window.flstmDemo.state === 'done' || window.flstmDemo.state === 'error')");
  return demoOf(page);
}

async function generateIn(page: Page, prompt: string, words: number): Promise<string> {
  const before = (await demoOf(page)).generated;
  await page.fill('#prompt', prompt);
  await page.fill('#gen-tokens', String(words));
  await page.click('#generate');
  await page.waitForFunction((b) => window.flstmDemo.generated !== b || window.flstmDemo.state === 'error', before, { timeout: 60_000 });
  const d = await demoOf(page);
  expect(d.error).toBeUndefined();
  return d.generated!;
}

describe('the demo page in Chromium', () => {
  for (const cell of ['lstm', 'flstm', 'glstm'] as const) {
    it(`autoruns a few steps of ${cell}: the loss falls, no console error`, async () => {
      const { page, errors } = await openPage(`?cell=${cell}&size=tiny&steps=6&autorun=1`);
      if (cell === 'flstm') {
        // Generation at any time: between two training steps.
        await waitFor(page, 'window.flstmDemo.history.length > 0 || window.flstmDemo.state === "error"');
        expect((await generateIn(page, 'It', 5)).split(' ')).toHaveLength(6);
      }
      const d = await waitForRun(page);
      expect(d.error, 'the page reported an error').toBeUndefined();
      expect(d.state).toBe('done');
      expect(d.step).toBe(6);
      expect(d.adapter).toMatch(/\S/);
      expect(d.history.length).toBeGreaterThanOrEqual(2);
      const first = d.history[0].loss;
      const last = d.history[d.history.length - 1].loss;
      expect(Number.isFinite(last)).toBe(true);
      expect(last, `loss ${first} -> ${last}`).toBeLessThan(first);
      expect(d.loss).toBe(last);
      // The chart is drawn, with the training series.
      expect(await page.locator('#chart svg polyline.series.train-loss').count()).toBe(1);

      if (cell === 'glstm') {
        const text = await generateIn(page, 'The jury', 30);
        expect(text.split(' ').length).toBe(32);
        expect(await page.locator('#sample').innerText()).toContain('The jury');
        mkdirSync(SHOTS, { recursive: true });
        await page.screenshot({ path: join(SHOTS, 'demo.png'), fullPage: true });

        // The page saves a .safetensors that the CLI opens.
        const dir = await tempDir();
        const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
        expect(download.suggestedFilename()).toBe('flstm-glstm-step6.safetensors');
        const file = join(dir, download.suggestedFilename());
        await download.saveAs(file);
        const out = execFileSync(process.execPath, [cli(), 'generate', '--checkpoint', file, '--tokens', '5', '--json'], {
          encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
        });
        const g = JSON.parse(out.trim().split('\n').pop()!);
        expect(g.words).toHaveLength(5);
      }
      expect(errors).toEqual([]);
      await page.close();
    });
  }

  it('loads a checkpoint written by `flstm train` and generates text', async () => {
    const dir = await tempDir();
    const textFile = join(dir, 'train.txt');
    await writeFile(textFile, brownExcerpt(1).split('\n').slice(0, 400).join('\n'));
    const run = join(dir, 'run');
    execFileSync(process.execPath, [
      cli(), 'train', '--data', `text:${textFile}`, '--cell', 'glstm', '--groups', '2', '--layers', '1', '--emb', '16', '--hidden', '32',
      '--proj', '16', '--batch', '4', '--bptt', '5', '--steps', '3', '--sampled', '0', '--eval-tokens', '0', '--sample', '0', '--out', run, '--json',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const ck = join(run, 'checkpoint');
    const manifest = JSON.parse(readFileSync(join(ck, 'config.json'), 'utf8'));
    const vocab = readFileSync(join(ck, manifest.files.vocab), 'utf8').trim().split('\n').map((l) => l.split(' ')[0]);

    const { page, errors } = await openPage('');
    await waitFor(page, 'window.flstmDemo.adapter !== null || window.flstmDemo.state === "error"');
    // 1. The model file alone (self-contained: config and vocabulary in its metadata).
    // 2. The folder's files, as an older checkpoint needs them.
    const sets = [[join(ck, manifest.files.model)], ['config.json', manifest.files.model, manifest.files.vocab, manifest.files.optimizer].map((f: string) => join(ck, f))];
    for (const files of sets) {
      const before = (await demoOf(page)).checkpoint;
      await page.setInputFiles('#ck-file', files);
      await page.waitForFunction((b) => window.flstmDemo.checkpoint !== b || window.flstmDemo.state === 'error', before, { timeout: 60_000 });
      const d = await demoOf(page);
      expect(d.error).toBeUndefined();
      expect(d.checkpoint).toMatchObject({ step: 3, cell: 'glstm', vocab: manifest.config.vocabSize, source: manifest.files.model });
      expect(d.step).toBe(3);
      const text = await generateIn(page, 'The', 12);
      const words = text.split(' ');
      expect(words).toHaveLength(13);
      for (const w of words.slice(1)) expect(vocab, `generated word ${w}`).toContain(w);
    }
    expect(await page.locator('#ck-status').innerText()).toContain(`Loaded ${manifest.files.model}`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('says plainly when the browser has no WebGPU, and how to enable it', async () => {
    const page = await browser.newPage();
    await page.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
    });
    await page.goto(base);
    await waitFor(page, "window.flstmDemo && window.flstmDemo.state === 'error'", 30_000);
    expect(await page.locator('#nogpu').isVisible()).toBe(true);
    const banner = await page.locator('#nogpu').innerText();
    expect(banner).toContain('This browser has no WebGPU');
    expect(banner).toContain('--enable-unsafe-webgpu');
    expect((await demoOf(page)).error).toMatch(/no WebGPU/);
    expect(await page.locator('#train').isDisabled()).toBe(true);
    await page.close();
  });
});

describe('the kernel self-check in Chromium', () => {
  it('runs every kernel case against its float64 reference: all pass', async () => {
    const { page, errors } = await openPage('selfcheck.html');
    await waitFor(page, 'window.flstmSelfCheck && window.flstmSelfCheck.done', 300_000);
    const s = (await page.evaluate(() => window.flstmSelfCheck)) as { results: CheckResult[]; error?: string; adapter: string };
    expect(s.error).toBeUndefined();
    const failed = s.results.filter((r) => r.status === 'fail').map((r) => `${r.group} / ${r.name}: ${r.message}`);
    expect(failed).toEqual([]);
    expect(s.results.filter((r) => r.status === 'pass').length).toBeGreaterThan(35);
    // Every kernel family ran (the subgroup matmul only where the adapter has the lanes).
    for (const g of ['matmul', 'groupedMatmul', 'elementwise', 'reduce', 'embedding', 'softmaxCrossEntropy', 'dropout', 'lstm']) {
      expect(s.results.some((r) => r.group === g && r.status === 'pass'), g).toBe(true);
    }
    // Skipped only for a feature the adapter lacks: subgroups of >= 8 lanes, or shader-f16.
    for (const r of s.results.filter((x) => x.status === 'skip')) {
      if (/f16/.test(r.name)) expect(r.message).toMatch(/no shader-f16|no subgroups/);
      else expect(r.name).toMatch(/^subgroup /);
    }
    expect(await page.locator('#rows tr').count()).toBe(s.results.length);
    expect(errors).toEqual([]);
    await page.close();
  });
});
