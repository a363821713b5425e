// The commands that describe rather than train: `flstm info` (the adapter), `flstm params`
// (parameter counts by formula, no GPU) and `flstm data` (a corpus's splits, no GPU).
import * as corpora from '../data/index.js';
import { type AdapterInfoSummary } from '../gpu/runtime.js';
import { lstmStackParamCounts } from '../nn/params.js';
import { cellSpec, SIZE_OPTIONS } from '../nn/cells.js';
import { formatBytes } from '../train/bytes.js';
import { aligned, DEVICE_OPTIONS, HELP_OPTION, JSON_OPTION, UsageError } from './args.js';
import { initFrom, type Command } from './command.js';
import { readOption, withoutDefault } from '../options/declare.js';
import { PRESET, PRESETS, withPreset, type Preset } from '../options/presets.js';
import {
  CELL,
  checkVocabSize,
  DATA,
  EMB,
  HIDDEN,
  LAYERS,
  MIN_COUNT,
  MODEL_OPTIONS,
  PROJ,
  stackFromOptions,
  VOCAB_FILE,
  VOCAB_SIZE,
  type TrainOption,
} from '../options/train.js';

/** A byte count's size in words, after the exact count: " (128 MiB)"; nothing under 1 KiB. */
function fmtBytes(n: number): string {
  return n < 1024 ? '' : ` (${formatBytes(n)})`;
}

function formatInfo(info: AdapterInfoSummary): string {
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
    [
      'binding size',
      `${info.maxBindingBytes}${fmtBytes(info.maxBindingBytes)}${info.bindingCapped ? ", a cap below the adapter's (FLSTM_MAX_BINDING_BYTES or fl.init({ maxBindingBytes }))" : ''}: larger tables are stored in row shards`,
    ],
    ['features', info.features.join(', ') || '-'],
  ];
  const limits: [string, string][] = Object.entries(info.limits).map(([k, v]) => [k, `${v}${/Size$/.test(k) ? fmtBytes(v) : ''}`]);
  return `${aligned(rows)}\nlimits\n${aligned(limits, '  ')}`;
}

export const infoCommand: Command = {
  name: 'info',
  gpu: true,
  summary: 'show the WebGPU adapter, its limits and features, and the kernel variant in use',
  options: DEVICE_OPTIONS,
  async run(values) {
    const info = await initFrom(values);
    console.log(values.json ? JSON.stringify(info) : formatInfo(info));
  },
};

/** The options a preset gives, as flags. */
const presetFlags = (p: Preset) =>
  Object.entries(p.values)
    .map(([k, v]) => `--${k} ${v}`)
    .join(' ');

const fmtMillions = (n: number) => `${(n / 1e6).toFixed(2)}M`;

export const paramsCommand: Command = {
  name: 'params',
  summary: 'count the RNN parameters of an LSTM / F-LSTM / G-LSTM stack (no GPU needed)',
  // Every size stated: no defaults here, but no projection unless --proj gives one.
  options: [
    { ...PRESET, help: `count a named configuration's (${PRESETS.map((p) => p.name).join(', ')}); options given override it` },
    ...MODEL_OPTIONS.map((o) =>
      o === PROJ
        ? { ...withoutDefault(o), default: 0 }
        : withoutDefault(o, ([CELL, LAYERS, HIDDEN, EMB] as TrainOption<any>[]).includes(o)),
    ),
    JSON_OPTION,
    HELP_OPTION,
  ],
  async run(values) {
    const preset = PRESETS.find((p) => p.name === readOption(values, 'params', PRESET));
    const stack = stackFromOptions(withPreset(values, 'params'), 'params', true);
    const perLayer = lstmStackParamCounts(stack);
    const total = perLayer.reduce((a, b) => a + b, 0);
    if (values.json) {
      console.log(JSON.stringify({ ...(preset ? { preset: preset.name } : {}), cell: stack.cell, layers: stack.layers, total, perLayer }));
      return;
    }
    const size = cellSpec(stack.cell).size;
    const sizeValue = size && stack[size];
    const cellText =
      stack.cell +
      (size ? ` (${size} ${SIZE_OPTIONS[size].symbol} = ${Array.isArray(sizeValue) ? sizeValue.join(',') : String(sizeValue)})` : '');
    const w = String(total).length;
    const rows: [string, string][] = [
      ...(preset
        ? ([
            ['preset', `${preset.name}: ${preset.summary}`],
            ['sets', presetFlags(preset)],
          ] as [string, string][])
        : []),
      ['cell', cellText],
      ['layers', String(stack.layers)],
      ['embedding', String(stack.inputSize)],
      ['hidden', String(stack.hiddenSize)],
      ['projection', stack.projSize ? String(stack.projSize) : 'none'],
      ...perLayer.map((c, l): [string, string] => [`layer ${l + 1}`, `${String(c).padStart(w)}  (${fmtMillions(c)})`]),
      ['total', `${String(total).padStart(w)}  (${fmtMillions(total)})`],
    ];
    console.log(aligned(rows));
  },
};

