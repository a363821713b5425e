// `flstm compare`: the paper's comparison as one command. Several cells train on the same
// corpus with the same options and budget (equal steps or equal training time), each in a run
// folder of its own; each is then evaluated on the validation and test splits (its best
// checkpoint when it validated during training; compare_final.ts: the whole splits, or their
// first --final-tokens) and the table of the paper's Table 1 is printed below a line that says
// which tokens were scored: cell, parameters, RNN parameters, steps, words/s, perplexities,
// wall time. The rows go to OUT/compare.json as each cell finishes (an interrupted compare
// keeps them; --resume continues the rest) and OUT/compare.svg overlays every run's validation
// perplexity against time.
import { access, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as training from '../train/index.js';
import { writeFileAtomic } from '../train/checkpoint.js';
import { formatCount, formatDuration } from '../train/metrics.js';
import { writeSvg } from '../train/chart.js';
import { renderOverlayChart } from '../train/overlay_chart.js';
import { DEVICE_OPTIONS, UsageError, type Values } from './args.js';
import { readOption, text } from '../options/declare.js';
import { LAYERS } from '../options/train.js';
import { CELL_KINDS, cellSpec, cellSpellings, orList, SIZE_OPTIONS, SIZE_OPTION_NAMES, type CellKind } from '../nn/cells.js';
import { initFrom, withStopSignals, type Command, type StopSignal } from './command.js';
import { evaluateFinal, FINAL_TOKENS, finalTokensFor, scoredText, type FinalTokens, type Scored } from './compare_final.js';
import { readRuns } from './chart.js';
import { launcherFromEnv } from '../distributed/world.js';
import { cadenceFrom, runConfig, settlePrecision } from './train.js';
import { limitsFrom, MODEL_OPTIONS, OUT, RECIPE_OPTIONS, RUN_OPTIONS, trainConfigFrom, VALIDATION_OPTIONS } from './train_options.js';
import { TrainPrinter, weightsText } from './train_printer.js';

export const DEFAULT_CELLS = 'lstm,flstm:64,glstm:2,glstm:4';
/** Validation during training, for the curves, unless the options say otherwise. */
const DEFAULT_EVAL_EVERY = '250';
const DEFAULT_EVAL_TOKENS = '20000';
const FORMAT = 'flstm-compare/1';
const CELLS = {
  name: 'cells',
  value: 'LIST',
  help: `the cells: ${CELL_KINDS.flatMap(cellSpellings).join(', ')}, comma-separated`,
  reader: text('a list of cells'),
  default: DEFAULT_CELLS,
};

export interface CellSpec {
  /** As given: lstm, flstm:64, glstm:4, glstm:2+4. */
  spec: string;
  /** As the table shows it: LSTM, F-LSTM r=64, G-LSTM k=4. */
  label: string;
  /** The run folder's name inside the compare folder. */
  dir: string;
  /** The options that make the cell: --cell, --factor, --groups. */
  values: Values;
}

/** One cell of --cells, as its entry in src/nn/cells.ts spells it. */
function parseCell(spec: string): CellSpec {
  const m = new RegExp(`^(${CELL_KINDS.join('|')})(?::(\\d+(?:\\+\\d+)*))?$`).exec(spec);
  if (!m) throw new UsageError(`flstm compare: --cells: '${spec}' is not a cell (${orList(CELL_KINDS.flatMap(cellSpellings))})`);
  const cell = m[1] as CellKind;
  const arg = m[2];
  const { label, size } = cellSpec(cell);
  if (!size) {
    const sized = CELL_KINDS.filter((c) => cellSpec(c).size).map((c) => cellSpellings(c)[0]);
    if (arg !== undefined) throw new UsageError(`flstm compare: --cells: '${spec}': ${cell} takes no size (${sized.join(', ')} do)`);
    return { spec, label, dir: cell, values: { cell } };
  }
  const option = SIZE_OPTIONS[size];
  if (arg === undefined)
    throw new UsageError(`flstm compare: --cells: '${spec}' needs its size: ${cellSpellings(cell)[0]} (${option.noun})`);
  if (arg.split('+').some((n) => Number(n) < 1))
    throw new UsageError(`flstm compare: --cells: '${spec}': ${option.each} must be a positive integer`);
  if (!option.perLayer && arg.includes('+')) throw new UsageError(`flstm compare: --cells: '${spec}': ${cell} takes one ${option.named}`);
  const value = arg.replace(/\+/g, ',');
  return { spec, label: `${label} ${option.symbol}=${value}`, dir: `${cell}-${arg}`, values: { cell, [size]: value } };
}

/** Parses --cells: lstm, flstm:R, glstm:K or glstm:K1+K2 (one group count per layer), comma-separated. */
export function parseCells(raw: string): CellSpec[] {
  const specs = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (specs.length === 0) throw new UsageError('flstm compare: --cells needs at least one cell (e.g. lstm,flstm:64,glstm:4)');
  const cells = specs.map(parseCell);
  const seen = new Set<string>();
  for (const c of cells) {
    if (seen.has(c.dir)) throw new UsageError(`flstm compare: --cells names ${c.spec} twice`);
    seen.add(c.dir);
  }
  return cells;
}

/** A cell's --groups: one count for every layer, or one per layer. */
function checkGroupCounts(cell: CellSpec, layers: number): void {
  const ks = String(cell.values.groups ?? '').split(',');
  if (cell.values.groups === undefined || ks.length === 1 || ks.length === layers) return;
  throw new UsageError(
    `flstm compare: --cells: '${cell.spec}' gives ${ks.length} group counts for ${layers} layers (--layers ${layers}): ` +
      `give one for every layer (glstm:K) or one per layer (glstm:${Array.from({ length: layers }, (_, i) => `K${i + 1}`).join('+')})`,
  );
}

/** An error of a cell's own sizes in the words of --cells: the user typed glstm:3, not --groups 3. */
function inCellsWords(err: unknown, cell: CellSpec): unknown {
  if (!(err instanceof UsageError)) return err;
  const said = err.message.replace(/^flstm compare: /, '');
  const own = new RegExp(`^--(?:${SIZE_OPTION_NAMES.join('|')}) \\S+ ([^]*)$`).exec(said);
  return new UsageError(`flstm compare: --cells: '${cell.spec}' ${own ? own[1] : `does not fit the other options: ${said}`}`);
}

/**
 * Every cell's options, checked before anything trains: the shared ones first (an error there
 * speaks of the options as given), then each cell's own sizes against them.
 */
function checkCells(plan: CompareFile, cells: readonly CellSpec[]): void {
  const lstm = parseCells('lstm')[0]!;
  trainConfigFrom(cellValues(plan, lstm), 'compare');
  for (const cell of cells) {
    checkGroupCounts(cell, readOption(plan.options, 'compare', LAYERS));
    try {
      trainConfigFrom(cellValues(plan, cell), 'compare');
    } catch (err) {
      throw inCellsWords(err, cell);
    }
  }
}

export interface Budget {
  steps?: number;
  seconds?: number;
}

export interface CompareRow extends Scored {
  cell: string;
  label: string;
  run: string;
  params: number;
  rnnParams: number;
  steps: number;
  wordsPerSec: number;
  /** Perplexities of the checkpoint named by `evaluated` (its best, else its last) on the tokens `Scored` says. */
  validPpl: number;
  testPpl?: number;
  evaluated: 'best' | 'last';
  evaluatedStep: number;
  /** The weights it was evaluated with: the LSTM's moving averages (--ema) or the trained ones (absent in older files). */
  weights?: training.WeightsUsed;
  trainSeconds: number;
  /** Training, validation during training, saving and the final evaluation. */
  wallSeconds: number;
  stopReason: string;
  budget: Budget;
}

interface CompareFile {
  format: typeof FORMAT;
  cells: string;
  /** The training options every cell shares, as given (budget and cadences included). */
  options: Values;
  rows: CompareRow[];
}

/**
 * Options that do not shape the comparison: budget, final evaluation and cadence (a resume must
 * keep the others). A finished row of another budget or --final-tokens is done again: its cell
 * trains on to the budget (nothing, when it is there) and is evaluated anew.
 */
const RUN_ONLY = new Set(['steps', 'time', 'final-tokens', 'log-every', 'save-every', 'out', 'resume', 'json', 'adapter', 'help']);

function sharedOptions(values: Values): Values {
  const out: Values = {};
  for (const [k, v] of Object.entries(values))
    if (v !== undefined && k !== 'cells' && !['out', 'resume', 'json', 'adapter', 'help'].includes(k)) out[k] = v;
  return out;
}

function budgetOf(values: Values): Budget {
  const { steps, seconds } = limitsFrom(values, 'compare');
  return { ...(steps !== undefined ? { steps } : {}), ...(seconds !== undefined ? { seconds } : {}) };
}

const sameBudget = (a: Budget, b: Budget) => a.steps === b.steps && a.seconds === b.seconds;

async function readCompareFile(file: string): Promise<CompareFile | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  let f: CompareFile;
  try {
    f = JSON.parse(text) as CompareFile;
  } catch (e) {
    throw new Error(`flstm compare: ${file} is not valid JSON (${(e as Error).message})`);
  }
  if (f?.format !== FORMAT || typeof f.cells !== 'string' || !Array.isArray(f.rows) || typeof f.options !== 'object') {
    throw new Error(`flstm compare: ${file} is not a compare file (no "format": "${FORMAT}" with cells, options and rows)`);
  }
  return f;
}

