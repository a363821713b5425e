// The `flstm` command. Each command is an entry in COMMANDS: its options (parsed strictly by
// node's util.parseArgs, so an unknown flag is one clear error) and a run function. Every
// command takes --json (one JSON line on stdout) and --adapter. Errors print one message
// (no stack trace): exit code 2 for usage errors, 1 for everything else.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import * as fl from './index.js';
import { lstmStackLayers, lstmStackParamCounts, CELL_KINDS, type CellKind, type LstmStackSizes } from './nn/params.js';
import pkg from '../package.json';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | undefined>;

interface Command {
  name: string;
  summary: string;
  /** Option names and value placeholders, e.g. "[--json] [--adapter NAME]". */
  usage: string;
  options: Options;
  /** Help lines for the options, in the order shown. */
  optionHelp: [string, string][];
  run(values: Values, positionals: string[]): Promise<void>;
}

/** A mistake in the command line: exit code 2. */
class UsageError extends Error {}

/** Options every command that touches the GPU accepts. */
const DEVICE_OPTIONS: Options = {
  json: { type: 'boolean' },
  adapter: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};
const DEVICE_OPTION_HELP: [string, string][] = [
  ['--json', 'print one JSON line instead of the readable form'],
  ['--adapter NAME|ICD.json', 'use the adapter whose description contains NAME, or the Vulkan driver in ICD.json'],
  ['-h, --help', 'print this help'],
];

async function initFrom(values: Values): Promise<fl.AdapterInfoSummary> {
  const adapter = values.adapter as string | undefined;
  if (adapter !== undefined && adapter.trim() === '') throw new UsageError('flstm: --adapter needs a non-empty value');
  return fl.init(adapter ? { adapter } : {});
}

function fmtBytes(n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (n < 1024) return '';
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return ` (${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]})`;
}