/** The files each split of a sharded corpus (lm1b:DIR) reads, which its spec does not say. */
function splitFiles(corpus: corpora.Corpus): Partial<Record<string, readonly string[]>> {
  const out: Partial<Record<string, readonly string[]>> = {};
  for (const [name, split] of Object.entries(corpus.splits)) if (split?.kind === 'stream') out[name] = split.files;
  return out;
}

export const dataCommand: Command = {
  name: 'data',
  summary: 'load a corpus and count its tokens, unknown words and vocabulary per split (no GPU needed)',
  options: [DATA, VOCAB_SIZE, MIN_COUNT, VOCAB_FILE, JSON_OPTION, HELP_OPTION],
  async run(values) {
    const spec = readOption(values, 'data', DATA);
    const maxVocab = readOption(values, 'data', VOCAB_SIZE);
    let corpus: corpora.Corpus;
    try {
      checkVocabSize(spec, maxVocab, 'data');
      corpus = await corpora.loadCorpus(spec, {
        maxVocab,
        minCount: readOption(values, 'data', MIN_COUNT),
        vocabFile: readOption(values, 'data', VOCAB_FILE),
      });
    } catch (err) {
      if (err instanceof corpora.CorpusSpecError) throw new UsageError(err.message.replace(/^flstm: /, 'flstm data: '));
      throw err;
    }
    const splits = await corpora.corpusStats(corpus);
    if (values.json) {
      const files = splitFiles(corpus);
      console.log(JSON.stringify({ data: corpus.spec, vocab: corpus.vocab.size, splits, ...(Object.keys(files).length ? { files } : {}) }));
      return;
    }
    const v = corpus.vocab;
    const rows: [string, string][] = [
      ['data', corpus.spec],
      [
        'vocabulary',
        `${v.size}${v.unk !== undefined ? ` (${v.unk} id ${v.unkId})` : ''}${corpus.boundary ? `, sentence token ${corpus.boundary}` : ''}`,
      ],
    ];
    const entries = Object.entries(splits) as [string, corpora.SplitStats][];
    const w = Math.max(...entries.map(([, s]) => String(s.tokens).length));
    for (const [name, s] of entries) {
      const pct = s.tokens > 0 ? ((100 * s.unk) / s.tokens).toFixed(2) : '0.00';
      const sent = s.sentences !== undefined ? `, ${s.sentences} sentences` : '';
      rows.push([name, `${String(s.tokens).padStart(w)} tokens, ${s.unk} ${v.unk ?? '<unk>'} (${pct}%)${sent}`]);
      const files = splitFiles(corpus)[name];
      if (files)
        rows.push([
          `${name} ${files.length === 1 ? 'file' : 'files'}`,
          files.length === 1 ? files[0] : `${files.length}: ${files[0]} .. ${files[files.length - 1]}`,
        ]);
    }
    console.log(aligned(rows));
  },
};