/** The comparison to run: the options given, or with --resume the saved ones overlaid by them. */
async function comparePlan(values: Values, file: string): Promise<CompareFile> {
  const saved = await readCompareFile(file);
  if (!values.resume) {
    if (saved)
      throw new Error(`flstm compare: ${file} already holds a comparison: --resume continues it; to start afresh give another --out`);
    return { format: FORMAT, cells: readOption(values, 'compare', CELLS), options: sharedOptions(values), rows: [] };
  }
  if (!saved) throw new Error(`flstm compare: --resume: no comparison in ${file}`);
  const given = sharedOptions(values);
  const diffs = Object.keys({ ...saved.options, ...given })
    .filter((k) => !RUN_ONLY.has(k) && k in given && given[k] !== saved.options[k])
    .map((k) => `--${k} ${saved.options[k] ?? '(not set)'} before, ${given[k]} now`);
  if (values.cells !== undefined && values.cells !== saved.cells) diffs.push(`--cells ${saved.cells} before, ${values.cells} now`);
  if (diffs.length) throw new Error(`flstm compare: --resume: the options differ from the comparison's (${file}): ${diffs.join('; ')}`);
  return { ...saved, options: { ...saved.options, ...given } };
}

/** The options one cell trains with: the shared ones, its cell, and validation for the curves. */
function cellValues(plan: CompareFile, cell: CellSpec): Values {
  const v: Values = { ...plan.options, ...cell.values };
  v['eval-every'] ??= DEFAULT_EVAL_EVERY;
  v['eval-tokens'] ??= DEFAULT_EVAL_TOKENS;
  return v;
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

/** Trains (or continues) one cell to the budget and evaluates it; null when a signal stopped it. */
async function runCell(
  plan: CompareFile,
  cell: CellSpec,
  outDir: string,
  budget: Budget,
  finalTokens: FinalTokens,
  json: boolean,
  stop: StopSignal,
): Promise<CompareRow | null> {
  const values = cellValues(plan, cell);
  const runDir = join(outDir, cell.dir);
  const resume = await exists(join(runDir, 'checkpoint', 'config.json'));
  const cfg = await runConfig({ ...values, resume }, runDir, 'compare');
  settlePrecision(cfg, { ...values, resume }, 'compare');
  const printer = new TrainPrinter({ json: false, quiet: json, prefix: `[${cell.label}] `, what: `${cell.label} on ${cfg.data}` });
  let params = 0;
  let rnnParams = 0;
  const summary = await training.train(cfg, {
    out: runDir,
    resume,
    steps: budget.steps,
    totalSeconds: budget.seconds,
    ...cadenceFrom(values, 'compare'),
    sampledIsDefault: values.sampled === undefined,
    stopRequested: stop.requested,
    onLog: (e) => {
      if (e.type === 'start') ({ params, rnnParams } = e);
      printer.event(e);
    },
  });
  printer.close();
  if (summary.stopReason === 'interrupted') return null;
  const ck = await training.readCheckpointConfig<training.CheckpointConfig>(join(runDir, 'checkpoint'));
  const ev = summary.stopReason === 'non-finite loss' ? null : await evaluateFinal(runDir, finalTokens, printer, stop);
  if (summary.stopReason !== 'non-finite loss' && !ev) return null;
  const trainSeconds = ck?.seconds ?? summary.totalTrainSeconds;
  return {
    cell: cell.spec,
    label: cell.label,
    run: runDir,
    params,
    rnnParams,
    steps: summary.step,
    wordsPerSec: (summary.step * cfg.batch * cfg.bptt) / Math.max(trainSeconds, 1e-9),
    validPpl: ev?.ppl.valid ?? NaN,
    ...(ev?.ppl.test !== undefined ? { testPpl: ev.ppl.test } : {}),
    finalTokens,
    ...(ev?.validTokens !== undefined ? { validTokens: ev.validTokens } : {}),
    ...(ev?.testTokens !== undefined ? { testTokens: ev.testTokens } : {}),
    evaluated: ev?.which ?? 'last',
    evaluatedStep: ev?.step ?? summary.step,
    ...(ev ? { weights: ev.weights } : {}),
    trainSeconds,
    wallSeconds: trainSeconds + (ck?.otherSeconds ?? summary.evalSeconds) + (ev?.seconds ?? 0),
    stopReason: summary.stopReason,
    budget,
  };
}

const fmtM = (n: number) => `${(n / 1e6).toFixed(2)}M`;
const fmtPpl = (v: number | undefined) => (v === undefined ? '-' : Number.isFinite(v) ? v.toFixed(1) : 'diverged');

/** The table: one row per cell, the paper's Table 1 columns. */
export function formatTable(rows: readonly CompareRow[]): string {
  const head = ['cell', 'params', 'RNN params', 'steps', 'words/s', 'valid ppl', 'test ppl', 'wall time', 'evaluated'];
  const body = rows.map((r) => [
    r.label,
    fmtM(r.params),
    fmtM(r.rnnParams),
    formatCount(r.steps),
    formatCount(r.wordsPerSec),
    fmtPpl(r.validPpl),
    fmtPpl(r.testPpl),
    formatDuration(r.wallSeconds),
    `${r.evaluated} (step ${formatCount(r.evaluatedStep)}${r.weights ? `, ${r.weights === 'average' ? 'moving average' : 'trained weights'}` : ''})`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...body.map(line)].join('\n');
}

/** Which tokens the table's perplexities scored: one line when every row scored the same, else a line per row. */
function scoredHeader(rows: readonly CompareRow[]): string {
  const evaluated = rows.filter((r) => r.validTokens !== undefined || r.finalTokens === undefined); // not a diverged run
  const texts = [...new Set(evaluated.map(scoredText))];
  if (texts.length === 0) return '';
  if (texts.length === 1) return `perplexities of ${texts[0]}:\n`;
  return `perplexities of:\n${evaluated.map((r) => `  ${r.label}: ${scoredText(r)}`).join('\n')}\n`;
}

async function saveResults(outDir: string, plan: CompareFile, title: string): Promise<void> {
  await writeFileAtomic(
    join(outDir, 'compare.json'),
    `${JSON.stringify(plan, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`,
  );
  const cells = parseCells(plan.cells).filter((c) => plan.rows.some((r) => r.cell === c.spec));
  const runs = await readRuns(
    cells.map((c) => join(outDir, c.dir)),
    cells.map((c) => c.label),
  );
  await writeSvg(join(outDir, 'compare.svg'), renderOverlayChart(runs, { x: 'time', title }));
}

async function defaultCompareFolder(resume: boolean): Promise<string> {
  if (resume || !(await exists('runs/compare/compare.json'))) return 'runs/compare';
  for (let i = 2; ; i++) if (!(await exists(`runs/compare-${i}/compare.json`))) return `runs/compare-${i}`;
}

export const compareCommand: Command = {
  name: 'compare',
  gpu: true,
  summary: "train several cells with the same options and budget and print the paper's Table 1 (parameters, words/s, perplexities, time)",
  options: [
    CELLS,
    ...MODEL_OPTIONS.filter((o) => !['cell', 'factor', 'groups'].includes(o.name)),
    ...RECIPE_OPTIONS,
    ...RUN_OPTIONS.map((o) =>
      o.name === 'steps'
        ? { ...o, help: 'equal steps: train each cell until step N' }
        : o.name === 'time'
          ? { ...o, help: 'equal time: train each cell this long (training only, across resumes): 90s, 10m, 2h' }
          : o.name === 'out'
            ? {
                ...o,
                help: 'the comparison folder: one run folder per cell, compare.json, compare.svg',
                defaultText: 'runs/compare, or runs/compare-2... when taken',
              }
            : o.name === 'resume'
              ? { ...o, help: 'continue the comparison in --out: finished rows are kept, the other cells resume' }
              : o,
    ),
    ...VALIDATION_OPTIONS.filter((o) => o.name !== 'best').map((o) =>
      o.name === 'eval-every'
        ? { ...o, help: 'validate every N steps for the curves and the best checkpoint', defaultText: DEFAULT_EVAL_EVERY }
        : o.name === 'eval-tokens'
          ? {
              ...o,
              help: "tokens of each validation during training, which chooses the best checkpoint (the table's: --final-tokens)",
              defaultText: DEFAULT_EVAL_TOKENS,
            }
          : o,
    ),
    FINAL_TOKENS,
    ...DEVICE_OPTIONS.map((o) => (o.name === 'json' ? { ...o, help: 'print one JSON line per cell (its row), nothing else' } : o)),
  ],
  async run(values) {
    // Each rank would run a comparison of its own into the same folder.
    const launched = launcherFromEnv(process.env);
    if (launched && launched.size > 1)
      throw new UsageError(
        `flstm compare: runs on one process, and ${launched.name} started ${launched.size}: run it without the launcher (flstm train trains on several)`,
      );
    const outDir = readOption(values, 'compare', OUT) ?? (await defaultCompareFolder(!!values.resume));
    const file = join(outDir, 'compare.json');
    const plan = await comparePlan(values, file);
    const cells = parseCells(plan.cells);
    const budget = budgetOf(plan.options);
    const finalTokens = finalTokensFor(plan.options, budget);
    checkCells(plan, cells);
    // The cadences are read per cell later: checked now, before anything trains.
    for (const c of cells) cadenceFrom(cellValues(plan, c), 'compare');
    const json = !!values.json;
    await initFrom(values);
    await mkdir(outDir, { recursive: true });
    const budgetText = budget.steps !== undefined ? `${formatCount(budget.steps)} steps` : `${formatDuration(budget.seconds!)} of training`;
    const title = `flstm compare on ${plan.options.data ?? 'brown'}: ${budgetText} each`;
    // A row of another budget or final evaluation is done again (rows written before --final-tokens scored the whole splits).
    plan.rows = plan.rows.filter(
      (r) => cells.some((c) => c.spec === r.cell) && sameBudget(r.budget, budget) && (r.finalTokens ?? 'all') === finalTokens,
    );
    await saveResults(outDir, plan, title);
    if (json) for (const row of plan.rows) console.log(JSON.stringify(row)); // finished before: the lines their run printed
    await withStopSignals(
      (signal) => {
        if (!json)
          console.error(
            `\nflstm compare: ${signal === 'SIGINT' ? 'interrupted' : signal}; saving the current run (Ctrl-C again to quit at once)`,
          );
      },
      async (stop) => {
        for (const cell of cells) {
          if (plan.rows.some((r) => r.cell === cell.spec)) continue;
          if (!json) console.log(`flstm compare: ${cell.label}, ${budgetText}, in ${join(outDir, cell.dir)}`);
          const row = await runCell(plan, cell, outDir, budget, finalTokens, json, stop);
          if (!row) {
            process.exitCode = stop.exitCode() || 130;
            console.error(
              `flstm compare: stopped during ${cell.label}; ${plan.rows.length} finished row${plan.rows.length === 1 ? '' : 's'} kept in ${file}; --resume --out ${outDir} continues`,
            );
            return;
          }
          plan.rows.push(row);
          plan.rows.sort((a, b) => cells.findIndex((c) => c.spec === a.cell) - cells.findIndex((c) => c.spec === b.cell));
          await saveResults(outDir, plan, title);
          if (json) console.log(JSON.stringify(row));
          else
            console.log(
              `flstm compare: ${row.label}: valid perplexity ${fmtPpl(row.validPpl)}, test ${fmtPpl(row.testPpl)}, ${formatCount(row.wordsPerSec)} words/s`,
            );
        }
        if (!json) console.log(`\n${scoredHeader(plan.rows)}${formatTable(plan.rows)}\n\nwrote ${file} and ${join(outDir, 'compare.svg')}`);
      },
    );
  },
};