/** Two columns, the first padded to its longest entry. */
function aligned(rows: [string, string][], indent = ''): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${indent}${k.padEnd(w)}  ${v}`.trimEnd()).join('\n');
}

function formatInfo(info: fl.AdapterInfoSummary): string {
  const icd = info.icd ?? process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES;
  const rows: [string, string][] = [
    ['backend', info.backend],
    ['vendor', info.vendor || '-'],
    ['architecture', info.architecture || '-'],
    ['device', info.device || '-'],
    ['description', info.description || '-'],
    ['software adapter', info.software ? 'yes' : 'no'],
    ['vulkan driver', icd ? icd : info.backend === 'node-dawn' ? "(the Vulkan loader's default)" : '-'],
    ['kernel variant', info.variant],
    ['features', info.features.join(', ') || '-'],
  ];
  const limits: [string, string][] = Object.entries(info.limits).map(([k, v]) => [
    k,
    `${v}${/Size$/.test(k) ? fmtBytes(v) : ''}`,
  ]);
  return `${aligned(rows)}\nlimits\n${aligned(limits, '  ')}`;
}

/** A positive integer option (or, with allowZero, 0), or undefined when absent. */
function intOption(values: Values, cmd: string, name: string, opts: { required?: boolean; allowZero?: boolean } = {}): number | undefined {
  const raw = values[name];
  if (raw === undefined) {
    if (opts.required) throw new UsageError(`flstm ${cmd}: --${name} is required`);
    return undefined;
  }
  const s = String(raw).trim();
  const v = /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(v) || (v === 0 && !opts.allowZero)) {
    throw new UsageError(`flstm ${cmd}: --${name} must be a ${opts.allowZero ? 'non-negative' : 'positive'} integer, got '${String(raw)}'`);
  }
  return v;
}

/** The sizes of `flstm params` from its options, checked (usage errors name the layer and values). */
export function stackFromOptions(values: Values, cmd = 'params'): LstmStackSizes {
  const cellRaw = values.cell as string | undefined;
  if (cellRaw === undefined) throw new UsageError(`flstm ${cmd}: --cell is required (${CELL_KINDS.join(', ')})`);
  if (!(CELL_KINDS as readonly string[]).includes(cellRaw)) {
    throw new UsageError(`flstm ${cmd}: --cell must be one of ${CELL_KINDS.join(', ')}, got '${cellRaw}'`);
  }
  const cell = cellRaw as CellKind;
  const layers = intOption(values, cmd, 'layers', { required: true })!;
  const hiddenSize = intOption(values, cmd, 'hidden', { required: true })!;
  const inputSize = intOption(values, cmd, 'emb', { required: true })!;
  const projSize = intOption(values, cmd, 'proj', { allowZero: true }) ?? 0;
  const stack: LstmStackSizes = { cell, layers, inputSize, hiddenSize, projSize };
  if (cell === 'flstm') {
    if (values.groups !== undefined) throw new UsageError(`flstm ${cmd}: --groups applies only to --cell glstm (flstm takes --factor)`);
    stack.factor = intOption(values, cmd, 'factor', { required: true });
  } else if (values.factor !== undefined) {
    throw new UsageError(`flstm ${cmd}: --factor applies only to --cell flstm, not ${cell}`);
  }
  if (cell === 'glstm') {
    const raw = values.groups as string | undefined;
    if (raw === undefined) throw new UsageError(`flstm ${cmd}: --cell glstm needs --groups K (or one K per layer, e.g. 4,8)`);
    const parts = raw.split(',').map((p) => p.trim());
    const ks = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
    if (ks.some((k) => !Number.isSafeInteger(k) || k < 1)) {
      throw new UsageError(`flstm ${cmd}: --groups must be a positive integer or a comma-separated list of them (one per layer), got '${raw}'`);
    }
    if (ks.length > 1 && ks.length !== layers) {
      throw new UsageError(`flstm ${cmd}: --groups ${raw} gives ${ks.length} group counts for ${layers} layers (give one, or one per layer)`);
    }
    stack.groups = ks.length === 1 ? ks[0] : ks;
  } else if (values.groups !== undefined) {
    throw new UsageError(`flstm ${cmd}: --groups applies only to --cell glstm, not ${cell}`);
  }
  try {
    lstmStackLayers(stack);
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^flstm: /, `flstm ${cmd}: `));
  }
  return stack;
}

function fmtMillions(n: number): string {
  return `${(n / 1e6).toFixed(2)}M`;
}

function fmtCount(n: number): string {
  return String(n);
}

const COMMANDS: Command[] = [
  {
    name: 'info',
    summary: 'show the WebGPU adapter, its limits and features, and the kernel variant in use',
    usage: '[--json] [--adapter NAME|ICD.json]',
    options: DEVICE_OPTIONS,
    optionHelp: DEVICE_OPTION_HELP,
    async run(values) {
      const info = await initFrom(values);
      console.log(values.json ? JSON.stringify(info) : formatInfo(info));
    },
  },
  {
    name: 'params',
    summary: 'count the RNN parameters of an LSTM / F-LSTM / G-LSTM stack (no GPU needed)',
    usage: '--cell lstm|flstm|glstm --layers L --hidden N --emb E [--proj P] [--factor R | --groups K[,K2,...]] [--json]',
    options: {
      cell: { type: 'string' },
      layers: { type: 'string' },
      hidden: { type: 'string' },
      proj: { type: 'string' },
      emb: { type: 'string' },
      factor: { type: 'string' },
      groups: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    optionHelp: [
      ['--cell lstm|flstm|glstm', 'the cell: LSTM(P), factorized F-LSTM or group G-LSTM'],
      ['--layers L', 'number of layers'],
      ['--hidden N', 'cell size n of every layer'],
      ['--emb E', 'embedding size: the input size of layer 1'],
      ['--proj P', 'projection size p (the output of each layer); omitted or 0: no projection'],
      ['--factor R', 'flstm: the factorization size r (W = W2*W1, W1 has r columns)'],
      ['--groups K|K1,K2,...', 'glstm: groups per layer, one for all or one per layer (hierarchical)'],
      ['--json', 'print one JSON line instead of the readable form'],
      ['-h, --help', 'print this help'],
    ],
    async run(values) {
      const stack = stackFromOptions(values);
      const perLayer = lstmStackParamCounts(stack);
      const total = perLayer.reduce((a, b) => a + b, 0);
      if (values.json) {
        console.log(JSON.stringify({ cell: stack.cell, layers: stack.layers, total, perLayer }));
        return;
      }
      const groups = stack.groups === undefined ? undefined : Array.isArray(stack.groups) ? stack.groups.join(',') : String(stack.groups);
      const cellText = stack.cell + (stack.factor !== undefined ? ` (factor r = ${stack.factor})` : '') + (groups !== undefined ? ` (groups k = ${groups})` : '');
      const w = fmtCount(total).length;
      const rows: [string, string][] = [
        ['cell', cellText],
        ['layers', String(stack.layers)],
        ['embedding', String(stack.inputSize)],
        ['hidden', String(stack.hiddenSize)],
        ['projection', stack.projSize ? String(stack.projSize) : 'none'],
        ...perLayer.map((c, l): [string, string] => [`layer ${l + 1}`, `${fmtCount(c).padStart(w)}  (${fmtMillions(c)})`]),
        ['total', `${fmtCount(total).padStart(w)}  (${fmtMillions(total)})`],
      ];
      console.log(aligned(rows));
    },
  },
  {
    name: 'data',
    summary: 'load a corpus and count its tokens, unknown words and vocabulary per split (no GPU needed)',
    usage: '[--data brown|lm1b:DIR|text:TRAIN[,VALID[,TEST]]] [--vocab-size N | --min-count N | --vocab FILE] [--json]',
    options: {
      data: { type: 'string' },
      'vocab-size': { type: 'string' },
      'min-count': { type: 'string' },
      vocab: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    optionHelp: [
      ['--data SPEC', `the corpus: ${fl.data.CORPUS_SPECS} (default brown)`],
      ['--vocab-size N', 'brown, text: at most N vocabulary entries (<unk> and <eos> included)'],
      ['--min-count N', 'brown, text: keep words seen at least N times (brown: 4, text: 1)'],
      ['--vocab FILE', "text: use this vocabulary ('word count' per line, with <unk> and <eos>)"],
      ['--json', 'print one JSON line instead of the readable form'],
      ['-h, --help', 'print this help'],
    ],
    async run(values) {
      const spec = (values.data as string | undefined) ?? 'brown';
      const vocabFile = values.vocab as string | undefined;
      if (vocabFile !== undefined && vocabFile.trim() === '') throw new UsageError('flstm data: --vocab needs a file name');
      let corpus: fl.data.Corpus;
      try {
        corpus = await fl.data.loadCorpus(spec, {
          maxVocab: intOption(values, 'data', 'vocab-size'),
          minCount: intOption(values, 'data', 'min-count'),
          vocabFile,
        });
      } catch (err) {
        if (err instanceof fl.data.CorpusSpecError) throw new UsageError(err.message.replace(/^flstm: /, 'flstm data: '));
        throw err;
      }
      const splits = await fl.data.corpusStats(corpus);
      if (values.json) {
        console.log(JSON.stringify({ data: corpus.spec, vocab: corpus.vocab.size, splits }));
        return;
      }
      const v = corpus.vocab;
      const rows: [string, string][] = [
        ['data', corpus.spec],
        ['vocabulary', `${v.size}${v.unk !== undefined ? ` (${v.unk} id ${v.unkId})` : ''}${corpus.boundary ? `, sentence token ${corpus.boundary}` : ''}`],
      ];
      const entries = Object.entries(splits) as [string, fl.data.SplitStats][];
      const w = Math.max(...entries.map(([, s]) => String(s.tokens).length));
      for (const [name, s] of entries) {
        const pct = s.tokens > 0 ? ((100 * s.unk) / s.tokens).toFixed(2) : '0.00';
        const sent = s.sentences !== undefined ? `, ${s.sentences} sentences` : '';
        rows.push([name, `${String(s.tokens).padStart(w)} tokens, ${s.unk} ${v.unk ?? '<unk>'} (${pct}%)${sent}`]);
      }
      console.log(aligned(rows));
    },
  },
  {
    name: 'train',
    summary: 'train an LSTM / F-LSTM / G-LSTM language model (Ctrl-C saves a checkpoint and stops)',
    usage: '[--data SPEC] [--cell C] [--factor R | --groups K[,K2]] [--layers L] [--emb E] [--hidden N] [--proj P] [--batch B] [--bptt T] [--dropout D] [--optimizer adagrad|adam|sgd] [--lr LR] [--clip C] [--sampled S] [--precision auto|f32|f16] [--steps N | --time LIMIT] [--out DIR] [--resume] [--seed S] [--log-every N] [--save-every N] [--eval-tokens N] [--vocab-size N | --min-count N | --vocab FILE] [--sample N] [--json]',
    options: {
      ...DEVICE_OPTIONS,
      data: { type: 'string' }, cell: { type: 'string' }, factor: { type: 'string' }, groups: { type: 'string' },
      layers: { type: 'string' }, emb: { type: 'string' }, hidden: { type: 'string' }, proj: { type: 'string' },
      batch: { type: 'string' }, bptt: { type: 'string' }, dropout: { type: 'string' }, optimizer: { type: 'string' },
      lr: { type: 'string' }, clip: { type: 'string' }, sampled: { type: 'string' }, steps: { type: 'string' },
      time: { type: 'string' }, out: { type: 'string' }, resume: { type: 'boolean' }, seed: { type: 'string' },
      'log-every': { type: 'string' }, 'save-every': { type: 'string' }, 'eval-tokens': { type: 'string' },
      'vocab-size': { type: 'string' }, 'min-count': { type: 'string' }, vocab: { type: 'string' }, sample: { type: 'string' },
      precision: { type: 'string' },
    },
    optionHelp: [
      ['--data SPEC', `the corpus: ${fl.data.CORPUS_SPECS} (default brown)`],
      ['--cell lstm|flstm|glstm', 'the cell (default glstm)'],
      ['--factor R', 'flstm: the factor size r'],
      ['--groups K|K1,K2', 'glstm: groups, one for all layers or one per layer (default 2)'],
      ['--layers L', 'LSTM layers (default 2)'],
      ['--emb E', 'embedding size (default 128)'],
      ['--hidden N', 'cell size n (default 512)'],
      ['--proj P', 'projection size p, 0 for none (default 128)'],
      ['--batch B', 'independent streams (default 32)'],
      ['--bptt T', 'steps per batch (default 20)'],
      ['--dropout D', 'dropout after the embedding and each layer (default 0.1)'],
      ['--optimizer NAME', 'adagrad (default; the paper: lr 0.2, accumulator 1.0), adam or sgd'],
      ['--lr LR', 'learning rate (default 0.2; adam 0.002; sgd 1)'],
      ['--clip C', 'clip the LSTM weights\' gradients to this global norm (default 1.0; 0: none)'],
      ['--sampled S', 'sampled softmax with S samples (default 512; 0: full softmax)'],
      ['--precision auto|f32|f16', 'f16: the matmuls read f16 copies of the weight matrices and their inputs (f32 weights, gradients, optimizer and accumulation; needs shader-f16); auto (default): f16 where the adapter has shader-f16, else f32, and with --resume the checkpoint\'s'],
      ['--steps N', 'train until step N (counting steps before a resume)'],
      ['--time LIMIT', 'train for this long: 90s, 10m, 2h (default 5m when --steps is not given)'],
      ['--out DIR', 'run folder: checkpoint, metrics.jsonl, chart.svg (default runs/train, or runs/train-2... when taken)'],
      ['--resume', 'continue the run in --out from its checkpoint (same options)'],
      ['--seed S', 'seed of the weights, samples and dropout masks (default 1)'],
      ['--log-every N', 'steps between progress lines (default 20)'],
      ['--save-every N', 'steps between checkpoints (default 500)'],
      ['--eval-tokens N', 'validation tokens evaluated at the end (default all; 0: none)'],
      ['--vocab-size N, --min-count N', 'text corpora: vocabulary limits'],
      ['--vocab FILE', "text corpora: use this vocabulary ('word count' per line, with <unk> and <eos>)"],
      ['--sample N', 'words of sample text printed at the end (default 30; 0: none)'],
      ...DEVICE_OPTION_HELP,
    ],
    async run(values) {
      const cfg = trainConfigFrom(values);
      const steps = intOption(values, 'train', 'steps');
      let seconds = values.time !== undefined ? parseDuration(values.time as string) : undefined;
      if (steps === undefined && seconds === undefined) seconds = 300;
      const out = (values.out as string | undefined) ?? (await defaultRunFolder(!!values.resume));
      const json = !!values.json;
      const sampleWords = intOption(values, 'train', 'sample', { allowZero: true }) ?? 30;
      await initFrom(values);
      const { precision } = await resolvePrecision(precisionChoice(values), values.resume ? out : null);
      if (precision) cfg.model.precision = precision;
      let stop = false;
      const onSigint = () => {
        if (stop) process.exit(130);
        stop = true;
        if (!json) console.error('\nflstm train: interrupted; saving a checkpoint (Ctrl-C again to quit at once)');
      };
      process.on('SIGINT', onSigint);
      const tty = process.stderr.isTTY && !json;
      try {
        const summary = await fl.train.train(cfg, {
          out, resume: !!values.resume, steps, seconds,
          logEvery: intOption(values, 'train', 'log-every'), saveEvery: intOption(values, 'train', 'save-every'),
          evalTokens: intOption(values, 'train', 'eval-tokens', { allowZero: true }),
          stopRequested: () => stop,
          onLog(e) {
            if (json) return console.log(JSON.stringify(e));
            if (e.type === 'start') {
              console.log(`flstm train: ${cfg.model.cell} on ${cfg.data} (vocabulary ${e.vocab}), ${e.params} parameters (${e.rnnParams} in the LSTM layers), ${e.precision} matmul operands, adapter ${e.adapter}${e.resumed ? `, resumed at step ${e.step}` : ''}`);
            } else if (e.type === 'progress') {
              if (tty) process.stderr.write(`\r${e.line}\x1b[K`);
              else console.log(e.line);
            } else if (e.type === 'eval') {
              if (tty) process.stderr.write('\n');
              console.log(`${e.split} perplexity ${e.ppl.toFixed(2)} (loss ${e.loss.toFixed(4)}, ${e.tokens} tokens, step ${e.step})`);
            } else if (e.type === 'stopped') {
              if (tty) process.stderr.write('\n');
              console.error(`flstm train: ${e.reason}`);
            }
          },
        });
        if (tty) process.stderr.write('\n');
        let sample: string | undefined;
        const interrupted = summary.stopReason === 'interrupted';
        if (sampleWords > 0 && summary.stopReason !== 'non-finite loss' && !interrupted) {
          const loaded = await fl.train.loadModel(`${out}/checkpoint`);
          const g = await fl.train.generate(loaded.model, loaded.vocab, 'The', { tokens: sampleWords, seed: cfg.seed, temperature: 0.8 });
          sample = [...g.prompt, ...g.words].join(' ');
          loaded.model.dispose();
        }
        if (json) console.log(JSON.stringify({ type: 'summary', ...summary, validPpl: summary.valid?.ppl, sample }));
        else {
          console.log(`trained to step ${summary.step} (${summary.stopReason}), ${Math.round(summary.wordsPerSec)} words/s; run folder ${out} (checkpoint/, metrics.jsonl, chart.svg)`);
          if (summary.valid) console.log(`validation perplexity ${summary.valid.ppl.toFixed(2)}`);
          if (sample) console.log(`sample: ${sample}`);
        }
        // A diverged run failed; an interrupted one saved but did not finish (128 + SIGINT, as shells report it).
        if (summary.stopReason === 'non-finite loss') process.exitCode = 1;
        else if (interrupted) process.exitCode = 130;
      } catch (err) {
        if (err instanceof fl.data.CorpusSpecError) throw new UsageError(err.message.replace(/^flstm: /, 'flstm train: '));
        throw err;
      } finally {
        process.off('SIGINT', onSigint);
      }
    },
  },
  {
    name: 'eval',
    summary: 'full-softmax perplexity of a checkpoint on a split',
    usage: '--checkpoint DIR [--split valid|test] [--data SPEC] [--batch B] [--bptt T] [--max-tokens N] [--json]',
    options: { ...DEVICE_OPTIONS, checkpoint: { type: 'string' }, split: { type: 'string' }, data: { type: 'string' }, batch: { type: 'string' }, bptt: { type: 'string' }, 'max-tokens': { type: 'string' } },
    optionHelp: [
      ['--checkpoint DIR', 'a checkpoint folder (RUN/checkpoint)'],
      ['--split valid|test', 'the split (default valid)'],
      ['--data SPEC', "the corpus (default: the checkpoint's)"],
      ['--batch B, --bptt T', "batch shape (default: the checkpoint's)"],
      ['--max-tokens N', 'stop after N tokens'],
      ...DEVICE_OPTION_HELP,
    ],
    async run(values) {
      const dir = values.checkpoint as string | undefined;
      if (!dir) throw new UsageError('flstm eval: --checkpoint DIR is required');
      const splitName = (values.split as string | undefined) ?? 'valid';
      if (splitName !== 'valid' && splitName !== 'test' && splitName !== 'train') throw new UsageError(`flstm eval: --split must be valid or test, got '${splitName}'`);
      await initFrom(values);
      const loaded = await fl.train.loadModel(dir);
      const cfg = loaded.config.train;
      const corpus = await fl.data.loadCorpus((values.data as string | undefined) ?? cfg.data, fl.train.corpusOptions(cfg));
      if (corpus.vocab.size !== loaded.vocab.size) throw new Error(`flstm eval: the corpus gives ${corpus.vocab.size} words, the checkpoint's vocabulary ${loaded.vocab.size}`);
      const split = corpus.splits[splitName as 'valid' | 'test' | 'train'];
      if (!split) throw new Error(`flstm eval: ${corpus.spec} has no ${splitName} split`);
      const r = await fl.train.evaluate(loaded.model, split, {
        batchSize: intOption(values, 'eval', 'batch') ?? cfg.batch, bptt: intOption(values, 'eval', 'bptt') ?? cfg.bptt,
        maxTokens: intOption(values, 'eval', 'max-tokens'),
      });
      if (values.json) console.log(JSON.stringify({ checkpoint: dir, split: splitName, step: loaded.config.step, ...r }));
      else console.log(`${splitName} perplexity ${r.ppl.toFixed(2)} (loss ${r.loss.toFixed(4)}, ${r.tokens} tokens, step ${loaded.config.step}, ${r.seconds.toFixed(1)} s)`);
    },
  },
  {
    name: 'generate',
    summary: 'sample text from a checkpoint',
    usage: '--checkpoint DIR [--prompt TEXT] [--tokens N] [--temperature T] [--seed S] [--json]',
    options: { ...DEVICE_OPTIONS, checkpoint: { type: 'string' }, prompt: { type: 'string' }, tokens: { type: 'string' }, temperature: { type: 'string' }, seed: { type: 'string' } },
    optionHelp: [
      ['--checkpoint DIR', 'a checkpoint folder (RUN/checkpoint)'],
      ['--prompt TEXT', 'the words to continue (default "The")'],
      ['--tokens N', 'words to generate (default 30)'],
      ['--temperature T', 'softmax temperature; 0 picks the most likely word (default 1)'],
      ['--seed S', 'sampling seed (default 1)'],
      ...DEVICE_OPTION_HELP,
    ],
    async run(values) {
      const dir = values.checkpoint as string | undefined;
      if (!dir) throw new UsageError('flstm generate: --checkpoint DIR is required');
      const temperature = values.temperature !== undefined ? Number(values.temperature) : 1;
      if (!(temperature >= 0)) throw new UsageError(`flstm generate: --temperature must be a number >= 0, got '${values.temperature}'`);
      const tokens = intOption(values, 'generate', 'tokens', { allowZero: true }) ?? 30;
      const seed = intOption(values, 'generate', 'seed', { allowZero: true }) ?? 1;
      await initFrom(values);
      const loaded = await fl.train.loadModel(dir);
      const prompt = (values.prompt as string | undefined) ?? 'The';
      const g = await fl.train.generate(loaded.model, loaded.vocab, prompt, { tokens, temperature, seed });
      if (values.json) console.log(JSON.stringify({ prompt: g.prompt, words: g.words, text: [...g.prompt, ...g.words].join(' ') }));
      else console.log([...g.prompt, ...g.words].join(' '));
    },
  },
  {
    name: 'bench',
    summary: 'benchmark the kernels and LSTM / F-LSTM / G-LSTM training steps, beside TensorFlow.js when installed',
    usage: '[--suite kernels|step|all] [--quick] [--json FILE] [--save | --no-save] [--no-tfjs] [--out DIR] [--seconds S] [--adapter NAME|ICD.json]',
    options: {
      suite: { type: 'string' }, quick: { type: 'boolean' }, json: { type: 'string' }, save: { type: 'boolean' },
      'no-save': { type: 'boolean' }, 'no-tfjs': { type: 'boolean' }, out: { type: 'string' }, seconds: { type: 'string' },
      adapter: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
    optionHelp: [
      ['--suite kernels|step|all', 'kernels: ceilings and kernels (matmul beside tfjs); step: training steps per cell, and the LSTM LM beside tfjs-layers; all (default)'],
      ['--quick', 'fewer shapes and steps, shorter timing (about 2 minutes on a software driver)'],
      ['--json FILE', 'also write the results as JSON to FILE'],
      ['--save', 'write bench/results/<adapter>-<date>.json and .svg (default with the full suite)'],
      ['--no-save', 'do not write them'],
      ['--no-tfjs', 'do not run TensorFlow.js (an optional devDependency)'],
      ['--out DIR', 'results folder (default bench/results)'],
      ['--seconds S', 'timing target per kernel (default 1.5; --quick 0.3)'],
      ['--adapter NAME|ICD.json', 'use the adapter whose description contains NAME, or the Vulkan driver in ICD.json'],
      ['-h, --help', 'print this help'],
    ],
    async run(values) {
      const suite = (values.suite as string | undefined) ?? 'all';
      if (!['kernels', 'step', 'all'].includes(suite)) throw new UsageError(`flstm bench: --suite must be kernels, step or all, got '${suite}'`);
      if (values.save && values['no-save']) throw new UsageError('flstm bench: give --save or --no-save, not both');
      const seconds = values.seconds === undefined ? undefined : numOption(values, 'bench', 'seconds', 0, (x) => x > 0, 'a positive number of seconds');
      const json = values.json as string | undefined;
      if (json !== undefined && json.trim() === '') throw new UsageError('flstm bench: --json needs a file name');
      const adapter = values.adapter as string | undefined;
      if (adapter !== undefined && adapter.trim() === '') throw new UsageError('flstm: --adapter needs a non-empty value');
      // The suite is its own bundle (dist/bench/suite.js, made by npm run build), loaded only here.
      const url = new URL('./bench/suite.js', import.meta.url);
      let mod: { runSuite(o: Record<string, unknown>): Promise<number> };
      try {
        mod = (await import(url.href)) as typeof mod;
      } catch (err) {
        throw new Error(`flstm bench: cannot load the benchmark bundle ${url.pathname} (npm run build makes it): ${(err as Error).message.split('\n')[0]}`);
      }
      process.exitCode = await mod.runSuite({
        suite, quick: !!values.quick, json, save: values.save ? true : values['no-save'] ? false : undefined,
        tfjs: !values['no-tfjs'], out: values.out as string | undefined, seconds, adapter,
      });
    },
  },
];

