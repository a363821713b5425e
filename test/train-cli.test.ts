// `flstm train / eval / generate` through the built CLI (dist/cli.js in a child process), on a
// tiny text corpus the tests write: JSON output shapes, deterministic generation, a NaN loss
// that stops the run and keeps the last good checkpoint, SIGINT that saves before exiting,
// and bad input or damaged files that each get one clear message and lose nothing saved.
import { execSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS_WORDS, corpusText } from './helpers.js';
import { sourcesMtime } from './cli-helpers.js';

const root = resolve(__dirname, '..');

let tmp: string;
let data: string;
/** A run trained once in beforeAll: eval, generate and the damaged copies start from it. */
let base: string;
const TINY = ['--emb', '8', '--hidden', '16', '--proj', '8', '--batch', '4', '--bptt', '5', '--sampled', '8', '--sample', '0'];

function node(args: string[], timeout = 60_000) {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout, env: { ...process.env, NODE_OPTIONS: '' } });
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

function jsonLines(stdout: string): Record<string, any>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

/** One error line on stderr (no stack trace) with the exit code; returns the line. */
function oneError(r: ReturnType<typeof cli>, status: number): string {
  expect(r.status, r.stdout + r.stderr).toBe(status);
  const msg = ours(r.stderr);
  expect(msg, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  return msg[0];
}

function filesOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir)) out[f] = readFileSync(join(dir, f)).toString('base64');
  return out;
}

