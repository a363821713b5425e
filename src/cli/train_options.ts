// The options of `flstm train` (and of `flstm compare`, which trains with them): the model,
// the corpus and the recipe (declared in options/train.ts) become a TrainConfig; the run's
// limits and cadences, declared here, become TrainOptions. With --resume the checkpoint's
// configuration supplies every option not given, so `--resume --out DIR` alone continues the run.
import * as training from '../train/index.js';
import { DEFAULT_LOG_EVERY, DEFAULT_SAVE_EVERY } from '../train/trainer.js';
import { info, init } from '../engine.js';
import { choice, duration, positiveInt, readOption, text, type OptionDecl, type Values } from '../options/declare.js';
import { DISTRIBUTED_MODES, type DistributedMode } from '../distributed/world.js';
import { ALLREDUCE_PRECISIONS, type AllReducePrecision } from '../distributed/data_parallel.js';
import { PRECISION, valuesFromConfig } from '../options/train.js';
import { SIZE_OPTION_NAMES } from '../nn/cells.js';

export {
  MODEL_OPTIONS,
  RECIPE_OPTIONS,
  VALIDATION_OPTIONS,
  stackFromOptions,
  trainConfigFrom,
  valuesFromConfig,
} from '../options/train.js';

export const STEPS = {
  name: 'steps',
  value: 'N',
  help: 'train until step N (counting steps before a resume)',
  reader: positiveInt,
} satisfies OptionDecl<number>;
export const TIME = {
  name: 'time',
  value: 'LIMIT',
  help: 'train for this long, evaluation and saving not counted: 90s, 10m, 2h',
  defaultText: '5m when --steps is not given',
  reader: duration,
} satisfies OptionDecl<number>;
export const OUT = {
  name: 'out',
  value: 'DIR',
  help: 'run folder: checkpoint, metrics.jsonl, chart.svg',
  defaultText: 'runs/train, or runs/train-2... when taken',
  reader: text('a folder'),
} satisfies OptionDecl<string>;
export const RESUME = {
  name: 'resume',
  help: "continue the run in --out from its checkpoint; options not given are the checkpoint's",
} satisfies OptionDecl<boolean>;
export const LOG_EVERY = {
  name: 'log-every',
  value: 'N',
  help: 'steps between progress lines',
  defaultText: String(DEFAULT_LOG_EVERY),
  reader: positiveInt,
} satisfies OptionDecl<number>;
export const SAVE_EVERY = {
  name: 'save-every',
  value: 'N',
  help: 'steps between checkpoints',
  defaultText: String(DEFAULT_SAVE_EVERY),
  reader: positiveInt,
} satisfies OptionDecl<number>;

export const RUN_OPTIONS: OptionDecl<any>[] = [STEPS, TIME, OUT, RESUME, LOG_EVERY, SAVE_EVERY];

export const DISTRIBUTED = {
  name: 'distributed',
  value: 'MODE',
  reader: choice(DISTRIBUTED_MODES),
  default: 'auto' as DistributedMode,
  help: 'auto: train on every process an MPI launcher started (mpirun -np N, srun), each with --batch streams; mpi: the same, and an error outside a launcher; none: this process alone',
} satisfies OptionDecl<DistributedMode>;

export const ALLREDUCE = {
  name: 'allreduce',
  value: 'PRECISION',
  reader: choice(ALLREDUCE_PRECISIONS),
  default: 'f32' as AllReducePrecision,
  help: "the precision a distributed run's LSTM gradients are summed in over the ranks: f32, or f16 (half the bytes; needs shader-f16)",
} satisfies OptionDecl<AllReducePrecision>;

/**
 * The options of a resumed run: the checkpoint's, overlaid by those given. A given option
 * that contradicts the checkpoint is refused later, by the trainer, naming each one.
 */
export async function resumeValues(values: Values, ckDir: string, processes = 1): Promise<Values> {
  const saved = await training.readCheckpointConfig<{ train?: training.TrainConfig; world?: number }>(ckDir);
  if (!saved?.train?.model) return values; // no checkpoint: the trainer says so
  const base = valuesFromConfig(saved.train);
  // Another number of processes keeps the global batch: --batch, per process, follows.
  const global = saved.train.batch * (saved.world ?? 1);
  if (global % processes === 0) base.batch = String(global / processes);
  // --precision auto means "the checkpoint's" on a resume; another --cell comes without the
  // saved cell's factor or groups (the differences are then named, not a usage error).
  const given = { ...values };
  if (given.precision === 'auto') delete given.precision;
  if (given.cell !== undefined && given.cell !== base.cell) for (const name of SIZE_OPTION_NAMES) delete base[name];
  return { ...base, ...given };
}

/**
 * The precision a new run trains with; the configuration names it only when it is f16. auto:
 * f16 where the adapter has shader-f16, else f32. Needs init().
 */
export function resolvePrecision(cfg: training.TrainConfig, values: Values, cmd: string): void {
  if (readOption(values, cmd, PRECISION) === 'auto' && info().features.includes('shader-f16')) cfg.model.precision = 'f16';
}

/** The run's limits: --steps and/or --time (default 5 minutes when neither is given). */
export function limitsFrom(values: Values, cmd: string): { steps?: number; seconds?: number } {
  const steps = readOption(values, cmd, STEPS);
  let seconds = readOption(values, cmd, TIME);
  if (steps === undefined && seconds === undefined) seconds = 300;
  return { steps, seconds };
}
