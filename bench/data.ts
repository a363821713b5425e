// bench/data.ts: can the input pipeline feed a One Billion Word run at full size?
// Writes a synthetic corpus in LM1B's real shape (src/data/lm1b_synthetic.ts: the 793,471-entry
// vocabulary and shards of ~8 MB), then, in a fresh child process so that its memory figures
// hold only the pipeline, times what a training run does before its first step and during it:
// the vocabulary load (loadCorpus: the vocabulary is read whole, the shards only listed) and
// the StreamBatcher producing [T, B] batches of ids over every training shard, the ids the
// trainer gets. It reports the pipeline's tokens/s (targets per second, the unit of a
// training step's words/s) beside the paper's BIGLSTM (~33.8K words/s on 4 V100s), and the
// peak RSS beside the corpus bytes. No GPU.
//
//   npm run bench:data                          # 4 training shards of 8 MB, 2 held-out shards
//   node dist/bench/data.js --full --dir /data/lm1b-synthetic   # all 99 + 50, kept for reuse
//
// With --dir the corpus is kept there, with a manifest (synthetic-lm1b.json) of the options it
// was written with: a later run with the same options and intact files reuses it instead of
// writing it again (the generation row then says "reused"); other options rewrite it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  loadCorpus,
  StreamBatcher,
  writeSyntheticLm1b,
  type StreamSplit,
  type SyntheticLm1bInfo,
  type SyntheticLm1bOptions,
} from '../src/data/index.js';
import { RiseWatch, table } from './util.js';

const USAGE = `usage: node dist/bench/data.js [--shards N] [--shard-mb M] [--full] [--dir DIR] [--batch B] [--bptt T] [--json FILE]
  --shards N     training shards (default 4, at most 99)
  --shard-mb M   MB a training shard (default 8; the real ones are ~40)
  --full         LM1B's full shape: 99 training shards and 50 held-out ones (default: 2 held-out,
                 the test split's and the validation split's)
  --dir DIR      write the corpus into DIR and keep it; reused when its manifest matches
  --batch B      streams a batch (default 128)
  --bptt T       steps a batch (default 20)
  --json FILE    also write the results as JSON`;

/** The paper's BIGLSTM on 4 V100s (words/s), the rate a full-size run's pipeline must beat. */
const PAPER_WORDS_PER_SEC = 33_800;
const MANIFEST = 'synthetic-lm1b.json';
const MB = 1e6;

interface Args {
  opts: SyntheticLm1bOptions;
  dir: string | undefined;
  batch: number;
  bptt: number;
  json: string | undefined;
}

/** What the child process measures. */
interface Measured {
  loadSeconds: number;
  vocabRssBytes: number;
  vocabHeapBytes: number;
  vocabSize: number;
  pipelineSeconds: number;
  batches: number;
  tokens: number;
  sentences: number;
  /** RSS before the load, its peak during it, after it (collected), the pipeline's highest, the process's peak. */
  baseRssBytes: number;
  loadPeakRssBytes: number;
  loadedRssBytes: number;
  pipelinePeakRssBytes: number;
  /** The most the pipeline's RSS rose above a low sampled earlier in it: what streaming holds. */
  pipelineRiseBytes: number;
  peakRssBytes: number;
}

function fail(msg: string): never {
  console.error(msg);
  process.exit(2);
}

function positive(raw: string | undefined, name: string, def: number, int = true): number {
  if (raw === undefined) return def;
  const v = Number(raw);
  if (!(v > 0) || !Number.isFinite(v) || (int && !Number.isInteger(v)))
    fail(`bench/data: --${name} must be a positive ${int ? 'integer' : 'number'}, got "${raw}"\n${USAGE}`);
  return v;
}

function parse(): Args | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        shards: { type: 'string' },
        'shard-mb': { type: 'string' },
        full: { type: 'boolean' },
        dir: { type: 'string' },
        batch: { type: 'string' },
        bptt: { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    fail(`bench/data: ${(e as Error).message}\n${USAGE}`);
  }
  if (values.help) return 'help';
  if (values.full && values.shards !== undefined) fail(`bench/data: --full writes all 99 training shards; leave out --shards\n${USAGE}`);
  const shardBytes = Math.round(positive(values['shard-mb'] as string | undefined, 'shard-mb', 8, false) * MB);
  const trainShards = values.full ? 99 : positive(values.shards as string | undefined, 'shards', 4);
  const opts: SyntheticLm1bOptions = { trainShards, shardBytes, heldoutShards: values.full ? 50 : 2 };
  return {
    opts,
    dir: values.dir as string | undefined,
    batch: positive(values.batch as string | undefined, 'batch', 128),
    bptt: positive(values.bptt as string | undefined, 'bptt', 20),
    json: values.json as string | undefined,
  };
}