beforeAll(() => {
  // `npm test` builds first; run alone, build when dist/cli.js is missing or older than the sources.
  const cliJs = join(root, 'dist/cli.js');
  if (!existsSync(cliJs) || statSync(cliJs).mtimeMs < sourcesMtime()) {
    const started = Date.now();
    try {
      execSync('npm run build', { cwd: root, stdio: 'pipe' });
    } catch (err) {
      // The bundles come before the type declarations: a type error elsewhere (npm test's tsc
      // reports it) leaves a fresh dist/cli.js, which is what these tests run.
      if (!existsSync(cliJs) || statSync(cliJs).mtimeMs < started - 1000) throw err;
    }
  }

  tmp = mkdtempSync(join(tmpdir(), 'flstm-train-cli-'));
  writeFileSync(join(tmp, 'train.txt'), corpusText(40, 31));
  writeFileSync(join(tmp, 'valid.txt'), corpusText(8, 32));
  writeFileSync(join(tmp, 'test.txt'), corpusText(8, 33));
  data = `text:${join(tmp, 'train.txt')},${join(tmp, 'valid.txt')},${join(tmp, 'test.txt')}`;
  base = join(tmp, 'base');
  const r = cli('train', '--data', data, ...TINY, '--steps', '8', '--save-every', '4', '--out', base, '--json');
  if (r.status !== 0) throw new Error(`training the base run failed: ${r.stderr}`);
}, 120_000);
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('flstm train', () => {
  it('--json prints JSON lines only: start, progress, checkpoint, eval, summary; the run folder has what it says', () => {
    const lines = jsonLines(
      cli('train', '--data', data, ...TINY, '--steps', '4', '--log-every', '2', '--out', join(tmp, 'json'), '--json', '--sample', '5')
        .stdout,
    );
    expect(lines[0]).toMatchObject({ type: 'start', step: 0, resumed: false, vocab: expect.any(Number), params: expect.any(Number) });
    expect(lines.filter((l) => l.type === 'progress').map((l) => l.step)).toEqual([2, 4]);
    for (const p of lines.filter((l) => l.type === 'progress')) {
      expect(p.loss).toBeGreaterThan(0);
      // A sampled-softmax loss is named so; its exp is not the model's perplexity, so none is given.
      expect(p.objective).toBe('sampled-softmax');
      expect(p.ppl).toBeUndefined();
      expect(p.line).toMatch(/^step \d+\/4 +sampled-softmax loss [\d.]+ +[\d,]+ words\/s/);
      expect(p.line).not.toMatch(/ppl/);
    }
    expect(lines.some((l) => l.type === 'checkpoint' && l.step === 4)).toBe(true);
    // Each save says it has begun, then the bytes written, the last of them all its files' bytes, before it ends.
    let from = 0;
    for (const [i, c] of lines.entries()) {
      if (c.type !== 'checkpoint') continue;
      const saving = lines.slice(from, i).filter((l) => l.type === 'saving');
      from = i + 1;
      expect(saving[0]).toEqual({ type: 'saving', step: c.step, dir: c.dir, bytes: 0 });
      expect(saving.at(-1)!.bytes).toBe(saving.at(-1)!.total);
      expect(saving.at(-1)!.total).toBeGreaterThan(0);
    }
    expect(lines.find((l) => l.type === 'eval')).toMatchObject({ split: 'valid', step: 4 });
    const summary = lines[lines.length - 1];
    expect(summary).toMatchObject({ type: 'summary', step: 4, stopReason: 'steps' });
    expect(summary.validPpl).toBe(summary.valid.ppl);
    // The corpus is lowercase: the sample starts from a word of its vocabulary, not "The".
    expect(summary.sample).toMatch(/^the\b/);
    for (const f of ['metrics.jsonl', 'chart.svg', 'checkpoint/config.json']) expect(existsSync(join(tmp, 'json', f)), f).toBe(true);
    expect(readFileSync(join(tmp, 'json', 'chart.svg'), 'utf8')).toMatch(/^<svg|<\?xml/);
  });

  it("--precision: auto (the default) is f16 where the adapter has shader-f16, else f32; resuming, the checkpoint's", () => {
    const f16 = /^features .*\bshader-f16\b/m.test(cli('info').stdout);
    const start = (r: ReturnType<typeof cli>) => {
      expect(r.status, r.stderr).toBe(0);
      return jsonLines(r.stdout)[0];
    };
    const saved = (dir: string) => JSON.parse(readFileSync(join(dir, 'checkpoint', 'config.json'), 'utf8')).config.train.model.precision;
    const auto = join(tmp, 'precision-auto');
    expect(start(cli('train', '--data', data, ...TINY, '--steps', '2', '--eval-tokens', '0', '--out', auto, '--json'))).toMatchObject({
      type: 'start',
      precision: f16 ? 'f16' : 'f32',
    });
    expect(saved(auto)).toBe(f16 ? 'f16' : undefined);
    // A run trained with f32 resumes without naming it again (auto takes the checkpoint's).
    const f32 = join(tmp, 'precision-f32');
    expect(
      start(cli('train', '--data', data, ...TINY, '--precision', 'f32', '--steps', '2', '--eval-tokens', '0', '--out', f32, '--json')),
    ).toMatchObject({ precision: 'f32' });
    expect(saved(f32)).toBe(undefined);
    expect(
      start(cli('train', '--data', data, ...TINY, '--steps', '4', '--eval-tokens', '0', '--out', f32, '--resume', '--json')),
    ).toMatchObject({ resumed: true, step: 2, precision: 'f32' });
    if (f16) {
      expect(oneError(cli('train', '--data', data, ...TINY, '--precision', 'f16', '--steps', '4', '--out', f32, '--resume'), 1)).toMatch(
        /--precision .* in the checkpoint, "f16" now/,
      );
    }
  });

  it('package.json has the `train` script: no arguments train the default small G-LSTM on Brown (here 2 steps)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.scripts.train).toBe('npm run build && node dist/cli.js train');
    // The defaults fit together on Brown (vocabulary 17,905 > 512 samples, the G-LSTM's groups
    // divide its sizes); the default 5-minute limit is replaced by 2 steps, evaluation cut short.
    const out = join(tmp, 'defaults');
    const r = cli('train', '--steps', '2', '--eval-tokens', '640', '--sample', '3', '--out', out, '--json');
    expect(r.status, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines[0]).toMatchObject({ type: 'start', vocab: 17905 });
    const ck = JSON.parse(readFileSync(join(out, 'checkpoint', 'config.json'), 'utf8')).config.train;
    expect(ck).toMatchObject({
      data: 'brown',
      model: { cell: 'glstm', groups: 2, layers: 2 },
      optimizer: 'adagrad',
      lr: 0.2,
      sampled: 512,
    });
    const summary = lines[lines.length - 1];
    expect(summary.valid.tokens).toBeGreaterThanOrEqual(640);
    expect(Number.isFinite(summary.validPpl)).toBe(true);
    expect(summary.sample.split(' ')).toHaveLength(4);
  });

  it('a NaN loss stops the run with a non-zero exit code naming the step; the last good checkpoint is kept and loads', () => {
    const out = join(tmp, 'nan');
    // SGD at lr 1e30 without clipping: step 1 (the initial weights) is finite, its update is not survivable.
    const r = cli(
      'train',
      '--data',
      data,
      ...TINY,
      '--sampled',
      '0',
      '--optimizer',
      'sgd',
      '--lr',
      '1e30',
      '--clip',
      '0',
      '--steps',
      '20',
      '--log-every',
      '1',
      '--save-every',
      '1',
      '--out',
      out,
    );
    expect(r.status, r.stderr).toBe(1);
    const msg = ours(r.stderr).join('\n');
    const m =
      /(?:loss became (?:NaN|-?Infinity)|gradient became NaN or infinite|weights became NaN or infinite).*?(?:at|by) step (\d+)[^\n]*stopped\. The last good checkpoint \(step (\d+)\) is kept in (\S+)\./.exec(
        msg,
      );
    expect(m, msg).not.toBeNull();
    const [stopStep, keptStep] = [Number(m![1]), Number(m![2])];
    expect(keptStep).toBeLessThan(stopStep);
    expect(m![3]).toBe(`${join(out, 'checkpoint')}`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    const cfg = JSON.parse(readFileSync(join(out, 'checkpoint', 'config.json'), 'utf8'));
    expect(cfg.config.step).toBe(keptStep);
    // The metrics log stops at the last finite report.
    const steps = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).step);
    expect(Math.max(...steps)).toBeLessThan(stopStep);
    // The checkpoint loads: eval runs on it (its weights are finite, however large).
    const ev = cli('eval', '--checkpoint', join(out, 'checkpoint'), '--json');
    expect(ev.status, ev.stderr).toBe(0);
    expect(jsonLines(ev.stdout).find((l) => l.type === 'eval')).toMatchObject({ step: keptStep, split: 'valid' });
  });

  it('SIGINT saves a checkpoint, says so and exits (130); the checkpoint loads', async () => {
    const out = join(tmp, 'sigint');
    const child = spawn(
      process.execPath,
      [
        'dist/cli.js',
        'train',
        '--data',
        data,
        ...TINY,
        '--time',
        '10m',
        '--log-every',
        '1',
        '--save-every',
        '100000',
        '--out',
        out,
        '--json',
      ],
      {
        cwd: root,
        env: { ...process.env, NODE_OPTIONS: '' },
      },
    );
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!sent && /"type":"progress"/.test(stdout)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await exited;
    clearTimeout(timer);
    expect(sent, stderr).toBe(true);
    expect(code, stderr).toBe(130);
    const lines = jsonLines(stdout);
    const stopped = lines.find((l) => l.type === 'stopped');
    expect(stopped?.reason, stdout).toMatch(/^interrupted at step \d+: checkpoint saved in /);
    const saved = lines.filter((l) => l.type === 'checkpoint');
    expect(saved.length).toBe(1);
    expect(lines.indexOf(saved[0])).toBeLessThan(lines.indexOf(stopped!)); // said after it saved
    expect(lines[lines.length - 1]).toMatchObject({ type: 'summary', stopReason: 'interrupted', step: saved[0].step });
    const cfg = JSON.parse(readFileSync(join(out, 'checkpoint', 'config.json'), 'utf8'));
    expect(cfg.config.step).toBe(saved[0].step);
    const ev = cli('eval', '--checkpoint', join(out, 'checkpoint'), '--json', '--max-tokens', '20');
    expect(ev.status, ev.stderr).toBe(0);
    expect(jsonLines(ev.stdout).find((l) => l.type === 'eval')).toMatchObject({ step: saved[0].step });
  });
});

