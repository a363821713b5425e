// The demo page and the kernel self-check in a real headless Chromium (WebGPU through
// navigator.gpu; on a machine without a GPU, Chromium's SwiftShader), driven by
// playwright-core. Needs Debian's chromium (FLSTM_BROWSER=1 bash tools/setup.sh installs it)
// or FLSTM_CHROMIUM=/path/to/chrome; never skipped. Builds dist/web first (a fraction of a
// second); the CLI checkpoint test uses dist/cli.js (npm run build).
//
// Artifacts: test-results/browser/demo.png, a screenshot of the page after training and
// generating, and phone.png, the page on a 390 px wide screen (test-results/ is gitignored).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildWeb, brownExcerpt } from '../tools/build-web.mjs';
import { startServer } from '../tools/serve.mjs';
import type { FlstmDemo } from '../src/web/app.js';
import type { CheckResult } from '../src/web/selfcheck.js';
import { freshSeed } from './helpers.js';

const ROOT = join(import.meta.dirname, '..');
const SHOTS = join(ROOT, 'test-results/browser');
/** FLSTM_CHROMIUM, else chromium (Debian's), chromium-browser or google-chrome on the PATH. */
const CHROMIUM =
  process.env.FLSTM_CHROMIUM ??
  ['/usr/bin', ...(process.env.PATH ?? '').split(delimiter)]
    .flatMap((d) => ['chromium', 'chromium-browser', 'google-chrome'].map((n) => join(d, n)))
    .find((p) => existsSync(p));

let browser: Browser;
let server: Server;
let base: string;
const dirs: string[] = [];