/** The corpus under `dir` when its manifest has these options and every file its size. */
function reusable(dir: string, opts: SyntheticLm1bOptions): SyntheticLm1bInfo | undefined {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) return undefined;
  let m: { opts: SyntheticLm1bOptions; info: SyntheticLm1bInfo };
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as typeof m;
  } catch {
    return undefined; // an unreadable manifest: write the corpus again
  }
  if (JSON.stringify(m.opts) !== JSON.stringify(opts) || !m.info?.files) return undefined;
  const intact = (p: string, size: number) => existsSync(p) && statSync(p).size === size;
  return intact(m.info.vocabFile, m.info.vocabBytes) && m.info.files.every((f) => intact(f.path, f.bytes)) ? m.info : undefined;
}

async function generate(dir: string, opts: SyntheticLm1bOptions, keep: boolean): Promise<{ info: SyntheticLm1bInfo; reused: boolean }> {
  const old = keep ? reusable(dir, opts) : undefined;
  if (old) return { info: old, reused: true };
  // The manifest goes first so that a run stopped half-way is not taken for a finished one.
  if (keep) rmSync(join(dir, MANIFEST), { force: true });
  const info = await writeSyntheticLm1b(dir, opts);
  if (keep) writeFileSync(join(dir, MANIFEST), JSON.stringify({ opts, info }, null, 2) + '\n');
  return { info, reused: false };
}

/** A full collection when the child runs with --expose-gc, so heap figures are what is retained. */
function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** The vocabulary load: seconds, and the RSS (with its garbage) and retained heap it adds. */
async function measureLoad(dir: string) {
  collect();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const corpus = await loadCorpus(`lm1b:${dir}`);
  const loadSeconds = (performance.now() - t0) / 1000;
  const vocabRssBytes = process.memoryUsage().rss - rss0;
  collect();
  const vocabHeapBytes = process.memoryUsage().heapUsed - heap0;
  // maxRSS is in KiB: the peak so far, which the parse's garbage sets (collected afterwards).
  return {
    corpus,
    loadSeconds,
    vocabRssBytes,
    vocabHeapBytes,
    baseRssBytes: rss0,
    loadPeakRssBytes: process.resourceUsage().maxRSS * 1024,
    loadedRssBytes: process.memoryUsage().rss,
  };
}

/** Every training batch through the StreamBatcher: targets, sentences, seconds, the RSS peak. */
async function measurePipeline(split: StreamSplit, batch: number, bptt: number) {
  let sentences = 0;
  const counted = async function* () {
    for await (const s of split.sentences()) {
      sentences++;
      yield s;
    }
  };
  const batcher = new StreamBatcher(counted, { batchSize: batch, bptt });
  let batches = 0;
  let tokens = 0;
  const rss = new RiseWatch();
  rss.sample(process.memoryUsage().rss);
  const t0 = performance.now();
  for await (const b of batcher.batches()) {
    // A target is real where the mask (present only when some are padding) says so.
    if (!b.mask) tokens += b.targets.length;
    else for (let k = 0; k < b.mask.length; k++) tokens += b.mask[k];
    if (batches++ % 64 === 0) rss.sample(process.memoryUsage().rss);
  }
  const pipelineSeconds = (performance.now() - t0) / 1000;
  rss.sample(process.memoryUsage().rss);
  return { pipelineSeconds, batches, tokens, sentences, pipelinePeakRssBytes: rss.peak, pipelineRiseBytes: rss.rise };
}

