// Named configurations: the paper's models with f-lm's recipe (its README's BIGLSTM command:
// 2 layers, state 8192, projection 1024, embedding 1024, Adagrad lr 0.2, accumulator 1.0,
// BPTT 20, batch 128 a GPU, 8192 samples, keep-probability 0.9, the LSTM gradients clipped
// to norm 1, the state carried, a moving average of the LSTM weights with decay 0.999 for
// evaluation, reached through TensorFlow's warm-up unless --ema-schedule fixed), and smaller ones of the same recipe that fit one machine. A preset only fills
// in options: those given override it, and a checkpoint stores the options it became, so a
// resume needs no preset (one given must agree with the checkpoint, as any option must).
import { choice, readOption, type OptionDecl, type Values } from './declare.js';
import { SIZE_OPTION_NAMES } from '../nn/cells.js';

export interface Preset {
  name: string;
  /** What it is, for help. */
  summary: string;
  /** Option name -> text, as if given on the command line. */
  values: Readonly<Record<string, string>>;
}

const RECIPE = { batch: '128', bptt: '20', sampled: '8192', dropout: '0.1', optimizer: 'adagrad', lr: '0.2', clip: '1', ema: '0.999' };
const PAPER_SIZES = { layers: '2', hidden: '8192', proj: '1024', emb: '1024' };

/** A preset's options in the order help shows them: the cell, the sizes, the recipe. */
function preset(
  name: string,
  summary: string,
  cell: Record<string, string>,
  sizes = PAPER_SIZES,
  recipe: Record<string, string> = {},
): Preset {
  return { name, summary, values: { ...cell, ...sizes, ...RECIPE, ...recipe } };
}

const paperGlstm = (k: number): Preset =>
  preset(`g${k}`, `the paper's G-LSTM, ${k} groups (2x8192/1024)`, { cell: 'glstm', groups: String(k) });

export const PRESETS: readonly Preset[] = [
  preset('biglstm', "the paper's BIGLSTM baseline: LSTMP 2x8192/1024, embedding 1024", { cell: 'lstm' }),
  preset('f512', "the paper's F-LSTM, factor 512 (2x8192/1024)", { cell: 'flstm', factor: '512' }),
  paperGlstm(2),
  paperGlstm(4),
  paperGlstm(8),
  paperGlstm(16),
  preset(
    'lstm2048',
    "f-lm's LSTM-2048-512 on two layers, one GPU's size: 2x2048/512, embedding 512",
    { cell: 'lstm' },
    { layers: '2', hidden: '2048', proj: '512', emb: '512' },
  ),
  preset(
    'mini',
    "the recipe at a software driver's size: 2x1024/256, embedding 256, batch 32, 8192 samples",
    { cell: 'lstm' },
    { layers: '2', hidden: '1024', proj: '256', emb: '256' },
    { batch: '32' },
  ),
];

const NAMES = PRESETS.map((p) => p.name);

export const PRESET = {
  name: 'preset',
  value: 'NAME',
  help: `a named configuration: ${NAMES.join(', ')} (the options it sets are listed by \`flstm params --preset NAME\`; options given override it)`,
  reader: choice(NAMES, `one of ${NAMES.join(', ')}`),
} satisfies OptionDecl<string>;

/**
 * The options with --preset expanded: the preset's values under those given. Another --cell
 * than the preset's comes without the preset's factor or groups.
 */
export function withPreset(values: Values, cmd: string): Values {
  const name = readOption(values, cmd, PRESET);
  if (name === undefined) return values;
  const base: Values = { ...PRESETS.find((p) => p.name === name)!.values };
  if (values.cell !== undefined && values.cell !== base.cell) for (const name of SIZE_OPTION_NAMES) delete base[name];
  const given = Object.fromEntries(Object.entries(values).filter(([k, v]) => k !== 'preset' && v !== undefined));
  return { ...base, ...given };
}
