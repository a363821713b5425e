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
function stackFromOptions(values: Values): LstmStackSizes {
  const cellRaw = values.cell as string | undefined;
  if (cellRaw === undefined) throw new UsageError(`flstm params: --cell is required (${CELL_KINDS.join(', ')})`);
  if (!(CELL_KINDS as readonly string[]).includes(cellRaw)) {
    throw new UsageError(`flstm params: --cell must be one of ${CELL_KINDS.join(', ')}, got '${cellRaw}'`);
  }
  const cell = cellRaw as CellKind;
  const layers = intOption(values, 'params', 'layers', { required: true })!;
  const hiddenSize = intOption(values, 'params', 'hidden', { required: true })!;
  const inputSize = intOption(values, 'params', 'emb', { required: true })!;
  const projSize = intOption(values, 'params', 'proj', { allowZero: true }) ?? 0;
  const stack: LstmStackSizes = { cell, layers, inputSize, hiddenSize, projSize };
  if (cell === 'flstm') {
    if (values.groups !== undefined) throw new UsageError('flstm params: --groups applies only to --cell glstm (flstm takes --factor)');
    stack.factor = intOption(values, 'params', 'factor', { required: true });
  } else if (values.factor !== undefined) {
    throw new UsageError(`flstm params: --factor applies only to --cell flstm, not ${cell}`);
  }
  if (cell === 'glstm') {
    const raw = values.groups as string | undefined;
    if (raw === undefined) throw new UsageError('flstm params: --cell glstm needs --groups K (or one K per layer, e.g. 4,8)');
    const parts = raw.split(',').map((p) => p.trim());
    const ks = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
    if (ks.some((k) => !Number.isSafeInteger(k) || k < 1)) {
      throw new UsageError(`flstm params: --groups must be a positive integer or a comma-separated list of them (one per layer), got '${raw}'`);
    }
    if (ks.length > 1 && ks.length !== layers) {
      throw new UsageError(`flstm params: --groups ${raw} gives ${ks.length} group counts for ${layers} layers (give one, or one per layer)`);
    }
    stack.groups = ks.length === 1 ? ks[0] : ks;
  } else if (values.groups !== undefined) {
    throw new UsageError(`flstm params: --groups applies only to --cell glstm, not ${cell}`);
  }
  try {
    lstmStackLayers(stack);
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^flstm: /, 'flstm params: '));
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
];

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
