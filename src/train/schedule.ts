// The validation schedule: what a validation result changes. The best result so far is kept
// (its checkpoint is the run's best); without improvement the learning rate may decay (a
// plateau) and training may stop early. Pure functions of the state, so a resumed run,
// which restores the state from its checkpoint, decides as the uninterrupted run would.
import type { ScheduleState, ValidationConfig } from './config.js';

export interface ValidationOutcome {
  state: ScheduleState;
  /** This validation is the best so far (its checkpoint replaces the best one). */
  improved: boolean;
  /** The learning rate changed (a plateau with lrDecay set). */
  lrDecayed: boolean;
  /** Stop training: `patience` validations in a row without improvement. */
  stop: boolean;
}

export function initialSchedule(lr: number): ScheduleState {
  return { lr, sinceBest: 0 };
}

/** The schedule after a validation of loss `loss` at `step`. */
export function afterValidation(
  s: ScheduleState,
  loss: number,
  step: number,
  v: Pick<ValidationConfig, 'patience' | 'lrDecay'>,
): ValidationOutcome {
  const improved = Number.isFinite(loss) && (s.best === undefined || loss < s.best.loss);
  if (improved) return { state: { ...s, best: { loss, step }, sinceBest: 0 }, improved, lrDecayed: false, stop: false };
  const sinceBest = s.sinceBest + 1;
  const lrDecayed = v.lrDecay !== undefined && v.lrDecay !== 1;
  const lr = lrDecayed ? s.lr * v.lrDecay! : s.lr;
  const stop = v.patience !== undefined && sinceBest >= v.patience;
  return { state: { ...s, lr, sinceBest }, improved, lrDecayed, stop };
}

/** Checks a validation configuration; one message names the field and what it takes. */
export function checkValidationConfig(v: ValidationConfig): void {
  const bad = (what: string): never => {
    throw new Error(`flstm: validation: ${what}`);
  };
  if (!Number.isSafeInteger(v.every) || v.every < 1) bad(`every (--eval-every) must be a positive integer, got ${v.every}`);
  if (v.tokens !== undefined && (!Number.isSafeInteger(v.tokens) || v.tokens < 1))
    bad(`tokens (--eval-tokens) must be a positive integer, got ${v.tokens}`);
  if (v.patience !== undefined && (!Number.isSafeInteger(v.patience) || v.patience < 1))
    bad(`patience (--patience) must be a positive integer, got ${v.patience}`);
  if (v.lrDecay !== undefined && !(v.lrDecay > 0 && v.lrDecay <= 1))
    bad(`lrDecay (--lr-decay) must be a number in (0, 1], got ${v.lrDecay}`);
}
