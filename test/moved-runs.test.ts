// A run on one's own text can be moved: the checkpoint records each corpus file's absolute
// path, size and SHA-256 (config.corpus), so `train --resume` and `eval` find the files from
// any folder, accept the same files given by another path (absolute, relative from elsewhere,
// a copy in another folder), and say plainly when a file changed or cannot be found. The
// identity and its messages in process (no GPU); the workflows through the built CLI.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  corpusChanges,
  loadCorpus,
  locateCorpus,
  LM1B_HELDOUT_DIR,
  LM1B_HELDOUT_FILE,
  LM1B_TRAIN_DIR,
  LM1B_VALID_FILE,
  LM1B_VOCAB_FILE,
  type CorpusIdentity,
} from '../src/data/index.js';
import { loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint.js';
import { CORPUS_WORDS, corpusText } from './helpers.js';
import { root, useBuiltCli, TINY_MODEL, words } from './cli-helpers.js';

const TINY = [...TINY_MODEL, ...words('--sampled 0 --sample 0 --eval-tokens 0')];

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'flstm-moved-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const fileId = (path: string) => ({ path: resolve(path), bytes: readFileSync(path).length, sha256: sha256(path) });

describe('the identity of a corpus (no GPU)', () => {
  it('a text file: its absolute path, bytes and SHA-256, hashed while read (multi-byte words across read chunks decode whole)', async () => {
    const dir = join(tmp, 'identity');
    mkdirSync(dir);
    // ~260 KB: several 64 KiB reads, with 2-byte characters wherever a chunk ends.
    const line = 'héllo wörld ünïcode façade\n';
    writeFileSync(join(dir, 'train.txt'), line.repeat(10_000));
    writeFileSync(join(dir, 'valid.txt'), 'wörld héllo\n');
    const c = await loadCorpus(`text:${join(dir, 'train.txt')},${join(dir, 'valid.txt')}`);
    expect(c.identity).toEqual({ kind: 'text', files: [fileId(join(dir, 'train.txt')), fileId(join(dir, 'valid.txt'))] });
    expect(c.vocab.size).toBe(2 + 4); // <unk>, <eos> and the four words, none split by a chunk boundary
    expect(c.splits.train.kind === 'array' && c.splits.train.tokens.length).toBe(50_000);
  });

  it("an lm1b directory: its absolute path and its training shards' count and bytes", async () => {
    const dir = join(tmp, 'lm1b');
    mkdirSync(join(dir, LM1B_TRAIN_DIR), { recursive: true });
    mkdirSync(join(dir, LM1B_HELDOUT_DIR));
    writeFileSync(join(dir, LM1B_VOCAB_FILE), '<S> 0\n</S> 0\n<UNK> 0\nthe 3\ncat 2\n');
    writeFileSync(join(dir, LM1B_TRAIN_DIR, 'news.en-00001-of-00100'), 'the cat\n');
    writeFileSync(join(dir, LM1B_TRAIN_DIR, 'news.en-00002-of-00100'), 'cat the the\n');
    writeFileSync(join(dir, LM1B_HELDOUT_DIR, LM1B_HELDOUT_FILE), 'the cat\n');
    writeFileSync(join(dir, LM1B_HELDOUT_DIR, LM1B_VALID_FILE), 'cat\n');
    const c = await loadCorpus(`lm1b:${dir}`);
    expect(c.identity).toEqual({ kind: 'lm1b', dir: resolve(dir), trainShards: 2, trainBytes: 8 + 12 });
  });

  it('what changed, in words: a file that grew, one of the same size with other bytes, other shards', () => {
    const was: CorpusIdentity = {
      kind: 'text',
      files: [
        { path: '/a/train.txt', bytes: 1200, sha256: 'a'.repeat(64) },
        { path: '/a/valid.txt', bytes: 300, sha256: 'b'.repeat(64) },
      ],
    };
    expect(corpusChanges(was, was)).toEqual([]);
    // The same files elsewhere: the same corpus.
    expect(corpusChanges(was, { kind: 'text', files: was.files.map((f) => ({ ...f, path: f.path.replace('/a/', '/b/') })) })).toEqual([]);
    // Edited where the run read it (a resume goes on), or another file elsewhere (another corpus).
    expect(corpusChanges(was, { kind: 'text', files: [{ ...was.files[0], bytes: 1234 }, was.files[1]] })).toEqual([
      { text: 'the train file /a/train.txt has changed since the run read it (1,200 bytes then, 1,234 now)', inPlace: true },
    ]);
    expect(
      corpusChanges(was, { kind: 'text', files: [was.files[0], { path: '/c/valid.txt', bytes: 300, sha256: 'c'.repeat(64) }] }),
    ).toEqual([
      {
        text: 'the valid file /c/valid.txt is not the file the run read, /a/valid.txt (the same 300 bytes, other content: SHA-256 bbbbbbbbbbbb... then, cccccccccccc... now)',
        inPlace: false,
      },
    ]);
    const shards: CorpusIdentity = { kind: 'lm1b', dir: '/d', trainShards: 99, trainBytes: 4_000_000 };
    expect(corpusChanges(shards, { ...shards, dir: '/e' })).toEqual([]);
    expect(corpusChanges(shards, { ...shards, trainShards: 98 })).toEqual([
      {
        text: 'the training shards differ: 99 shards of 4,000,000 bytes in /d then, 98 shards of 4,000,000 bytes in /d now',
        inPlace: true,
      },
    ]);
    expect(corpusChanges(shards, { ...shards, dir: '/e', trainShards: 1 })[0]).toMatchObject({
      text: expect.stringMatching(/1 shard of 4,000,000 bytes in \/e now$/),
      inPlace: false,
    });
  });

  it('locateCorpus: the recorded paths from any folder, else --data as given; neither names the path and --data', async () => {
    const dir = join(tmp, 'locate');
    mkdirSync(dir);
    writeFileSync(join(dir, 'train.txt'), 'the cat\n');
    const id: CorpusIdentity = { kind: 'text', files: [fileId(join(dir, 'train.txt'))] };
    expect(await locateCorpus('text:train.txt', id)).toBe(`text:${resolve(dir, 'train.txt')}`);
    expect(await locateCorpus('brown', undefined)).toBe('brown');
    const gone: CorpusIdentity = { kind: 'text', files: [{ ...id.files[0], path: join(tmp, 'gone', 'train.txt') }] };
    expect(await locateCorpus(`text:${join(dir, 'train.txt')}`, gone)).toBe(`text:${join(dir, 'train.txt')}`);
    await expect(locateCorpus('text:train.txt', gone)).rejects.toThrow(
      `flstm: the train file of the run's corpus cannot be found: it is not at ${join(tmp, 'gone', 'train.txt')} (where the run read it), nor at train.txt (as the run's --data gave it, from this folder); give its new location with --data`,
    );
  });
});

describe('a run on your own text, moved (the CLI)', () => {
  useBuiltCli();
  let project: string;
  let elsewhere: string;
  let run: string;

  /** `node dist/cli.js ...args` run from `cwd` (asynchronously: the test worker stays responsive). */
  function cliIn(cwd: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((done, fail) => {
      const p = spawn(process.execPath, [join(root, 'dist/cli.js'), ...args], {
        cwd,
        timeout: 120_000,
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      p.on('error', fail);
      p.on('close', (status) => done({ status, stdout, stderr }));
    });
  }
  const ours = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('flstm'));
  const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);
  const recorded = () => JSON.parse(readFileSync(join(run, 'checkpoint', 'config.json'), 'utf8')).config;
  const checkpointFiles = () =>
    Object.fromEntries(readdirSync(join(run, 'checkpoint')).map((f) => [f, readFileSync(join(run, 'checkpoint', f), 'base64')]));

  /** One error line and exit 1; the checkpoint is untouched. Returns the line. */
  function refused(r: Awaited<ReturnType<typeof cliIn>>, before: Record<string, string>): string {
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(ours(r.stderr), r.stderr).toHaveLength(1);
    expect(checkpointFiles()).toEqual(before);
    return ours(r.stderr)[0];
  }

  beforeAll(async () => {
    project = join(tmp, 'project');
    elsewhere = join(tmp, 'elsewhere');
    mkdirSync(project);
    mkdirSync(elsewhere);
    writeFileSync(join(project, 'train.txt'), corpusText(40, 61));
    writeFileSync(join(project, 'valid.txt'), corpusText(8, 62));
    run = join(project, 'run');
    const r = await cliIn(project, 'train', '--data', 'text:train.txt,valid.txt', ...TINY, '--steps', '2', '--out', 'run');
    if (r.status !== 0) throw new Error(`training the run failed: ${r.stderr}`);
  }, 180_000);

  it("the checkpoint records each file's absolute path, size and SHA-256 beside --data as typed", () => {
    const c = recorded();
    expect(c.train.data).toBe('text:train.txt,valid.txt');
    expect(c.corpus).toEqual({ kind: 'text', files: [fileId(join(project, 'train.txt')), fileId(join(project, 'valid.txt'))] });
  });

  it('train --resume and eval from another folder find the files where the run read them', async () => {
    const r = await cliIn(elsewhere, 'train', '--resume', '--out', run, '--steps', '3', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.split('\n')[0])).toMatchObject({ type: 'start', step: 2, resumed: true });
    const e = await cliIn(elsewhere, 'eval', '--checkpoint', join(run, 'checkpoint'), '--json');
    expect(e.status, e.stderr).toBe(0);
    expect(lastJson(e.stdout)).toMatchObject({
      type: 'eval',
      split: 'valid',
      step: 3,
      data: `text:${join(project, 'train.txt')},${join(project, 'valid.txt')}`,
    });
  });

  it('the same files given by absolute path, or by a relative path from another folder, are the same corpus', async () => {
    const abs = await cliIn(
      elsewhere,
      'train',
      '--resume',
      '--out',
      run,
      '--steps',
      '4',
      '--data',
      `text:${join(project, 'train.txt')},${join(project, 'valid.txt')}`,
    );
    expect(abs.status, abs.stderr).toBe(0);
    const rel = await cliIn(
      elsewhere,
      'train',
      '--resume',
      '--out',
      run,
      '--steps',
      '5',
      '--data',
      'text:../project/train.txt,../project/valid.txt',
    );
    expect(rel.status, rel.stderr).toBe(0);
    expect(recorded().step).toBe(5);
  });

  it('files moved away: where they were looked for and --data; a copy in another folder continues the run there', async () => {
    const moved = join(tmp, 'moved');
    mkdirSync(moved);
    for (const f of ['train.txt', 'valid.txt']) renameSync(join(project, f), join(moved, f));
    const before = checkpointFiles();
    // (The run's --data, ../project/..., names the same place from here: it is not tried twice.)
    const lost = `the train file of the run's corpus cannot be found: it is not at ${join(project, 'train.txt')} (where the run read it); give its new location with --data`;
    expect(refused(await cliIn(elsewhere, 'train', '--resume', '--out', run, '--steps', '6'), before)).toBe(`flstm: ${lost}`);
    const e = await cliIn(elsewhere, 'eval', '--checkpoint', join(run, 'checkpoint'));
    expect(e.status).toBe(1);
    expect(ours(e.stderr)).toEqual([`flstm: ${lost}`]);
    // Given anew by a relative path: the same bytes, so the run continues, and records where they are now.
    const r = await cliIn(
      elsewhere,
      'train',
      '--resume',
      '--out',
      run,
      '--steps',
      '6',
      '--data',
      'text:../moved/train.txt,../moved/valid.txt',
    );
    expect(r.status, r.stderr).toBe(0);
    expect(recorded().corpus.files.map((f: { path: string }) => f.path)).toEqual([join(moved, 'train.txt'), join(moved, 'valid.txt')]);
    // ... so that from then on no --data is needed, from any folder.
    expect((await cliIn(tmp, 'train', '--resume', '--out', run, '--steps', '7')).status).toBe(0);
  });

  it('a file edited where the run read it: the resume goes on and says what changed, eval notes it; other files by another path are refused', async () => {
    const moved = join(tmp, 'moved');
    const valid = join(moved, 'valid.txt');
    const original = readFileSync(valid, 'utf8');
    const bytes = (n: number) => n.toLocaleString('en-US');
    // A copy in another folder whose valid file has other bytes (one word swapped for another of its length).
    const other = join(tmp, 'other');
    mkdirSync(other);
    cpSync(join(moved, 'train.txt'), join(other, 'train.txt'));
    writeFileSync(join(other, 'valid.txt'), original.replace('cat', 'dog'));
    expect(sha256(join(other, 'valid.txt'))).not.toBe(sha256(valid));
    const before = checkpointFiles();
    expect(
      refused(
        await cliIn(elsewhere, 'train', '--resume', '--out', run, '--steps', '8', '--data', 'text:../other/train.txt,../other/valid.txt'),
        before,
      ),
    ).toBe(
      `flstm: --resume: the corpus is not the one the run in ${join(run, 'checkpoint')} trained on: the valid file ${join(other, 'valid.txt')} is not the file the run read, ${valid} ` +
        `(the same ${bytes(original.length)} bytes, other content: SHA-256 ${sha256(valid).slice(0, 12)}... then, ${sha256(join(other, 'valid.txt')).slice(0, 12)}... now); ` +
        'give the files it read, wherever they are now, or start a new run',
    );
    // Another corpus altogether: named before anything is read.
    expect(refused(await cliIn(elsewhere, 'train', '--resume', '--out', run, '--steps', '8', '--data', 'brown'), before)).toMatch(
      /the run trained on 2 text files \(.*train\.txt, .*valid\.txt\), --data gives brown/,
    );
    // Text added to a file where the run read it.
    writeFileSync(valid, original + 'the cat sat\n');
    const change = `the valid file ${valid} has changed since the run read it (${bytes(original.length)} bytes then, ${bytes(original.length + 12)} now)`;
    const e = await cliIn(elsewhere, 'eval', '--checkpoint', join(run, 'checkpoint'));
    expect(e.status, e.stderr).toBe(0);
    expect(ours(e.stderr)).toContain(`flstm eval: note: the corpus has changed since the run trained on it: ${change}`);
    const r = await cliIn(elsewhere, 'train', '--resume', '--out', run, '--steps', '8');
    expect(r.status, r.stderr).toBe(0);
    expect(ours(r.stderr)).toContain(
      `flstm train: note: ${change}; the run continues on the files as they are now, in the checkpoint's vocabulary`,
    );
    expect(recorded().corpus.files[1]).toEqual(fileId(valid));
  });

  it('lm1b:DIR likewise: found from another folder, taken at its new place when moved, added shards named', async () => {
    const lm1b = join(project, 'lm1b');
    mkdirSync(join(lm1b, LM1B_TRAIN_DIR), { recursive: true });
    mkdirSync(join(lm1b, LM1B_HELDOUT_DIR));
    writeFileSync(
      join(lm1b, LM1B_VOCAB_FILE),
      ['<S> 0', '</S> 0', '<UNK> 0', ...CORPUS_WORDS.map((w, i) => `${w} ${100 - i}`)].join('\n') + '\n',
    );
    writeFileSync(join(lm1b, LM1B_TRAIN_DIR, 'news.en-00001-of-00100'), corpusText(30, 71));
    writeFileSync(join(lm1b, LM1B_HELDOUT_DIR, LM1B_HELDOUT_FILE), corpusText(4, 72));
    writeFileSync(join(lm1b, LM1B_HELDOUT_DIR, LM1B_VALID_FILE), corpusText(4, 73));
    const lm1bRun = join(project, 'lm1b-run');
    const first = await cliIn(project, 'train', '--data', 'lm1b:lm1b', ...TINY, '--steps', '2', '--out', 'lm1b-run');
    expect(first.status, first.stderr).toBe(0);
    const shardBytes = readFileSync(join(lm1b, LM1B_TRAIN_DIR, 'news.en-00001-of-00100')).length;
    expect(JSON.parse(readFileSync(join(lm1bRun, 'checkpoint', 'config.json'), 'utf8')).config.corpus).toEqual({
      kind: 'lm1b',
      dir: lm1b,
      trainShards: 1,
      trainBytes: shardBytes,
    });
    expect((await cliIn(elsewhere, 'train', '--resume', '--out', lm1bRun, '--steps', '3')).status).toBe(0);
    const movedDir = join(tmp, 'lm1b-moved');
    renameSync(lm1b, movedDir);
    const lost = await cliIn(elsewhere, 'train', '--resume', '--out', lm1bRun, '--steps', '4');
    expect(ours(lost.stderr)).toEqual([
      `flstm: the One Billion Word directory of the run's corpus cannot be found: it is not at ${lm1b} (where the run read it), nor at lm1b (as the run's --data gave it, from this folder); give its new location with --data`,
    ]);
    expect((await cliIn(elsewhere, 'train', '--resume', '--out', lm1bRun, '--steps', '4', '--data', `lm1b:${movedDir}`)).status).toBe(0);
    // A shard added where the run reads them: it goes on, and says so.
    writeFileSync(join(movedDir, LM1B_TRAIN_DIR, 'news.en-00002-of-00100'), corpusText(3, 74));
    const more = await cliIn(elsewhere, 'train', '--resume', '--out', lm1bRun, '--steps', '5');
    expect(more.status, more.stderr).toBe(0);
    expect(ours(more.stderr)).toContainEqual(
      expect.stringContaining(
        `flstm train: note: the training shards differ: 1 shard of ${shardBytes.toLocaleString('en-US')} bytes in ${movedDir} then, 2 shards of `,
      ),
    );
  });

  it('a checkpoint that records no corpus (as an older flstm wrote) resumes as it did, and then records it', async () => {
    const old = join(project, 'old-run');
    const moved = join(tmp, 'moved');
    cpSync(run, old, { recursive: true });
    const ck = await loadCheckpoint<Record<string, unknown>>(join(old, 'checkpoint'));
    delete ck.config.corpus;
    (ck.config.train as { data: string }).data = 'text:train.txt,valid.txt';
    rmSync(join(old, 'checkpoint'), { recursive: true });
    await saveCheckpoint(join(old, 'checkpoint'), { model: ck.model, optimizer: ck.optimizer, config: ck.config, vocab: ck.vocab });
    const r = await cliIn(moved, 'train', '--resume', '--out', old, '--steps', '9', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.split('\n')[0])).toMatchObject({ type: 'start', step: 8, resumed: true });
    const saved = JSON.parse(readFileSync(join(old, 'checkpoint', 'config.json'), 'utf8')).config;
    expect(saved.corpus.files.map((f: { path: string }) => f.path)).toEqual([join(moved, 'train.txt'), join(moved, 'valid.txt')]);
  });
});