/** Child process: the vocabulary load, then every training batch; printed as JSON. */
async function measure(dir: string, batch: number, bptt: number): Promise<Measured> {
  const { corpus, ...load } = await measureLoad(dir);
  const pipe = await measurePipeline(corpus.splits.train as StreamSplit, batch, bptt);
  return { ...load, vocabSize: corpus.vocab.size, ...pipe, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
}

function runChild(dir: string, a: Args): Measured {
  const r = spawnSync(process.execPath, ['--expose-gc', process.argv[1], '--measure', dir, String(a.batch), String(a.bptt)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  // An error, not fail(): the caller's finally must still remove the temporary corpus.
  if (r.status !== 0) throw new Error(`bench/data: the measuring process failed (${r.status ?? r.signal}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Measured;
}

const mb = (b: number) => (b / MB).toFixed(1);
const kilo = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(1)}K`);

function report(info: SyntheticLm1bInfo, reused: boolean, m: Measured, a: Args): Record<string, unknown> {
  const trainBytes = info.files.filter((f) => f.split === 'train').reduce((s, f) => s + f.bytes, 0);
  const genMBs = (info.bytes + info.vocabBytes) / MB / info.seconds;
  const tps = m.tokens / m.pipelineSeconds;
  const rows = [
    [
      'corpus',
      `${info.vocabSize.toLocaleString('en')} entries, ${info.files.filter((f) => f.split === 'train').length} train + ${info.files.filter((f) => f.split === 'heldout').length} held-out shards`,
      `${mb(info.bytes + info.vocabBytes)} MB`,
    ],
    ['generation', reused ? 'reused (manifest matches)' : `${info.seconds.toFixed(1)} s`, reused ? '' : `${genMBs.toFixed(1)} MB/s`],
    [
      'vocabulary load',
      `${m.loadSeconds.toFixed(2)} s, ${mb(info.vocabBytes)} MB file`,
      `RSS +${mb(m.loadedRssBytes - m.baseRssBytes)} MB kept (heap +${mb(m.vocabHeapBytes)}), ${mb(m.loadPeakRssBytes)} MB peak`,
    ],
    [
      `pipeline [${a.bptt}, ${a.batch}]`,
      `${m.batches} batches, ${kilo(m.tokens)} tokens in ${m.pipelineSeconds.toFixed(1)} s`,
      `${kilo(tps)} tokens/s`,
    ],
    // Growth is the rise above an earlier low within the pipeline, not its peak minus the RSS
    // after the load: the collector may hand pages back in between, which made that negative.
    [
      'pipeline RSS',
      `${mb(m.pipelinePeakRssBytes)} MB at most, rising at most ${mb(m.pipelineRiseBytes)} MB above an earlier low`,
      `${(m.pipelineRiseBytes / trainBytes).toFixed(3)}x the training shards`,
    ],
    [
      'peak RSS',
      `${mb(m.peakRssBytes)} MB (process start ${mb(m.baseRssBytes)})`,
      `${(m.peakRssBytes / trainBytes).toFixed(2)}x the ${mb(trainBytes)} MB of training shards`,
    ],
  ];
  console.log(table(['', 'what', 'rate / size'], rows, 2));
  console.log(
    `\npipeline ${kilo(tps)} tokens/s = ${(tps / PAPER_WORDS_PER_SEC).toFixed(1)}x the paper's BIGLSTM training rate (~33.8K words/s on 4 V100s)`,
  );
  const corpus = {
    vocabSize: info.vocabSize,
    vocabBytes: info.vocabBytes,
    shards: info.files.length,
    bytes: info.bytes,
    sentences: info.sentences,
    words: info.words,
  };
  return {
    date: new Date().toISOString(),
    options: a.opts,
    corpus,
    generation: reused ? null : { seconds: info.seconds, mbPerSec: genMBs },
    batch: a.batch,
    bptt: a.bptt,
    measured: m,
    trainBytes,
    tokensPerSec: tps,
    paperWordsPerSec: PAPER_WORDS_PER_SEC,
    ratioToPaper: tps / PAPER_WORDS_PER_SEC,
  };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--measure') {
    const [dir, b, t] = process.argv.slice(3);
    console.log(JSON.stringify(await measure(dir, Number(b), Number(t))));
    return;
  }
  const a = parse();
  if (a === 'help') return void console.log(USAGE);
  const dir = a.dir ?? mkdtempSync(join(tmpdir(), 'flstm-lm1b-bench-'));
  try {
    console.log(`writing the corpus into ${dir} ...`);
    const { info, reused } = await generate(dir, a.opts, a.dir !== undefined);
    const out = report(info, reused, runChild(dir, a), a);
    if (a.json) {
      writeFileSync(a.json, JSON.stringify(out, null, 2) + '\n');
      console.log(`wrote ${a.json}`);
    }
  } finally {
    if (a.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
