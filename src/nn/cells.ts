// The cells, one entry each: what the rest of flstm knows about a cell is read from CELLS
// (parameter counts, the layer's weights and their initialization, the checkpoint's tensors,
// the memory plan, the options and their messages, `flstm compare --cells`, the demo page).
// The math of each cell is documented in docs/model.md; the kernels run one of two gate
// products, 'grouped' (an LSTM is one group) or 'factored' (src/ops/lstm_plan.ts).
//
// Adding a cell:
// 1. An entry in CELLS below: its label and summary, the size option it takes (one of
//    SIZE_OPTIONS, or none), its gate matrices' shapes, the gate product it runs and any check
//    of its sizes beyond the option's own. The compiler then accepts the name everywhere
//    (`--cell NAME`, checkpoints, `--cells NAME:R`).
// 2. A gate product the kernels do not run yet: a kind in CellGates and in the plan's
//    GateProduct (src/ops/lstm_plan.ts), its forward in src/ops/lstm_forward.ts, its backward
//    in src/ops/lstm_backward.ts, new weight names in LstmWeights and nn.LSTM; and the cell
//    in the float64 reference src/ref/lstm.ts with cases in src/selfcheck/lstm_cases.ts (the
//    GPU's check, written apart from this table so that it checks it).
// 3. A size option that is not in SIZE_OPTIONS yet: an entry there, its field in LayerSizes
//    and ModelSizes (src/nn/sizes.ts), its declaration and reader in src/options/train.ts
//    (SIZE_OPTION_READERS) and its words on the page (src/web/app.ts, SIZES in session.ts);
//    the compiler lists each of these once the entry exists.
// Pure: no tensors, no GPU (`flstm params` counts before any device exists).
import { lstmOutputSize, type LayerSizes } from './layer_sizes.js';

/** The options that size a cell beyond n and p, and how messages and `--cells` spell them. */
export const SIZE_OPTIONS = {
  factor: {
    /** The symbol of the value in messages and tables (r = 64). */
    symbol: 'r',
    /** What `--cells` writes for the value (flstm:R). */
    placeholder: 'R',
    /** The value, named where a cell lacks it. */
    named: 'factor r',
    /** What a cell's `--cells` spelling lacks without the value. */
    noun: 'the factor',
    /** What each value of a `--cells` spelling must be. */
    each: 'the factor r',
    /** The value given to a cell that takes none. */
    misapplied: (v: unknown) => `a factor (r = ${String(v)}) applies`,
    /** One value per layer is allowed (glstm:2+4). */
    perLayer: false,
  },
  groups: {
    symbol: 'k',
    placeholder: 'K',
    named: 'number of groups k',
    noun: 'the groups',
    each: 'each group count',
    misapplied: (v: unknown) => `groups (k = ${String(v)}) apply`,
    perLayer: true,
  },
} as const;

export type SizeOption = keyof typeof SIZE_OPTIONS;
export const SIZE_OPTION_NAMES = Object.keys(SIZE_OPTIONS) as SizeOption[];

/** How a layer's gates come from [x; h]: the kernels run these two (src/ops/lstm_plan.ts). */
export type CellGates = { kind: 'grouped'; groups: number } | { kind: 'factored'; factor: number };

export interface CellSpec {
  /** As tables and the page name it: LSTM, F-LSTM, G-LSTM. */
  label: string;
  /** As --cell's help lists it. */
  summary: string;
  /** One sentence on what the cell computes (the page's hint). */
  description: string;
  /** The option that sizes the cell beyond n and p (--factor, --groups), if any. */
  size?: SizeOption;
  /** The gate product of a layer of these sizes. */
  gates(s: LayerSizes): CellGates;
  /**
   * The gate matrices of a layer, by name in the order they are registered and initialized
   * (each uniform in 1/sqrt of its rows: its next-to-last size); every cell also has b [4n]
   * and, with a projection, P [n, p].
   */
  weightShapes(s: LayerSizes): [name: string, shape: number[]][];
  /** Checks of the sizes beyond the size option's own (it is a positive integer). */
  checkSizes?(s: LayerSizes & { cell: string }, where: string): void;
}