/**
 * The run folder when --out is not given: runs/train, or (a new run, when that one holds a
 * checkpoint already) the first of runs/train-2, runs/train-3, ... that does not, so running
 * the default twice never replaces an earlier run. --resume continues runs/train.
 */
async function defaultRunFolder(resume: boolean): Promise<string> {
  const { access } = await import('node:fs/promises');
  const taken = (d: string) => access(`${d}/checkpoint/config.json`).then(() => true, () => false);
  if (resume || !(await taken('runs/train'))) return 'runs/train';
  for (let i = 2; ; i++) if (!(await taken(`runs/train-${i}`))) return `runs/train-${i}`;
}

/** "90s", "10m", "2h", "1h30m" or plain seconds. */
function parseDuration(raw: string): number {
  const s = raw.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const re = /(\d+(?:\.\d+)?)(h|m|s)/g;
  let total = 0;
  let consumed = '';
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
    consumed += m[0];
  }
  if (!consumed || consumed !== s || total <= 0) throw new UsageError(`flstm train: --time must be a duration such as 90s, 10m, 2h or 1h30m, got '${raw}'`);
  return total;
}

function numOption(values: Values, cmd: string, name: string, def: number, check: (v: number) => boolean, what: string): number {
  const raw = values[name];
  if (raw === undefined) return def;
  const v = Number(raw);
  if (String(raw).trim() === '' || !Number.isFinite(v) || !check(v)) throw new UsageError(`flstm ${cmd}: --${name} must be ${what}, got '${String(raw)}'`);
  return v;
}