describe('flstm eval and generate on a trained checkpoint', () => {
  it('eval --json: progress lines, then one result line with the checkpoint, split, step, loss, ppl, tokens, <unk> count', () => {
    for (const split of ['valid', 'test']) {
      const r = cli('eval', '--checkpoint', join(base, 'checkpoint'), '--split', split, '--json');
      expect(r.status, r.stderr).toBe(0);
      const lines = jsonLines(r.stdout);
      const progress = lines.filter((l) => l.type === 'eval-progress');
      expect(progress.length).toBeGreaterThan(0);
      expect(lines.slice(0, -1)).toEqual(progress);
      const e = lines[lines.length - 1];
      expect(Object.keys(e).sort()).toEqual([
        'averaged',
        'checkpoint',
        'data',
        'loss',
        'ppl',
        'seconds',
        'split',
        'step',
        'tokens',
        'type',
        'unk',
        'weights',
      ]);
      expect(e).toMatchObject({
        type: 'eval',
        checkpoint: join(base, 'checkpoint'),
        split,
        step: 8,
        data,
        averaged: false,
        weights: 'trained',
      });
      expect(progress[progress.length - 1]).toMatchObject({ tokens: e.tokens, total: e.tokens, eta: 0 });
      expect(e.ppl).toBeCloseTo(Math.exp(e.loss), 6);
      expect(e.ppl).toBeGreaterThan(1);
      expect(e.tokens).toBeGreaterThan(50);
    }
    const plain = cli('eval', '--checkpoint', join(base, 'checkpoint'));
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(
      /^valid perplexity [\d.]+ \(loss [\d.]+, \d+ tokens, \d+ of them <unk> \([\d.]+%\), step 8, the trained weights, [\d.]+ s\)\n$/,
    );
    expect(oneError(cli('eval', '--checkpoint', join(base, 'checkpoint'), '--weights', 'average'), 2)).toMatch(
      /^flstm eval: --weights average: .*model-\d+\.safetensors holds no moving average of the weights \(its run was trained without --ema\)/,
    );
  });

  it("with --ema every validation and eval line says it ran on the moving average; --weights trained evaluates the last step's", () => {
    const out = join(tmp, 'ema');
    const r = cli(
      'train',
      '--data',
      data,
      ...TINY,
      '--ema',
      '0.999',
      '--steps',
      '6',
      '--eval-every',
      '3',
      '--eval-tokens',
      '40',
      '--out',
      out,
    );
    expect(r.status, r.stderr).toBe(0);
    const validations = r.stdout.split('\n').filter((l) => /^valid perplexity /.test(l));
    expect(validations).toHaveLength(2);
    for (const l of validations) expect(l).toMatch(/, the moving average of the LSTM weights\)/);
    expect(r.stdout).toMatch(/^validation perplexity [\d.]+ \(40 tokens, the moving average of the LSTM weights\)$/m);
    const json = jsonLines(cli('train', '--resume', '--out', out, '--steps', '9', '--json').stdout);
    expect(json.filter((l) => l.type === 'eval').map((l) => l.weights)).toEqual(['average']);
    expect(json.at(-1)).toMatchObject({ type: 'summary', weights: 'average' });
    const ev = (...a: string[]) => cli('eval', '--checkpoint', join(out, 'checkpoint'), '--max-tokens', '40', ...a);
    const averaged = ev();
    expect(averaged.stdout).toMatch(/, step 9, the moving average of the LSTM weights \(decay 0\.999, warmup\), [\d.]+ s\)\n$/);
    const trained = jsonLines(ev('--weights', 'trained', '--json').stdout).at(-1)!;
    expect(trained).toMatchObject({ type: 'eval', weights: 'trained', averaged: false });
    expect(jsonLines(ev('--json').stdout).at(-1)).toMatchObject({ weights: 'average', averaged: true });
    expect(jsonLines(ev('--json').stdout).at(-1)!.loss).not.toBe(trained.loss);
    const gen = cli('generate', '--checkpoint', join(out, 'checkpoint'), '--prompt', 'the', '--tokens', '3');
    expect(ours(gen.stderr)).toEqual([
      "flstm generate: from the moving average of the LSTM weights (decay 0.999, warmup); --weights trained uses the last step's",
    ]);
    expect(
      jsonLines(cli('generate', '--checkpoint', join(out, 'checkpoint'), '--tokens', '3', '--weights', 'trained', '--json').stdout)[0],
    ).toMatchObject({ weights: 'trained' });
  });

  it('generate prints the prompt and N words; the same seed gives the same text, another seed another', () => {
    const gen = (...a: string[]) => {
      const r = cli('generate', '--checkpoint', join(base, 'checkpoint'), '--prompt', 'the cat', '--tokens', '12', '--json', ...a);
      expect(r.status, r.stderr).toBe(0);
      const lines = jsonLines(r.stdout);
      expect(lines).toHaveLength(1);
      return lines[0];
    };
    const a = gen('--seed', '5');
    expect(Object.keys(a).sort()).toEqual(['prompt', 'text', 'unknown', 'weights', 'words']);
    expect(a.weights).toBe('trained');
    expect(a.prompt).toEqual(['the', 'cat']);
    expect(a.unknown).toEqual([]);
    expect(a.words).toHaveLength(12);
    // The text as a person reads it: <eos> is a line break, the words otherwise in order.
    expect(a.text.split(/\s+/)).toEqual(['the', 'cat', ...a.words].filter((w) => w !== '<eos>'));
    expect(a.text).not.toContain('<eos>');
    const vocab = new Set(
      readFileSync(join(base, 'checkpoint', readdirSync(join(base, 'checkpoint')).find((f) => f.startsWith('vocab-'))!), 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[0]),
    );
    for (const w of a.words) expect(vocab.has(w), w).toBe(true);
    expect(gen('--seed', '5')).toEqual(a);
    const others = [gen('--seed', '6'), gen('--seed', '7')];
    expect(others.some((o) => o.text !== a.text)).toBe(true);
    // Temperature 0 is the most likely word each time, whatever the seed.
    expect(gen('--seed', '1', '--temperature', '0')).toEqual(gen('--seed', '2', '--temperature', '0'));
    const plain = cli('generate', '--checkpoint', join(base, 'checkpoint'), '--prompt', 'a dog', '--tokens', '4', '--seed', '5');
    expect(plain.status, plain.stderr).toBe(0);
    const same = cli('generate', '--checkpoint', join(base, 'checkpoint'), '--prompt', 'a dog', '--tokens', '4', '--seed', '5', '--json');
    expect(plain.stdout).toBe(`${jsonLines(same.stdout)[0].text}\n`);
    expect(plain.stdout.startsWith('a dog')).toBe(true);
  });

  it('a large model says what takes long before its start line, and generate (like eval) that it loads it, then how long it took', () => {
    const big = join(tmp, 'big');
    // Two layers of 2048 cells: 72 MiB of weights, past the 64 MiB from which building, reading and loading are said.
    const sizes =
      '--cell lstm --emb 512 --hidden 2048 --proj 512 --layers 2 --batch 2 --bptt 2 --sampled 8 --eval-tokens 0 --sample 0'.split(' ');
    const t = cli('train', '--data', data, ...sizes, '--steps', '1', '--out', big);
    expect(t.status, t.stderr).toBe(0);
    expect(ours(t.stderr)[0]).toMatch(/^flstm train: building the model: drawing 7\d\.\d+ MiB of weights$/);
    const ck = join(big, 'checkpoint');
    const resumed = cli('train', '--resume', '--out', big, '--steps', '2');
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(ours(resumed.stderr)[0]).toMatch(new RegExp(`^flstm train: reading the checkpoint in ${ck} \\(\\d+\\.\\d+ MiB\\)$`));
    const g = cli('generate', '--checkpoint', ck, '--prompt', 'the', '--tokens', '2');
    expect(g.status, g.stderr).toBe(0);
    expect(ours(g.stderr)).toEqual([
      expect.stringMatching(new RegExp(`^flstm generate: loading ${ck} \\(7\\d\\.\\d+ MiB of weights\\)$`)),
      expect.stringMatching(/^flstm generate: loaded in \d+(\.\d+)?(ms|s|m\d*s?)$/),
    ]);
    const small = cli('generate', '--checkpoint', join(base, 'checkpoint'), '--prompt', 'the', '--tokens', '2');
    expect(ours(small.stderr), 'a small checkpoint loads without a word').toEqual([]);
  });

  it('generate writes the prompt at once, then each word as it is drawn', async () => {
    const child = spawn(
      process.execPath,
      [join(root, 'dist/cli.js'), 'generate', '--checkpoint', join(base, 'checkpoint'), '--prompt', 'the cat', '--tokens', '40'],
      { cwd: root, env: { ...process.env, NODE_OPTIONS: '' } },
    );
    const chunks: string[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d.toString()));
    const status = await new Promise<number | null>((done) => child.on('close', done));
    expect(status).toBe(0);
    // The prompt comes first, then a write per word: the pipe delivers them apart (the GPU's read-back of each word's logits is between them).
    expect(chunks[0].startsWith('the cat')).toBe(true);
    expect(chunks.length, `${chunks.length} pieces: ${JSON.stringify(chunks.slice(0, 5))}`).toBeGreaterThan(10);
    const whole = jsonLines(
      cli('generate', '--checkpoint', join(base, 'checkpoint'), '--prompt', 'the cat', '--tokens', '40', '--json').stdout,
    )[0];
    expect(chunks.join('')).toBe(`${whole.text}\n`);
  });
});

