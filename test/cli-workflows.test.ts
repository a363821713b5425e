// The CLI as people use it over several commands: evaluating and generating in a checkpoint's
// own vocabulary (a page model included), resuming from the folder alone, stopping at the next
// step on Ctrl-C or SIGTERM, stderr free of Dawn's native warnings whatever stderr is, sampling
// options, `flstm compare` (its table, files, --json, an interrupted comparison resumed to the
// same rows) and `flstm chart`. The built CLI runs in child processes on tiny text corpora.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { decodeModelBundle, encodeModelBundle } from '../src/train/bundle.js';
import { loadModel } from '../src/train/load.js';
import { evaluate } from '../src/train/evaluate.js';
import { CORPUS_WORDS, corpusText, useDevice } from './helpers.js';
import { root, runCli, useBuiltCli, TINY_MODEL, words } from './cli-helpers.js';

useBuiltCli();
useDevice();

const TINY = [...TINY_MODEL, ...words('--sampled 8 --sample 0 --eval-tokens 200')];
let tmp: string;
let data: string;
let base: string;

function cli(...args: string[]) {
  const r = runCli(args, 120_000);
  // No command prints Dawn's native limit warnings, whatever its stderr is (here a socket).
  expect(r.stderr).not.toMatch(/artificially reduced/);
  return r;
}

function jsonLines(stdout: string): Record<string, any>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

function ok(r: ReturnType<typeof cli>) {
  expect(r.status, r.stdout + r.stderr).toBe(0);
  return r;
}