beforeAll(async () => {
  if (!CHROMIUM || !existsSync(CHROMIUM)) {
    throw new Error(
      `the browser tests need Chromium (${process.env.FLSTM_CHROMIUM ? `FLSTM_CHROMIUM=${process.env.FLSTM_CHROMIUM} does not exist` : 'no chromium, chromium-browser or google-chrome on the PATH'}): run \`FLSTM_BROWSER=1 bash tools/setup.sh\` ` +
        "(it installs Debian's chromium), or set FLSTM_CHROMIUM to a Chrome or Chromium binary",
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

/** The model file `bytes` with its metadata's copy of the configuration changed by `edit`. */
function withConfig(bytes: Buffer, edit: (config: Record<string, any>) => void): Buffer {
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  const config = JSON.parse(header.__metadata__['flstm.config']);
  edit(config);
  header.__metadata__['flstm.config'] = JSON.stringify(config);
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (text.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(text)));
  return Buffer.concat([length, Buffer.from(text), bytes.subarray(8 + n)]);
}

/** A valid .safetensors file of another tool: one tensor, no flstm metadata. */
function foreignSafetensors(): Buffer {
  const header = Buffer.from(JSON.stringify({ weight: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([length, header, Buffer.alloc(8)]);
}

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'flstm-browser-'));
  dirs.push(d);
  return d;
}

/**
 * `flstm train` of a tiny model on `text` (written to DIR/NAME), a few steps, no validation or
 * sample: its checkpoint folder, config.json's manifest, the text file and the folder. `model`
 * gives the cell and sizes.
 */
async function cliCheckpoint(
  text: string,
  name: string,
  model: string[],
  steps: number,
): Promise<{ ck: string; manifest: Record<string, any>; textFile: string; dir: string }> {
  const dir = await tempDir();
  const textFile = join(dir, name);
  await writeFile(textFile, text);
  const run = join(dir, 'run');
  execFileSync(
    process.execPath,
    [
      cli(),
      'train',
      '--data',
      `text:${textFile}`,
      ...model,
      '--steps',
      String(steps),
      '--eval-tokens',
      '0',
      '--sample',
      '0',
      '--out',
      run,
      '--json',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const ck = join(run, 'checkpoint');
  return { ck, manifest: JSON.parse(readFileSync(join(ck, 'config.json'), 'utf8')), textFile, dir };
}

/** A page that records console errors and uncaught exceptions. */
async function openPage(path: string, viewport = { width: 1280, height: 900 }): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ deviceScaleFactor: 1 });
  await page.setViewportSize(viewport);
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

/** Picks "Your text" in the Text card and gives it `file`; resolves once the card has read it. */
async function giveText(page: Page, file: string): Promise<void> {
  await page.click('#source button[data-value="own"]');
  await page.setInputFiles('#text-file', file);
  await page.waitForFunction((name) => document.getElementById('text-hint')!.textContent!.startsWith(`${name}: `), basename(file), {
    timeout: 30_000,
  });
}

/** From now on, every text the status line shows; the function returns those so far. */
async function recordStatuses(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const w = window as unknown as { statuses: string[] };
    w.statuses = [];
    const status = document.getElementById('status')!;
    new MutationObserver((records) => {
      for (const r of records) for (const n of Array.from(r.addedNodes)) w.statuses.push(n.textContent ?? '');
    }).observe(status, { childList: true });
  });
  return () => page.evaluate(() => (window as unknown as { statuses: string[] }).statuses);
}

/** Words as a person counts them: whitespace-separated. */
const wordsIn = (text: string) => text.split(/\s+/).filter(Boolean).length;
const fmt = (n: number) => n.toLocaleString('en-US');

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
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const g = JSON.parse(out.trim().split('\n').pop()!);
        expect(g.words).toHaveLength(5);
      }
      expect(errors).toEqual([]);
      await page.close();
    });
  }

  it('says what the steps field does: each Train runs that many more steps, and the hint names the step it reaches', async () => {
    const { page, errors } = await openPage('?cell=lstm&size=tiny&steps=3');
    await waitFor(page, 'window.flstmDemo.adapter !== null || window.flstmDemo.state === "error"');
    const hint = () => page.locator('#steps-hint').innerText();
    expect(await page.locator('label:has(#steps)').innerText()).toMatch(/^More steps/);
    expect(await page.locator('#steps').inputValue()).toBe('3');
    expect(await hint()).toBe('Train runs 3 steps of a new model: step 0 → 3.');
    await page.click('#train');
    let d = await waitForRun(page);
    expect(d.error).toBeUndefined();
    expect(d.step).toBe(3);
    expect(await hint()).toBe('Train runs 3 more steps: step 3 → 6.');
    // Train again: three more steps, from where the model is.
    await page.click('#train');
    await waitFor(page, "(window.flstmDemo.state === 'done' && window.flstmDemo.step === 6) || window.flstmDemo.state === 'error'");
    d = await demoOf(page);
    expect(d.error).toBeUndefined();
    expect(d.history[d.history.length - 1].step).toBe(6);
    expect(await hint()).toBe('Train runs 3 more steps: step 6 → 9.');
    await page.fill('#steps', '250');
    expect(await hint()).toBe('Train runs 250 more steps: step 6 → 256.');
    // Another size makes a new model: its steps count from 0.
    await page.selectOption('#size', 'small');
    expect(await hint()).toBe('Train runs 250 steps of a new model: step 0 → 250.');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('fits a 390 px wide screen: no horizontal scrolling, the stat tiles wrap, the chart is drawn at its width', async () => {
    const W = 390;
    const { page, errors } = await openPage('?cell=glstm&size=tiny&steps=4&autorun=1', { width: W, height: 844 });
    const d = await waitForRun(page);
    expect(d.error).toBeUndefined();
    expect(d.step).toBe(4);
    await page.waitForTimeout(200); // the chart's last frame
    const layout = await page.evaluate(() => {
      const box = (e: Element) => {
        const r = e.getBoundingClientRect();
        return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width };
      };
      const chart = document.getElementById('chart')!;
      const svg = chart.querySelector('svg')!;
      return {
        scrollWidth: document.documentElement.scrollWidth,
        bodyScrollWidth: document.body.scrollWidth,
        tiles: Array.from(document.querySelectorAll('.stat'), (e) => ({
          text: (e as HTMLElement).innerText.replace(/\s+/g, ' '),
          ...box(e),
        })),
        // Text cut off inside a tile (an ellipsis, or a label running out of it).
        clipped: Array.from(document.querySelectorAll('.stat .label, .stat .value'), (e) => e as HTMLElement)
          .filter((e) => e.scrollWidth > e.clientWidth)
          .map((e) => e.innerText),
        chart: box(chart),
        svg: { ...box(svg), drawnWidth: Number(svg.getAttribute('width')) },
        texts: Array.from(svg.querySelectorAll('text'), (t) => ({ text: t.textContent, ...box(t) })),
        axisTitles: Array.from(svg.querySelectorAll('text[transform]'), (t) => box(t)),
      };
    });
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'phone.png'), fullPage: true });
    expect(layout.scrollWidth, 'the page scrolls sideways').toBeLessThanOrEqual(W);
    expect(layout.bodyScrollWidth).toBeLessThanOrEqual(W);
    expect(layout.tiles).toHaveLength(5);
    for (const t of [...layout.tiles, { text: 'the chart', ...layout.chart }]) {
      expect(t.left, t.text).toBeGreaterThanOrEqual(0);
      expect(t.right, t.text).toBeLessThanOrEqual(W);
    }
    // The tiles wrap rather than shrink their text away.
    expect(new Set(layout.tiles.map((t) => Math.round(t.top))).size).toBeGreaterThan(1);
    expect(layout.clipped).toEqual([]);
    // The chart is drawn at the width it is shown at (its text is not scaled down), and every
    // text of it lies inside it; the panels' axis titles do not overlap.
    expect(Math.abs(layout.svg.width - layout.svg.drawnWidth)).toBeLessThanOrEqual(2);
    for (const t of layout.texts) {
      expect(t.left, t.text!).toBeGreaterThanOrEqual(layout.chart.left);
      expect(t.right, t.text!).toBeLessThanOrEqual(layout.chart.right);
    }
    expect(layout.axisTitles.length).toBeGreaterThanOrEqual(1);
    for (let i = 1; i < layout.axisTitles.length; i++)
      expect(layout.axisTitles[i - 1].bottom).toBeLessThanOrEqual(layout.axisTitles[i].top);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('loads a checkpoint written by `flstm train` and generates text', async () => {
    const { ck, manifest, textFile } = await cliCheckpoint(
      brownExcerpt(1).split('\n').slice(0, 400).join('\n'),
      'train.txt',
      [
        '--cell',
        'glstm',
        '--groups',
        '2',
        '--layers',
        '1',
        '--emb',
        '16',
        '--hidden',
        '32',
        '--proj',
        '16',
        '--batch',
        '4',
        '--bptt',
        '5',
        '--sampled',
        '0',
      ],
      3,
    );
    const vocab = readFileSync(join(ck, manifest.files.vocab), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[0]);

    const { page, errors } = await openPage('');
    await waitFor(page, 'window.flstmDemo.adapter !== null || window.flstmDemo.state === "error"');
    // 1. The model file alone (self-contained: config and vocabulary in its metadata).
    // 2. The folder's files, as an older checkpoint needs them.
    //    The optimizer state comes with the folder only: the page says so.
    const sets = [
      [join(ck, manifest.files.model)],
      ['config.json', manifest.files.model, manifest.files.vocab, manifest.files.optimizer].map((f: string) => join(ck, f)),
    ];
    for (const [k, files] of sets.entries()) {
      // The two loads differ in what they restore, so the page's record of the checkpoint changes.
      const before = JSON.stringify((await demoOf(page)).checkpoint);
      await page.setInputFiles('#ck-file', files);
      await page.waitForFunction((b) => JSON.stringify(window.flstmDemo.checkpoint) !== b || window.flstmDemo.state === 'error', before, {
        timeout: 60_000,
      });
      const d = await demoOf(page);
      expect(d.error).toBeUndefined();
      const optimizer = k === 0 ? null : manifest.files.optimizer;
      expect(d.checkpoint).toEqual({
        step: 3,
        cell: 'glstm',
        vocab: manifest.config.vocabSize,
        source: manifest.files.model,
        optimizer,
        carriedState: true,
      });
      expect(d.step).toBe(3);
      const status = await page.locator('#ck-status').innerText();
      if (optimizer === null) {
        expect(status).toContain("The optimizer starts fresh (Adagrad's accumulators at their initial values)");
        expect(status).toContain('give the whole checkpoint folder');
      } else {
        expect(status).toContain(`Training continues with its optimizer state (${optimizer}) and its carried LSTM state`);
        expect(status).not.toContain('starts fresh');
      }
      expect(await page.locator('#steps-hint').innerText()).toBe('Train runs 300 more steps: step 3 → 303.');
      const text = await generateIn(page, 'The', 12);
      const words = text.split(' ');
      expect(words).toHaveLength(13);
      for (const w of words.slice(1)) expect(vocab, `generated word ${w}`).toContain(w);
    }
    expect(await page.locator('#ck-status').innerText()).toContain(`Loaded ${manifest.files.model}`);
    // Training goes on from step 3 with the checkpoint's optimizer state, on its own text.
    await giveText(page, textFile);
    await page.fill('#steps', '2');
    await page.click('#train');
    await waitFor(page, "(window.flstmDemo.state === 'done' && window.flstmDemo.step === 5) || window.flstmDemo.state === 'error'");
    const d = await demoOf(page);
    expect(d.error).toBeUndefined();
    expect(d.history.every((h) => h.step > 3 && Number.isFinite(h.loss))).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("with ?maxBindingBytes the page stores a CLI model's tables in row shards, generates, and trains on as unsharded", async () => {
    const { ck, manifest, textFile } = await cliCheckpoint(
      brownExcerpt(1).split('\n').slice(0, 400).join('\n'),
      'train.txt',
      ['--cell', 'lstm', '--layers', '1', '--emb', '16', '--hidden', '32', '--proj', '16', '--batch', '4', '--bptt', '5', '--sampled', '8'],
      3,
    );
    const V = manifest.config.vocabSize as number;
    const files = ['config.json', manifest.files.model, manifest.files.vocab, manifest.files.optimizer].map((f: string) => join(ck, f));
    const losses: number[][] = [];
    for (const query of ['', '?maxBindingBytes=16KiB']) {
      const { page, errors } = await openPage(query);
      await waitFor(page, 'window.flstmDemo.adapter !== null || window.flstmDemo.state === "error"');
      await page.setInputFiles('#ck-file', files);
      await page.waitForFunction(() => window.flstmDemo.checkpoint !== null || window.flstmDemo.state === 'error', null, {
        timeout: 60_000,
      });
      const d = await demoOf(page);
      expect(d.error).toBeUndefined();
      // 16 KiB hold 256 rows of 16 floats: the embedding and softmax in ceil(V / 256) shards.
      const shards = query ? Math.ceil(V / 256) : 1;
      expect(d.tableShards).toEqual([shards, shards, shards]);
      expect((await generateIn(page, 'The', 12)).split(' ')).toHaveLength(13);
      await giveText(page, textFile);
      await page.fill('#steps', '2');
      await page.click('#train');
      await waitFor(page, "(window.flstmDemo.state === 'done' && window.flstmDemo.step === 5) || window.flstmDemo.state === 'error'");
      const after = await demoOf(page);
      expect(after.error).toBeUndefined();
      losses.push(after.history.map((h) => h.loss));
      expect(errors).toEqual([]);
      await page.close();
    }
    expect(V).toBeGreaterThan(512); // three shards or more
    expect(losses[1].length).toBe(losses[0].length);
    losses[1].forEach((l, i) => expect(l).toBeCloseTo(losses[0][i], 5));
  });

  it('a corrupt, truncated or foreign file gets the message the CLI gives, and the page keeps its model', async () => {
    const { ck, manifest, dir } = await cliCheckpoint(
      brownExcerpt(1).split('\n').slice(0, 300).join('\n'),
      'train.txt',
      ['--cell', 'lstm', '--layers', '1', '--emb', '8', '--hidden', '16', '--proj', '8', '--batch', '4', '--bptt', '5', '--sampled', '8'],
      2,
    );
    const good = join(ck, manifest.files.model);
    const bytes = readFileSync(good);
    const header = 8 + Number(bytes.readBigUInt64LE(0));
    const bad: [string, Buffer][] = [
      ['truncated.safetensors', bytes.subarray(0, Math.floor(bytes.length / 2))],
      ['header-cut.safetensors', bytes.subarray(0, header - 10)],
      ['random.safetensors', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24))],
      ['foreign.safetensors', foreignSafetensors()],
      [
        'negative-step.safetensors',
        withConfig(bytes, (c) => {
          c.step = -5;
        }),
      ],
      [
        'no-model-section.safetensors',
        withConfig(bytes, (c) => {
          delete (c.train as Record<string, unknown>).model;
        }),
      ],
      ['notes.txt', Buffer.from('just some text\n')],
    ];
    const { page, errors } = await openPage('');
    await waitFor(page, 'window.flstmDemo.adapter !== null || window.flstmDemo.state === "error"');
    await page.setInputFiles('#ck-file', [good]);
    await page.waitForFunction(() => window.flstmDemo.checkpoint !== null || window.flstmDemo.state === 'error', null, { timeout: 60_000 });
    const loaded = (await demoOf(page)).checkpoint;
    expect(loaded?.step).toBe(2);
    for (const [name, content] of bad) {
      const file = join(dir, name);
      await writeFile(file, content);
      await page.setInputFiles('#ck-file', [file]);
      await page.waitForFunction(() => window.flstmDemo.state === 'error', null, { timeout: 60_000 });
      const d = await demoOf(page);
      expect(d.error, name).toMatch(new RegExp(`^flstm: .*${name.replace('.', '\\.')}`));
      expect(d.error, name).not.toMatch(
        /Cannot read|undefined|is not a function|Invalid typed array|Unexpected token|RangeError|TypeError/,
      );
      expect(d.checkpoint, `${name}: the page keeps the model it had`).toEqual(loaded);
      if (!name.endsWith('.safetensors')) continue; // the CLI takes no such file for a checkpoint
      // The CLI says the same of the same file (its path where the page has the file's name).
      const r = spawnSync(process.execPath, [cli(), 'eval', '--checkpoint', file], { encoding: 'utf8' });
      expect(r.status, name).not.toBe(0);
      const cliMessage = r.stderr
        .trim()
        .split('\n')
        .pop()!
        .replace(file, name)
        .replace(/^flstm eval: /, 'flstm: ');
      expect(d.error, name).toBe(cliMessage);
    }
    expect(await page.locator('#ck-status').innerText()).toMatch(/^Not loaded: flstm: .*The model in use is unchanged\.$/);
    // It still generates with the model it had.
    await page.fill('#prompt', 'The');
    await page.fill('#gen-tokens', '5');
    await page.click('#generate');
    await page.waitForFunction(() => window.flstmDemo.generated !== null, null, { timeout: 60_000 });
    expect((await demoOf(page)).generated!.split(' ')).toHaveLength(6);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the Text card and the status line give one word count for the Brown excerpt: its words', async () => {
    const words = wordsIn(readFileSync(join(ROOT, 'dist/web/brown-excerpt.txt'), 'utf8'));
    const { page, errors } = await openPage('?cell=lstm&size=tiny&steps=2');
    await waitFor(page, "/ words, /.test(document.getElementById('text-hint').textContent) || window.flstmDemo.state === 'error'");
    expect(await page.locator('#text-hint').innerText()).toContain(` ${fmt(words)} words, `);
    const statuses = await recordStatuses(page);
    await page.click('#train');
    const d = await waitForRun(page);
    expect(d.error).toBeUndefined();
    const training = (await statuses()).filter((t) => t.startsWith('Training LSTM on'));
    expect(training.length).toBeGreaterThan(0);
    for (const t of training) expect(t).toContain(`on the Brown corpus excerpt (${fmt(words)} words, vocabulary `);
    expect(await page.locator('#status').innerText()).toMatch(/validation perplexity [\d.]+ on [\d,]+ held-out tokens\./);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('refuses to train a checkpoint of another text on the Brown excerpt, naming the share of unknown words, and trains on its own text', async () => {
    const { ck, manifest, textFile } = await cliCheckpoint(
      'the quick brown fox jumps over dogs\nfour small cats sleep in warm sun\nred birds sing songs at early dawn\n',
      'tiny.txt',
      ['--cell', 'lstm', '--layers', '1', '--emb', '8', '--hidden', '16', '--proj', '8', '--batch', '2', '--bptt', '3', '--sampled', '0'],
      2,
    );
    const data: string = manifest.config.train.data;
    const V: number = manifest.config.vocabSize;
    const vocab = new Set(
      readFileSync(join(ck, manifest.files.vocab), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[0]),
    );
    // The excerpt in the model's vocabulary: its words and the <eos> ending each line.
    const lines = readFileSync(join(ROOT, 'dist/web/brown-excerpt.txt'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const tokens = lines.flatMap((l) => [...l.split(/\s+/), '<eos>']);
    const share = (100 * tokens.filter((w) => !vocab.has(w)).length) / tokens.length;

    const { page, errors } = await openPage('?steps=2');
    await waitFor(page, 'window.flstmDemo.adapter !== null || window.flstmDemo.state === "error"');
    await page.setInputFiles(
      '#ck-file',
      ['config.json', manifest.files.model, manifest.files.vocab, manifest.files.optimizer].map((f: string) => join(ck, f)),
    );
    await page.waitForFunction(() => window.flstmDemo.checkpoint !== null || window.flstmDemo.state === 'error', null, { timeout: 60_000 });
    expect(await page.locator('#ck-status').innerText()).toContain(`trained 2 steps on ${data}.`);
    // Train on the selected text, the Brown excerpt: refused, nothing trained.
    await page.click('#train');
    let d = await waitForRun(page);
    expect(d.state).toBe('error');
    expect(d.error).toBe(
      `flstm: ${share.toFixed(1)}% of the ${fmt(tokens.length)} tokens of the Brown corpus excerpt are words outside the model's ${V}-word vocabulary, ` +
        `against 0.0% of the text it was trained on (${data}): on it the model would learn little but <unk>, and its loss would measure nothing. ` +
        'Give the text the model was trained on (text with up to 5.0% of its tokens outside the vocabulary is taken)',
    );
    expect(share).toBeGreaterThan(50);
    expect(d.step).toBe(2);
    expect(d.history).toEqual([]);
    expect(await page.locator('#status').innerText()).toBe(`Not trained: ${d.error}`);
    // The Text card asks for the model's text.
    expect(await page.locator('#own-text').isVisible()).toBe(true);
    expect(await page.locator('#text-hint').innerText()).toBe(
      `The model was trained on ${data}: drop or paste that text here, then press Train.`,
    );
    // Given it, the model trains on from step 2, and the card and the status count its 21 words alike.
    await page.setInputFiles('#text-file', textFile);
    await page.waitForFunction(() => document.getElementById('text-hint')!.textContent === 'tiny.txt: 21 words.', null, {
      timeout: 30_000,
    });
    const statuses = await recordStatuses(page);
    await page.click('#train');
    await waitFor(page, "(window.flstmDemo.state === 'done' && window.flstmDemo.step === 4) || window.flstmDemo.state === 'error'");
    d = await demoOf(page);
    expect(d.error).toBeUndefined();
    expect(d.history.length).toBeGreaterThan(0);
    expect(d.history.every((h) => h.step > 2 && Number.isFinite(h.loss))).toBe(true);
    expect((await statuses()).some((t) => t.includes(`on tiny.txt (21 words, vocabulary ${V})`))).toBe(true);
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
    // The page's run seed from freshSeed: FLSTM_TEST_SEED replays the Chromium run too.
    const { page, errors } = await openPage(`selfcheck.html?seed=${freshSeed()}`);
    await waitFor(page, 'window.flstmSelfCheck && window.flstmSelfCheck.done', 300_000);
    const s = (await page.evaluate(() => window.flstmSelfCheck)) as { results: CheckResult[]; error?: string; adapter: string };
    expect(s.error).toBeUndefined();
    const failed = s.results.filter((r) => r.status === 'fail').map((r) => `${r.group} / ${r.name}: ${r.message}`);
    expect(failed).toEqual([]);
    expect(s.results.filter((r) => r.status === 'pass').length).toBeGreaterThan(35);
    // Every kernel family ran (the subgroup matmul only where the adapter has the lanes).
    for (const g of ['matmul', 'groupedMatmul', 'elementwise', 'reduce', 'embedding', 'softmaxCrossEntropy', 'dropout', 'lstm']) {
      expect(
        s.results.some((r) => r.group === g && r.status === 'pass'),
        g,
      ).toBe(true);
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