describe('bad input and faults: one clear message each, nothing saved is lost', () => {
  it('unknown flags and values are usage errors (exit 2) naming the flag and value', () => {
    expect(oneError(cli('train', '--bogus'), 2)).toMatch(/unknown option --bogus/);
    expect(oneError(cli('train', '--cell', 'bogus'), 2)).toMatch(/--cell must be one of lstm, flstm, glstm, got 'bogus'/);
    expect(oneError(cli('train', '--optimizer', 'x'), 2)).toMatch(/--optimizer must be adagrad, adam or sgd, got 'x'/);
    expect(oneError(cli('train', '--precision', 'f8'), 2)).toMatch(/--precision must be auto, f32 or f16, got 'f8'/);
    expect(oneError(cli('train', '--time', '5q'), 2)).toMatch(/--time must be a duration such as 90s, 10m, 2h or 1h30m, got '5q'/);
    expect(oneError(cli('train', '--dropout', '1.5'), 2)).toMatch(/--dropout must be a number in \[0, 1\), got '1.5'/);
    expect(oneError(cli('train', '--steps', '-3'), 2)).toMatch(/--steps/);
    expect(oneError(cli('train', '--data', 'nonsense'), 2)).toMatch(/unknown corpus 'nonsense'/);
    expect(oneError(cli('eval', '--split', 'valid'), 2)).toMatch(/--checkpoint DIR is required/);
    expect(oneError(cli('generate', '--checkpoint', base, '--temperature', 'hot'), 2)).toMatch(
      /--temperature must be a number >= 0, got 'hot'/,
    );
  });

  it('a missing corpus file, an empty corpus, a vocabulary without <unk>, too many samples for the vocabulary', () => {
    const out = join(tmp, 'bad-data');
    const missing = join(tmp, 'no-such-file.txt');
    expect(oneError(cli('train', '--data', `text:${missing}`, ...TINY, '--steps', '1', '--out', out), 1)).toMatch(
      new RegExp(`no train file ${missing}`),
    );
    writeFileSync(join(tmp, 'empty.txt'), '\n  \n');
    expect(oneError(cli('train', '--data', `text:${join(tmp, 'empty.txt')}`, ...TINY, '--steps', '1', '--out', out), 1)).toMatch(
      /the train file .*empty\.txt is empty \(no words\)/,
    );
    writeFileSync(join(tmp, 'vocab-no-unk.txt'), ['<eos> 0', ...CORPUS_WORDS.map((w) => `${w} 1`)].join('\n') + '\n');
    const noUnk = oneError(
      cli(
        'train',
        '--data',
        `text:${join(tmp, 'train.txt')}`,
        '--vocab',
        join(tmp, 'vocab-no-unk.txt'),
        ...TINY,
        '--steps',
        '1',
        '--out',
        out,
      ),
      1,
    );
    expect(noUnk).toMatch(/vocab-no-unk\.txt: has no unknown-word token \(<unk> or <UNK>\)/);
    expect(noUnk).toMatch(/add a line '<unk> 0'/);
    // 512 samples given do not fit a 20-word vocabulary: say so before training.
    expect(
      oneError(
        cli(
          'train',
          '--data',
          data,
          '--emb',
          '8',
          '--hidden',
          '16',
          '--proj',
          '8',
          '--batch',
          '4',
          '--sampled',
          '512',
          '--steps',
          '1',
          '--out',
          out,
        ),
        1,
      ),
    ).toMatch(/--sampled 512 needs a vocabulary of more than 512 words; .* has \d+: use fewer samples or --sampled 0/);
    expect(existsSync(join(out, 'checkpoint', 'config.json'))).toBe(false);
    // A vocabulary file with <unk> and <eos> trains.
    writeFileSync(join(tmp, 'vocab-ok.txt'), ['<unk> 0', '<eos> 0', ...CORPUS_WORDS.slice(0, 10).map((w) => `${w} 1`)].join('\n') + '\n');
    const ok = cli(
      'train',
      '--data',
      `text:${join(tmp, 'train.txt')}`,
      '--vocab',
      join(tmp, 'vocab-ok.txt'),
      ...TINY,
      '--steps',
      '1',
      '--out',
      join(tmp, 'vocab-ok'),
      '--json',
    );
    expect(ok.status, ok.stderr).toBe(0);
    expect(jsonLines(ok.stdout)[0]).toMatchObject({ type: 'start', vocab: 12 });
  });

  it('a split too short for --batch: one message naming the file and --batch before anything trains (train, eval)', () => {
    const one = join(tmp, 'one.txt');
    writeFileSync(one, 'cat\n');
    const out = join(tmp, 'short-valid');
    const msg = oneError(
      cli('train', '--data', `text:${join(tmp, 'train.txt')},${one}`, ...TINY, '--batch', '32', '--steps', '20', '--out', out),
      1,
    );
    expect(msg).toBe(
      `flstm: ${one} (the validation split) has 2 tokens, too few for --batch 32: each of the 32 streams needs at least 2 tokens (64 in all); give a longer file or --batch 1`,
    );
    expect(existsSync(join(out, 'metrics.jsonl'))).toBe(false);
    expect(oneError(cli('train', '--data', `text:${one}`, ...TINY, '--steps', '2', '--out', out), 1)).toMatch(
      /one\.txt \(the training split\) has 2 tokens, too few for --batch 4:/,
    );
    // eval batches as the checkpoint did unless --batch is given.
    const ev = (...a: string[]) =>
      oneError(cli('eval', '--checkpoint', join(base, 'checkpoint'), '--data', `text:${join(tmp, 'train.txt')},${one}`, ...a), 1);
    expect(ev()).toMatch(/one\.txt \(the validation split\) has 2 tokens, too few for --batch 4 \(the checkpoint's\): /);
    expect(ev('--batch', '3')).toMatch(/too few for --batch 3: each of the 3 streams/);
  });

  it('eval or generate given a run folder: the message names its checkpoints', () => {
    for (const cmd of ['eval', 'generate']) {
      expect(oneError(cli(cmd, '--checkpoint', base), 1)).toBe(
        `flstm: '${base}' has no config.json: it is a run folder, not a checkpoint; did you mean ${join(base, 'checkpoint')}?`,
      );
    }
  });

  it('--resume to a step the checkpoint is already at or past: says so, exit 0, nothing changed', () => {
    const run = join(tmp, 'past-target');
    cpSync(base, run, { recursive: true });
    const before = filesOf(join(run, 'checkpoint'));
    const metricsBefore = readFileSync(join(run, 'metrics.jsonl'), 'utf8');
    const r = cli('train', '--resume', '--out', run, '--steps', '5', '--sample', '5');
    expect(r.status, r.stderr).toBe(0);
    expect(ours(r.stderr)).toEqual([
      `flstm train: the checkpoint in ${join(run, 'checkpoint')} is at step 8, already past --steps 5: nothing to train, and nothing was changed (a larger --steps continues it)`,
    ]);
    expect(r.stdout).toBe('');
    expect(filesOf(join(run, 'checkpoint'))).toEqual(before);
    expect(readFileSync(join(run, 'metrics.jsonl'), 'utf8')).toBe(metricsBefore);
  });

  it('the default --sampled on a small vocabulary: the full softmax, said on the start line, stored in the checkpoint, resumed', () => {
    const out = join(tmp, 'default-sampled');
    const args = [
      '--data',
      data,
      ...TINY.filter((a, i) => a !== '--sampled' && TINY[i - 1] !== '--sampled'),
      '--eval-tokens',
      '0',
      '--out',
      out,
    ];
    const r = cli('train', ...args, '--steps', '2');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(
      /^flstm train: .*, full softmax \(the default of 512 samples needs a vocabulary of more than 512 words\), /,
    );
    expect(JSON.parse(readFileSync(join(out, 'checkpoint', 'config.json'), 'utf8')).config.train.sampled).toBe(0);
    const resumed = cli('train', ...args, '--steps', '4', '--resume', '--json');
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(jsonLines(resumed.stdout)[0]).toMatchObject({ type: 'start', step: 2, resumed: true, sampled: 0, objective: 'full-softmax' });
    // A count given is kept on the start line too.
    expect(cli('train', '--data', data, ...TINY, '--steps', '1', '--eval-tokens', '0', '--out', join(tmp, 'given-sampled')).stdout).toMatch(
      /, sampled softmax of 8 samples, /,
    );
  });

  it("--resume without a checkpoint, or with options that differ from the checkpoint's (each named); the checkpoint is untouched", () => {
    expect(oneError(cli('train', '--data', data, ...TINY, '--steps', '10', '--out', join(tmp, 'never-trained'), '--resume'), 1)).toMatch(
      /--resume: no checkpoint in .*never-trained\/checkpoint/,
    );
    const run = join(tmp, 'reshaped');
    cpSync(base, run, { recursive: true });
    const before = filesOf(join(run, 'checkpoint'));
    const metricsBefore = readFileSync(join(run, 'metrics.jsonl'), 'utf8');
    const args = TINY.map((a, i) => (TINY[i - 1] === '--hidden' ? '32' : a));
    const shape = oneError(cli('train', '--data', data, ...args, '--steps', '12', '--out', run, '--resume'), 1);
    expect(shape).toMatch(
      /--resume: the options differ from the checkpoint's .* \(the model differs\): --hidden 16 in the checkpoint, 32 now; resume with the same options/,
    );
    const two = oneError(
      cli('train', '--data', data, ...TINY, '--dropout', '0.5', '--bptt', '6', '--steps', '12', '--out', run, '--resume'),
      1,
    );
    expect(two).toMatch(/--resume: the options differ from the checkpoint's /);
    expect(two).toContain('--bptt 5 in the checkpoint, 6 now');
    expect(two).toContain('--dropout 0.1 in the checkpoint, 0.5 now');
    // Without --resume, a folder that holds a run is not started over (its checkpoint and metrics would go).
    expect(oneError(cli('train', '--data', data, ...TINY, '--steps', '2', '--out', run), 1)).toMatch(
      /reshaped already holds a run .*: --resume continues it/,
    );
    expect(filesOf(join(run, 'checkpoint'))).toEqual(before);
    expect(readFileSync(join(run, 'metrics.jsonl'), 'utf8')).toBe(metricsBefore);
    // With the same options it resumes.
    const ok = cli('train', '--data', data, ...TINY, '--steps', '10', '--out', run, '--resume', '--json');
    expect(ok.status, ok.stderr).toBe(0);
    expect(jsonLines(ok.stdout)[0]).toMatchObject({ type: 'start', step: 8, resumed: true });
  });

  it('a corrupt or truncated model .safetensors: eval says which file and what is wrong', () => {
    const damaged = (name: string, damage: (bytes: Buffer) => Buffer) => {
      const dir = join(tmp, name);
      cpSync(base, dir, { recursive: true });
      const ck = join(dir, 'checkpoint');
      const model = readdirSync(ck).find((f) => /^model-\d+\.safetensors$/.test(f))!;
      writeFileSync(join(ck, model), damage(readFileSync(join(ck, model))));
      return { ck, file: join(ck, model) };
    };
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // Truncated: the last half of the data is gone.
    const t = damaged('truncated', (b) => b.subarray(0, Math.floor(b.length * 0.6)));
    expect(oneError(cli('eval', '--checkpoint', t.ck), 1)).toMatch(new RegExp(`${esc(t.file)}: .*(truncated)`));
    // Cut inside the header.
    const h = damaged('truncated-header', (b) => b.subarray(0, 20));
    expect(oneError(cli('eval', '--checkpoint', h.ck), 1)).toMatch(
      new RegExp(`${esc(h.file)}: the header length \\d+ goes beyond the end of the file`),
    );
    // Corrupt: bytes of the header overwritten.
    const c = damaged('corrupt', (b) => {
      const x = Buffer.from(b);
      x.fill(0xff, 9, 40);
      return x;
    });
    expect(oneError(cli('eval', '--checkpoint', c.ck), 1)).toMatch(new RegExp(`${esc(c.file)}: the header is not valid (UTF-8|JSON)`));
    // Corrupt data: a weight turned into NaN bits.
    const n = damaged('corrupt-data', (b) => {
      const x = Buffer.from(b);
      x.writeUInt32LE(0x7fc00000, x.length - 8);
      return x;
    });
    expect(oneError(cli('eval', '--checkpoint', n.ck), 1)).toMatch(/is corrupt: '[\w.]+' holds NaN at index \d+/);
    expect(oneError(cli('generate', '--checkpoint', t.ck), 1)).toMatch(/truncated/);
  });
});