/** The config a checkpoint folder saved. */
function savedConfig(dir: string): Record<string, any> {
  return JSON.parse(readFileSync(join(dir, 'checkpoint', 'config.json'), 'utf8')).config;
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'flstm-cli-workflows-'));
  writeFileSync(join(tmp, 'train.txt'), corpusText(40, 41));
  writeFileSync(join(tmp, 'valid.txt'), corpusText(8, 42));
  writeFileSync(join(tmp, 'test.txt'), corpusText(8, 43));
  data = `text:${join(tmp, 'train.txt')},${join(tmp, 'valid.txt')},${join(tmp, 'test.txt')}`;
  base = join(tmp, 'base');
  ok(cli('train', '--data', data, ...TINY, '--steps', '6', '--out', base, '--json'));
}, 120_000);
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Runs the CLI in the background; resolves when it exits. `onLine` sees each stdout line. */
function background(args: string[], onLine: (line: string, child: ReturnType<typeof spawn>) => void) {
  const child = spawn(process.execPath, ['dist/cli.js', ...args], { cwd: root, env: { ...process.env, NODE_OPTIONS: '' } });
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.on('data', (d) => {
    stdout += d;
    pending += d;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const l of lines) if (l.trim()) onLine(l, child);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe("a checkpoint's own vocabulary", () => {
  it("eval --data encodes the text with the checkpoint's vocabulary, words it lacks as <unk>, and says how many", async () => {
    // A model with a 8-word vocabulary (<unk>, <eos> and the 6 most frequent training words).
    const small = join(tmp, 'small-vocab');
    ok(cli('train', '--data', data, ...TINY, '--vocab-size', '8', '--sampled', '0', '--steps', '4', '--out', small, '--json'));
    // Other text whose own 8 most frequent words differ from the model's.
    const other = join(tmp, 'other.txt');
    const rotated = corpusText(30, 44)
      .split('\n')
      .map((l) =>
        l
          .split(' ')
          .map((w) => (w ? CORPUS_WORDS[(CORPUS_WORDS.indexOf(w) + 7) % CORPUS_WORDS.length] : w))
          .join(' '),
      )
      .join('\n');
    writeFileSync(other, rotated);
    const r = ok(cli('eval', '--checkpoint', join(small, 'checkpoint'), '--data', `text:${other},${other}`, '--json'));
    const got = jsonLines(r.stdout).find((l) => l.type === 'eval')!;

    // The reference: the words mapped by the checkpoint's vocabulary file, evaluated in process.
    const loaded = await loadModel(join(small, 'checkpoint'));
    const ids: number[] = [];
    for (const line of rotated.split('\n')) {
      if (!line.trim()) continue;
      for (const w of line.trim().split(/\s+/)) ids.push(loaded.vocab.get(w) ?? loaded.vocab.unkId);
      ids.push(loaded.vocab.get('<eos>')!);
    }
    const split = { kind: 'array' as const, name: 'valid', tokens: Int32Array.from(ids) };
    const ref = await evaluate(loaded.model, split, { batchSize: 4, bptt: 5, unkId: loaded.vocab.unkId });
    // The text's own vocabulary (what eval used to build) gives other ids and another perplexity.
    const own = await fl.data.loadCorpus(`text:${other}`, { maxVocab: 8 });
    const wrong = await evaluate(loaded.model, own.splits.train, { batchSize: 4, bptt: 5 });
    loaded.model.dispose();

    expect(got.tokens).toBe(ref.tokens);
    expect(got.unk).toBe(ref.unk);
    expect(got.unk).toBeGreaterThan(got.tokens / 4);
    expect(Math.abs(got.ppl - ref.ppl) / ref.ppl).toBeLessThan(1e-5);
    expect(Math.abs(wrong.ppl - ref.ppl) / ref.ppl).toBeGreaterThan(0.05);
    const plain = ok(cli('eval', '--checkpoint', join(small, 'checkpoint'), '--data', `text:${other},${other}`));
    expect(plain.stdout).toMatch(new RegExp(`, ${got.unk} of them <unk> \\(${((100 * got.unk) / got.tokens).toFixed(1)}%\\)`));
    expect(plain.stderr).toMatch(
      /^flstm eval: note: [\d.]+% of the tokens are words outside the model's 8-word vocabulary; .*not comparable/m,
    );
  });

  it('a model saved by the demo page evaluates in the CLI: its Brown excerpt on Brown, other page text with --data', () => {
    const modelFile = readFileSync(
      join(base, 'checkpoint', JSON.parse(readFileSync(join(base, 'checkpoint', 'config.json'), 'utf8')).files.model),
    );
    const bundle = decodeModelBundle<Record<string, any>>(modelFile);
    const page = (dataName: string) => {
      const f = join(tmp, `page-${dataName.replace(/\W/g, '')}.safetensors`);
      const weights = Object.fromEntries(Object.entries(bundle.model).filter(([k]) => !k.startsWith('state.')));
      // As the page saves it: no carried state, and no record of the CLI's corpus files (config.corpus).
      const { corpus: _, ...config } = bundle.config;
      writeFileSync(
        f,
        encodeModelBundle({
          model: weights,
          config: { ...config, stateLayers: 0, train: { ...bundle.config.train, data: dataName } },
          vocab: bundle.vocab,
        }),
      );
      return f;
    };
    const brown = cli('eval', '--checkpoint', page('web:brown-excerpt'), '--max-tokens', '410', '--json');
    ok(brown);
    const e = jsonLines(brown.stdout).find((l) => l.type === 'eval')!;
    // Batches of 4 x 5: 410 tokens asked end inside the 21st, which scores its first 10 positions only.
    expect(e.tokens).toBe(410);
    expect(
      jsonLines(brown.stdout)
        .filter((l) => l.type === 'eval-progress')
        .at(-1),
    ).toMatchObject({ tokens: 410, total: 410, eta: 0 });
    expect(e).toMatchObject({ data: 'brown', split: 'valid', step: 6 });
    expect(e.unk / e.tokens).toBeGreaterThan(0.5); // Brown words the tiny model never saw
    const readable = cli('eval', '--checkpoint', page('web:brown-excerpt'), '--max-tokens', '403');
    expect(readable.stderr).toMatch(/trained in the demo page on a Brown excerpt: evaluating on the Brown corpus/);
    expect(readable.stdout).toMatch(/^valid perplexity [\d.]+ \(loss [\d.]+, 403 tokens, /);
    const pasted = cli('eval', '--checkpoint', page('web:pasted text'));
    expect(pasted.status).toBe(2);
    expect(pasted.stderr.trim()).toMatch(
      /^flstm eval: the model was trained in the demo page on "pasted text", which flstm cannot read: give --data/,
    );
    ok(cli('eval', '--checkpoint', page('web:pasted text'), '--data', data));
  });

  it("train --resume encodes a changed corpus with the checkpoint's vocabulary (new words as <unk>)", () => {
    const run = join(tmp, 'grown');
    const corpus = join(tmp, 'grown.txt');
    writeFileSync(corpus, corpusText(40, 45));
    ok(cli('train', '--data', `text:${corpus}`, ...TINY, '--steps', '3', '--out', run, '--json'));
    const vocabBefore = savedConfig(run).vocabSize;
    writeFileSync(corpus, `${corpusText(40, 45)}zebra yak gnu zebra\n`);
    const r = ok(cli('train', '--resume', '--out', run, '--steps', '5', '--json'));
    const start = jsonLines(r.stdout)[0];
    expect(start).toMatchObject({ type: 'start', resumed: true, step: 3, vocab: vocabBefore });
    expect(start.trainUnk).toBe(4);
  });
});

describe('resume', () => {
  it("--resume --out DIR alone continues with the checkpoint's options; --lr may change, others are each named", () => {
    const run = join(tmp, 'alone');
    ok(
      cli('train', '--data', data, ...TINY, '--cell', 'flstm', '--factor', '4', '--dropout', '0.2', '--steps', '3', '--out', run, '--json'),
    );
    const first = savedConfig(run).train;
    const r = ok(cli('train', '--resume', '--out', run, '--steps', '5', '--json'));
    expect(jsonLines(r.stdout)[0]).toMatchObject({ type: 'start', step: 3, resumed: true });
    expect(savedConfig(run).train).toEqual(first);
    expect(savedConfig(run).step).toBe(5);
    ok(cli('train', '--resume', '--out', run, '--steps', '6', '--lr', '0.1', '--json'));
    expect(savedConfig(run).train).toEqual({ ...first, lr: 0.1 });
    const refused = cli('train', '--resume', '--out', run, '--steps', '8', '--cell', 'lstm', '--emb', '16');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/--cell "flstm" in the checkpoint, "lstm" now/);
    expect(refused.stderr).toMatch(/--emb 8 in the checkpoint, 16 now/);
    expect(refused.stderr).toMatch(/--factor 4 in the checkpoint, \(not set\) now/);
  });
});

describe('stopping', () => {
  // Steps slow enough (a wider model) that the run is mid-way when the signal comes.
  const SLOW = [
    '--data',
    'brown',
    '--emb',
    '64',
    '--hidden',
    '256',
    '--proj',
    '64',
    '--layers',
    '1',
    '--batch',
    '16',
    '--bptt',
    '20',
    '--sampled',
    '64',
    '--sample',
    '0',
    '--eval-tokens',
    '0',
    '--vocab-size',
    '2000',
  ];

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} stops at the next step, not the next progress line or save, saves and exits ${signal === 'SIGINT' ? 130 : 143}`, async () => {
      const out = join(tmp, `stop-${signal}`);
      let sentAt: number | null = null;
      const r = await background(
        ['train', ...SLOW, '--steps', '400', '--log-every', '200', '--save-every', '400', '--out', out, '--json'],
        (line, child) => {
          // The first step has run (its kernels compiled) once 'compiled' or a later event arrives; wait a moment more.
          if (sentAt === null && /"type":"start"/.test(line)) {
            sentAt = 0;
            setTimeout(() => {
              sentAt = Date.now();
              child.kill(signal);
            }, 2500);
          }
        },
      );
      expect(sentAt, r.stderr).not.toBeNull();
      expect(r.code, r.stderr).toBe(signal === 'SIGINT' ? 130 : 143);
      const lines = jsonLines(r.stdout);
      const summary = lines[lines.length - 1];
      expect(summary).toMatchObject({ type: 'summary', stopReason: 'interrupted' });
      // Stopped well before the next progress line (step 200) would have read the GPU back.
      expect(summary.step).toBeGreaterThan(0);
      expect(summary.step).toBeLessThan(200);
      expect(lines.some((l) => l.type === 'progress')).toBe(false);
      expect(savedConfig(out).step).toBe(summary.step);
    });
  }
});

describe("Dawn's native warnings", () => {
  it('never reach stderr: a socket (above), a file, a pipe, a terminal-less shell; the library filters them too', () => {
    const errFile = join(tmp, 'stderr.txt');
    const fd = openSync(errFile, 'w');
    const toFile = spawnSync(process.execPath, ['dist/cli.js', 'info', '--json'], {
      cwd: root,
      stdio: ['ignore', 'pipe', fd],
      encoding: 'utf8',
    });
    closeSync(fd);
    expect(toFile.status).toBe(0);
    expect(readFileSync(errFile, 'utf8')).toBe('');
    const piped = spawnSync('bash', ['-c', `"${process.execPath}" dist/cli.js info --json 2>&1 >/dev/null | cat`], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(piped.stdout).toBe('');
    const lib = spawnSync(
      'bash',
      [
        '-c',
        `"${process.execPath}" --input-type=module -e "const fl = await import('./dist/index.js'); await fl.init(); process.stderr.write('after init\\n'); fl.dispose();" 2>&1 | cat`,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(lib.stdout).toBe('after init\n');
    // The filter is real: asked to keep them, Dawn prints them on this adapter.
    const kept = spawnSync(
      'bash',
      [
        '-c',
        `"${process.execPath}" --input-type=module -e "const fl = await import('./dist/index.js'); await fl.init({ dawnWarnings: true }); fl.dispose();" 2>&1 | cat`,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(kept.stdout).toMatch(/^Warning: maxDynamic\w+ artificially reduced/m);
  });

  it('leave a log written as `> log 2>&1` whole: stdout does not write over stderr', () => {
    const log = join(tmp, 'combined.log');
    const fd = openSync(log, 'w');
    const args = ['dist/cli.js', 'generate', '--checkpoint', join(base, 'checkpoint'), '--prompt', 'the zebra ate', '--tokens', '3'];
    const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    expect(r.status).toBe(0);
    const [notice, ...text] = readFileSync(log, 'utf8').split('\n');
    expect(notice).toBe('flstm generate: the vocabulary lacks "zebra", "ate": the model read them as <unk>');
    expect(text.join('\n').startsWith('the zebra ate')).toBe(true);
  });

  it("without libc's dup and dup2 (no koffi): a socket is filtered by a child process, a file is left as it is", () => {
    // A module hook that makes `import('koffi')` fail, in this process and in any child it starts.
    const hook = `data:text/javascript,import{register}from"node:module";register(${JSON.stringify('data:text/javascript,export async function resolve(s,c,n){if(s==="koffi")throw new Error("no koffi");return n(s,c)}')})`;
    const args = ['--import', hook, 'dist/cli.js', 'info', '--json'];
    const socket = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
    expect(socket.status).toBe(0);
    expect(socket.stderr).toBe('');
    const errFile = join(tmp, 'stderr-no-koffi.txt');
    const fd = openSync(errFile, 'w');
    const toFile = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', fd] });
    closeSync(fd);
    expect(toFile.status).toBe(0);
    expect(readFileSync(errFile, 'utf8')).toMatch(/^Warning: maxDynamic\w+ artificially reduced/m);
  });
});

describe('generate', () => {
  const gen = (...a: string[]) =>
    jsonLines(ok(cli('generate', '--checkpoint', join(base, 'checkpoint'), '--tokens', '10', '--json', ...a)).stdout)[0];

  it('top-k 1 and a tiny top-p are the most likely word each time; top-k 3 draws among three; unknown prompt words are named', () => {
    const greedy = gen('--prompt', 'the cat', '--temperature', '0');
    expect(gen('--prompt', 'the cat', '--top-k', '1', '--seed', '3')).toEqual(greedy);
    expect(gen('--prompt', 'the cat', '--top-p', '0.0001', '--seed', '4')).toEqual(greedy);
    const sampled = [5, 6, 7].map((s) => gen('--prompt', 'the cat', '--top-k', '3', '--seed', String(s)).text);
    expect(new Set(sampled).size).toBeGreaterThan(1);
    const unknown = cli('generate', '--checkpoint', join(base, 'checkpoint'), '--prompt', 'the zebra ate', '--tokens', '3');
    ok(unknown);
    expect(unknown.stderr.trim()).toBe('flstm generate: the vocabulary lacks "zebra", "ate": the model read them as <unk>');
    expect(unknown.stdout.startsWith('the zebra ate')).toBe(true);
    expect(gen('--prompt', 'the zebra').unknown).toEqual(['zebra']);
    for (const [flag, value] of [
      ['--top-k', '0'],
      ['--top-p', '1.5'],
      ['--top-p', '0'],
      ['--temperature', ''],
    ]) {
      const bad = cli('generate', '--checkpoint', join(base, 'checkpoint'), flag, value);
      expect(bad.status, `${flag} ${value}`).toBe(2);
      expect(bad.stderr).toContain(`${flag} must be`);
    }
  });
});

describe('flstm compare and flstm chart', () => {
  // A getter: `data` is set in beforeAll.
  const cmp = () => [
    '--data',
    data,
    ...TINY_MODEL,
    '--sampled',
    '8',
    '--steps',
    '6',
    '--eval-every',
    '3',
    '--eval-tokens',
    '100',
    '--cells',
    'lstm,glstm:2',
  ];

  it('trains each cell to the same budget, prints the table, writes compare.json and compare.svg; --json gives one line per cell, a resumed finished one too', () => {
    const out = join(tmp, 'cmp');
    const r = ok(cli('compare', ...cmp(), '--out', out));
    const table = r.stdout.slice(r.stdout.lastIndexOf('\ncell '));
    expect(table).toMatch(/^\ncell +params +RNN params +steps +words\/s +valid ppl +test ppl +wall time +evaluated$/m);
    expect(table).toMatch(/^LSTM +[\d.]+M +[\d.]+M +6 +[\d,]+ +[\d.]+ +[\d.]+ +\S+ +(best|last) \(step \d+, trained weights\)$/m);
    expect(table).toMatch(/^G-LSTM k=2 +[\d.]+M +[\d.]+M +6 /m);
    const file = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
    expect(file.rows.map((row: any) => row.cell)).toEqual(['lstm', 'glstm:2']);
    expect(file.rows.map((row: any) => row.weights)).toEqual(['trained', 'trained']);
    // 6 steps is a small budget: the first 20,000 tokens of each split, here all of these short ones.
    const [validTokens, testTokens] = [file.rows[0].validTokens, file.rows[0].testTokens];
    expect(r.stdout).toContain(`\nperplexities of the whole validation and test splits (${validTokens} and ${testTokens} tokens):\ncell `);
    for (const row of file.rows) {
      expect(row).toMatchObject({ finalTokens: 20000, validTokens, testTokens });
      expect(row.steps).toBe(6);
      expect(row.rnnParams).toBeLessThan(row.params);
      expect(row.validPpl).toBeGreaterThan(1);
      expect(row.testPpl).toBeGreaterThan(1);
      expect(existsSync(join(out, row.cell === 'lstm' ? 'lstm' : 'glstm-2', 'best', 'config.json'))).toBe(true);
    }
    // G-LSTM k=2 halves the gate matrix: fewer RNN parameters than LSTM.
    expect(file.rows[1].rnnParams).toBeLessThan(file.rows[0].rnnParams);
    const svg = readFileSync(join(out, 'compare.svg'), 'utf8');
    for (const i of [0, 1]) expect(svg).toMatch(new RegExp(`class="series valid-ppl run-${i}" data-points="2"`)); // steps 3 and 6 (the last)
    const json = ok(cli('compare', ...cmp(), '--out', join(tmp, 'cmp-json'), '--json'));
    const rows = jsonLines(json.stdout);
    expect(rows.map((row) => row.cell)).toEqual(['lstm', 'glstm:2']);
    expect(rows[0].validPpl).toBe(file.rows[0].validPpl); // the same seed and recipe: the same run
    // A finished comparison resumed prints its rows as its run did, and trains nothing.
    const resumed = ok(cli('compare', '--resume', '--out', join(tmp, 'cmp-json'), '--json'));
    expect(jsonLines(resumed.stdout)).toEqual(rows);
    const again = cli('compare', ...cmp(), '--out', out);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already holds a comparison: --resume continues it/);
  });

  it('--final-tokens N scores the first N tokens of each split, as eval --max-tokens N does, and the table says so', () => {
    const out = join(tmp, 'cmp-final-tokens');
    const r = ok(cli('compare', ...cmp(), '--cells', 'lstm', '--final-tokens', '37', '--out', out));
    expect(r.stdout).toContain('[LSTM] final evaluation: the best checkpoint on the first 37 tokens of the validation and test splits\n');
    expect(r.stdout).toContain('\nperplexities of the first 37 tokens of the validation and test splits:\ncell ');
    const row = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')).rows[0];
    expect(row).toMatchObject({ finalTokens: 37, validTokens: 37, testTokens: 37, evaluated: 'best' });
    for (const [split, ppl] of [
      ['valid', row.validPpl],
      ['test', row.testPpl],
    ]) {
      const ev = jsonLines(
        ok(cli('eval', '--checkpoint', join(out, 'lstm', 'best'), '--split', split, '--max-tokens', '37', '--json')).stdout,
      ).at(-1)!;
      expect(ev.tokens).toBe(37);
      expect(ev.ppl, split).toBeCloseTo(ppl, 8);
    }
    // Resumed with another count, the finished cell is evaluated anew, not trained again.
    const again = jsonLines(ok(cli('compare', '--resume', '--out', out, '--final-tokens', '45', '--json')).stdout);
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({
      cell: 'lstm',
      steps: 6,
      finalTokens: 45,
      validTokens: 45,
      testTokens: 45,
      trainSeconds: row.trainSeconds,
    });
    const bad = cli('compare', ...cmp(), '--final-tokens', 'some', '--out', join(tmp, 'cmp-bad'));
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe("flstm compare: --final-tokens must be a positive integer or 'all', got 'some'");
  });

  it('an interrupted comparison keeps its finished rows; --resume finishes it with the rows an uninterrupted one gives', async () => {
    const straight = JSON.parse(readFileSync(join(tmp, 'cmp', 'compare.json'), 'utf8'));
    const out = join(tmp, 'cmp-interrupted');
    const slow = [...cmp().map((a) => (a === '6' ? '150' : a)), '--eval-every', '75', '--log-every', '1'];
    const r = await background(['compare', ...slow, '--out', out], (line, child) => {
      if (line.startsWith('[G-LSTM k=2] step 2/')) child.kill('SIGINT');
    });
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/stopped during G-LSTM k=2; 1 finished row kept in .*compare\.json; --resume --out .* continues/);
    const kept = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
    expect(kept.rows.map((row: any) => row.cell)).toEqual(['lstm']);
    const resumed = ok(cli('compare', '--resume', '--out', out));
    expect(resumed.stdout).not.toMatch(/flstm compare: LSTM,/); // the finished row is kept, not retrained
    const done = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
    expect(done.rows.map((row: any) => row.cell)).toEqual(['lstm', 'glstm:2']);
    expect(done.rows[0]).toEqual(kept.rows[0]);
    // The resumed G-LSTM run continues exactly: its figures equal those of a straight comparison of the same options.
    const ref = ok(cli('compare', ...slow, '--cells', 'glstm:2', '--out', join(tmp, 'cmp-glstm-straight'), '--json'));
    const refRow = jsonLines(ref.stdout)[0];
    expect(done.rows[1].validPpl).toBe(refRow.validPpl);
    expect(done.rows[1].testPpl).toBe(refRow.testPpl);
    expect(straight.rows.length).toBe(2);
    const changed = cli('compare', '--resume', '--out', out, '--hidden', '32');
    expect(changed.status).toBe(1);
    expect(changed.stderr).toMatch(/--hidden 16 before, 32 now/);
  });

  it('chart overlays runs: one series per run in each panel, against time or step', () => {
    const file = join(tmp, 'overlay.svg');
    const r = ok(cli('chart', join(tmp, 'cmp', 'lstm'), join(tmp, 'cmp', 'glstm-2'), '--out', file, '--x', 'step'));
    expect(r.stdout).toMatch(/^wrote .*overlay\.svg: lstm \(2 validations\), glstm-2 \(2 validations\)$/m);
    const svg = readFileSync(file, 'utf8');
    expect(svg.match(/class="series train-loss run-\d"/g)).toHaveLength(2);
    expect(svg.match(/class="series valid-ppl run-\d"/g)).toHaveLength(2);
    expect(svg).toContain('>step</text>');
    expect(cli('chart').status).toBe(2);
    const missing = cli('chart', join(tmp, 'no-such-run'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/the metrics log '.*no-such-run\/metrics\.jsonl' does not exist/);
  });
});