/** --precision: auto (the default), f32 or f16. */
function precisionChoice(values: Values): 'auto' | 'f32' | 'f16' {
  const raw = (values.precision as string | undefined) ?? 'auto';
  if (raw !== 'auto' && raw !== 'f32' && raw !== 'f16') throw new UsageError(`flstm train: --precision must be auto, f32 or f16, got '${raw}'`);
  return raw;
}

/**
 * The precision a run trains with; the configuration names it only when it is f16. auto: f16
 * where the adapter has shader-f16 (the validation perplexity on Brown matches f32's: 1.0003
 * after 3000 steps, `npm run bench:f16`), else f32; resuming, the checkpoint's. Needs fl.init().
 */
async function resolvePrecision(choice: 'auto' | 'f32' | 'f16', resumeDir: string | null): Promise<{ precision?: 'f16' }> {
  if (choice === 'f16') return { precision: 'f16' };
  if (choice === 'f32') return {};
  if (resumeDir) {
    // No readable checkpoint: the trainer says what is wrong with it.
    const saved = await fl.train.readCheckpointConfig<{ train?: fl.train.TrainConfig }>(`${resumeDir}/checkpoint`).catch(() => null);
    return saved?.train?.model?.precision === 'f16' ? { precision: 'f16' } : {};
  }
  return fl.info().features.includes('shader-f16') ? { precision: 'f16' } : {};
}