/** The rows of a layer's gate matrix: [x; h]. */
const gateRows = (s: LayerSizes): number => s.inputSize + lstmOutputSize(s);

/** k groups must split x, h and the cells evenly. */
function checkGroupsDivide(s: LayerSizes & { cell: string }, k: number, where: string): void {
  const p = lstmOutputSize(s);
  const out = s.projSize ? 'projection' : 'output';
  const sizes: [string, number][] = [
    ['input size', s.inputSize],
    [`${out} size`, p],
    ['hidden size', s.hiddenSize],
  ];
  const bad = sizes.filter(([, v]) => v % k !== 0);
  if (bad.length === 0) return;
  throw new Error(
    `flstm: ${where}: ${s.cell} groups k=${k} must divide the layer's input, ${out} and hidden sizes; ` +
      `it does not divide the ${bad.map(([n, v]) => `${n} ${v}`).join(', the ')} ` +
      `(input ${s.inputSize}, ${out} ${p}, hidden ${s.hiddenSize})`,
  );
}

export const CELLS = {
  lstm: {
    label: 'LSTM',
    summary: 'LSTM(P)',
    description: 'The baseline LSTM with a projection (LSTMP): one dense matrix maps [x; h] to the four gates.',
    gates: () => ({ kind: 'grouped', groups: 1 }),
    weightShapes: (s) => [['W', [gateRows(s), 4 * s.hiddenSize]]],
  },
  flstm: {
    label: 'F-LSTM',
    summary: 'factorized F-LSTM',
    description: 'Factorized LSTM: the gate matrix is a product of two thin matrices, W = W₂·W₁ (rank r).',
    size: 'factor',
    gates: (s) => ({ kind: 'factored', factor: s.factor ?? 0 }),
    weightShapes: (s) => [
      ['W1', [gateRows(s), s.factor!]],
      ['W2', [s.factor!, 4 * s.hiddenSize]],
    ],
  },
  glstm: {
    label: 'G-LSTM',
    summary: 'group G-LSTM',
    description: 'Group LSTM: x and h are cut into groups; each group computes the gates of its own cells (block-diagonal W).',
    size: 'groups',
    gates: (s) => ({ kind: 'grouped', groups: s.groups ?? 1 }),
    weightShapes: (s) => [['W', [s.groups!, gateRows(s) / s.groups!, (4 * s.hiddenSize) / s.groups!]]],
    checkSizes: (s, where) => checkGroupsDivide(s, s.groups!, where),
  },
} satisfies Record<string, CellSpec>;

export type CellKind = keyof typeof CELLS;

/** The cells' names, in the table's order (the options list them so). */
export const CELL_KINDS: readonly CellKind[] = Object.keys(CELLS) as CellKind[];

/** The entry of a cell. */
export const cellSpec = (cell: CellKind): CellSpec => (CELLS as Record<CellKind, CellSpec>)[cell];

/** The cells that take a size option ("flstm", or "a or b"). */
export function cellsSizedBy(option: SizeOption): string {
  return orList(CELL_KINDS.filter((c) => cellSpec(c).size === option));
}

/** How `flstm compare --cells` spells a cell: lstm, flstm:R, glstm:K and glstm:K1+K2. */
export function cellSpellings(cell: CellKind): string[] {
  const option = cellSpec(cell).size;
  if (!option) return [cell];
  const { placeholder: v, perLayer } = SIZE_OPTIONS[option];
  return perLayer ? [`${cell}:${v}`, `${cell}:${v}1+${v}2`] : [`${cell}:${v}`];
}

/** "a", "a or b", "a, b or c". */
export function orList(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}
