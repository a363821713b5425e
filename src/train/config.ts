// What a training run is made of, as the checkpoint stores it: the model, the corpus and the
// recipe (TrainConfig, declared in train_config.ts below the options that parse it), and the
// position of the run (CheckpointConfig). Pure: the page and the CLI share these types; the
// flag of each field comes from options/train.ts.

import { averageScheduleOf, OPTION_NAMES } from '../options/train.js';
import type { TrainConfig } from './train_config.js';
import type { CorpusIdentity } from '../data/identity.js';

export type { AverageSchedule, ModelConfig, TrainConfig, ValidationConfig } from './train_config.js';
export { averageScheduleOf };

/** Which weights a validation or evaluation ran on: the LSTM's moving averages or the trained ones. */
export type WeightsUsed = 'average' | 'trained';

/** The state of the validation schedule, saved in the checkpoint so a resume continues it. */
export interface ScheduleState {
  /** The learning rate in use (the configured one, decayed on plateaus). */
  lr: number;
  /** The lowest validation loss so far and its step. */
  best?: { loss: number; step: number };
  /** Validations since the best one. */
  sinceBest: number;
  /**
   * The validation whose weights the best checkpoint holds: the lowest loss measured, the
   * run's final validations included (`best` leaves those out: they decide nothing).
   */
  kept?: { loss: number; step: number };
}

/** What config.json of a checkpoint holds. */
export interface CheckpointConfig {
  format: 'flstm-lm/1';
  train: TrainConfig;
  vocabSize: number;
  step: number;
  epoch: number;
  batchIndex: number;
  /** Shapes of the carried state tensors, stored in the model file under state.* names. */
  stateLayers: number;
  /** Seconds of training up to this checkpoint (across resumes; evaluation and saving excluded). */
  seconds?: number;
  /** Seconds of evaluation and saving up to this checkpoint (across resumes). */
  otherSeconds?: number;
  schedule?: ScheduleState;
  /**
   * The processes that trained it together (data-parallel; absent: 1): each trained
   * train.batch streams, so the global batch and the carried state have world x batch streams.
   */
  world?: number;
  /**
   * What identifies the corpus's files (absolute paths, sizes, hashes): a resume or eval finds
   * them from any folder, and accepts them by another path only when they are the same.
   */
  corpus?: CorpusIdentity;
}

/** The loadCorpus options of a training configuration. */
export function corpusOptions(c: TrainConfig): { maxVocab?: number; minCount?: number; vocabFile?: string } {
  return { maxVocab: c.maxVocab, minCount: c.minCount, vocabFile: c.vocabFile };
}

/**
 * Fields a resumed run may change: the learning rate and the validation cadence. Everything
 * else shapes the model, the data or the random choices of a step, which a resume continues.
 */
export const CHANGEABLE_ON_RESUME: ReadonlySet<string> = new Set(['lr', 'validation']);

function flatten(c: TrainConfig): Map<string, string> {
  const m = new Map<string, string>();
  // A configuration from before emaSchedule averaged with the fixed decay: it says so explicitly here.
  for (const [k, v] of Object.entries({ ...c, emaSchedule: averageScheduleOf(c) })) {
    if (v === undefined) continue;
    if ((k === 'model' || k === 'validation') && v && typeof v === 'object') {
      for (const [mk, mv] of Object.entries(v)) if (mv !== undefined) m.set(`${k}.${mk}`, JSON.stringify(mv));
    } else m.set(k, JSON.stringify(v));
  }
  return m;
}

/**
 * The options that differ between two configurations, as "--lr 0.2 in the checkpoint, 0.5 now".
 * `ignore` leaves out top-level fields (e.g. CHANGEABLE_ON_RESUME).
 */
export function configDifferences(
  saved: TrainConfig,
  now: TrainConfig,
  ignore: ReadonlySet<string> = new Set(),
  labels: [string, string] = ['in the checkpoint', 'now'],
): string[] {
  const a = flatten(saved);
  const b = flatten(now);
  const out: string[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    if (a.get(k) === b.get(k) || ignore.has(k.split('.')[0])) continue;
    out.push(`${OPTION_NAMES[k] ?? k} ${a.get(k) ?? '(not set)'} ${labels[0]}, ${b.get(k) ?? '(not set)'} ${labels[1]}`);
  }
  return out;
}