/** The training configuration from `flstm train`'s options (defaults: a small G-LSTM on Brown). */
function trainConfigFrom(values: Values): fl.train.TrainConfig {
  const v: Values = { cell: 'glstm', layers: '2', emb: '128', hidden: '512', proj: '128', ...values };
  if (v.cell === 'glstm' && v.groups === undefined) v.groups = '2';
  const stack = stackFromOptions(v, 'train');
  const optimizer = ((values.optimizer as string | undefined) ?? 'adagrad') as fl.train.TrainConfig['optimizer'];
  if (!['adagrad', 'adam', 'sgd'].includes(optimizer)) throw new UsageError(`flstm train: --optimizer must be adagrad, adam or sgd, got '${optimizer}'`);
  const defaultLr = optimizer === 'adagrad' ? 0.2 : optimizer === 'adam' ? 0.002 : 1;
  const data = (values.data as string | undefined) ?? 'brown';
  try {
    fl.data.parseCorpusSpec(data);
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^flstm: /, 'flstm train: --data: '));
  }
  const vocabFile = values.vocab as string | undefined;
  if (vocabFile !== undefined && vocabFile.trim() === '') throw new UsageError('flstm train: --vocab needs a file name');
  return {
    data,
    model: {
      cell: stack.cell, layers: stack.layers, emb: stack.inputSize, hidden: stack.hiddenSize, proj: stack.projSize ?? 0,
      factor: stack.factor, groups: stack.groups as number | number[] | undefined,
      dropout: numOption(values, 'train', 'dropout', 0.1, (x) => x >= 0 && x < 1, 'a number in [0, 1)'),
      ...(precisionChoice(values) === 'f16' ? { precision: 'f16' as const } : {}),
    },
    batch: intOption(values, 'train', 'batch') ?? 32,
    bptt: intOption(values, 'train', 'bptt') ?? 20,
    optimizer,
    lr: numOption(values, 'train', 'lr', defaultLr, (x) => x > 0, 'a positive number'),
    clip: numOption(values, 'train', 'clip', 1.0, (x) => x >= 0, 'a number >= 0'),
    sampled: intOption(values, 'train', 'sampled', { allowZero: true }) ?? 512,
    seed: intOption(values, 'train', 'seed', { allowZero: true }) ?? 1,
    maxVocab: intOption(values, 'train', 'vocab-size'),
    minCount: intOption(values, 'train', 'min-count'),
    vocabFile,
  };
}

function mainUsage(): string {
  return [
    `flstm ${pkg.version}: a WebGPU tensor engine for LSTM language models`,
    '',
    'usage: flstm <command> [options]',
    '',
    'commands:',
    aligned(COMMANDS.map((c) => [c.name, c.summary]), '  '),
    '',
    'options:',
    aligned([['-h, --help', 'print this help'], ['-v, --version', 'print the version']], '  '),
    '',
    "Run 'flstm <command> --help' for a command's options.",
  ].join('\n');
}

function commandUsage(c: Command): string {
  return [`usage: flstm ${c.name} ${c.usage}`, '', c.summary, '', 'options:', aligned(c.optionHelp, '  ')].join('\n');
}

/** parseArgs's errors, reworded to name the command and what it accepts. */
function usageErrorFrom(err: unknown, c: Command): Error {
  const e = err as { code?: string; message?: string };
  const known = Object.entries(c.options).map(([k, o]) => `--${k}${o.type === 'string' ? ' VALUE' : ''}`).join(', ');
  const m = /'([^']+)'/.exec(e.message ?? '');
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`flstm ${c.name}: unknown option ${m ? m[1] : '?'} (it accepts ${known})`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const msg = e.message ?? '';
      const ambiguous = /^Option '([^' ]+)[^']*' argument is ambiguous/.exec(msg);
      // A value that starts with a dash ("--hidden -3") reads as an option: say how to give it.
      if (ambiguous) return new UsageError(`flstm ${c.name}: option ${ambiguous[1]} needs a value (one that starts with a dash is written ${ambiguous[1]}=-VALUE)`);
      return new UsageError(`flstm ${c.name}: ${msg.split('\n')[0].replace(/^Option '([^' ]+)[^']*' argument missing$/, 'option $1 needs a value')}`);
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`flstm ${c.name}: unexpected argument ${m ? m[1] : ''} (it takes no positional arguments)`);
    default:
      return err instanceof Error ? err : new Error(String(err));
  }
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    // No command is a usage error: the usage goes to stderr.
    console.error(mainUsage());
    process.exitCode = 2;
    return;
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    console.log(mainUsage());
    return;
  }
  if (name === '-v' || name === '--version') {
    console.log(pkg.version);
    return;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    const what = name.startsWith('-') ? `unknown option ${name}` : `unknown command '${name}'`;
    throw new UsageError(`flstm: ${what}; the commands are: ${COMMANDS.map((c) => c.name).join(', ')} (see flstm --help)`);
  }
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: rest, options: cmd.options, strict: true, allowPositionals: false }) as typeof parsed;
  } catch (err) {
    throw usageErrorFrom(err, cmd);
  }
  if (parsed.values.help) {
    console.log(commandUsage(cmd));
    return;
  }
  await cmd.run(parsed.values, parsed.positionals);
}

function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.startsWith('flstm') ? msg : `flstm: ${msg}`;
}

main(process.argv.slice(2))
  .catch((err: unknown) => {
    console.error(oneLine(err));
    process.exitCode = err instanceof UsageError ? 2 : 1;
  })
  .finally(() => {
    // A live Dawn device keeps Node running: destroy it so the process ends on its own.
    try {
      fl.dispose();
    } catch {
      // Nothing more to report: the command's own result or error is already printed.
    }
  });
