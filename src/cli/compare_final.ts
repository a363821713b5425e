// The final evaluation of `flstm compare`: each cell's best checkpoint (its last when it kept
// none) scored on the validation and test splits for the table. How many tokens it scores is
// --final-tokens; by default the whole splits when the cells train long enough for that to be
// a small part of the comparison's time, else the first 20,000 tokens of each (on lavapipe at
// the default sizes the whole Brown splits take 3 to 4 minutes a cell, 20,000 tokens of each ~15 s).
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import * as training from '../train/index.js';
import { formatCount } from '../train/metrics.js';
import { positiveInt, readOption, type OptionDecl, type Reader, type Values } from '../options/declare.js';
import { checkpointCorpus } from './evaluate.js';
import type { StopSignal } from './command.js';
import { weightsText, type TrainPrinter } from './train_printer.js';

/** Tokens of each split the table scores: the first N, or all. */
export type FinalTokens = number | 'all';

/** A cell budget at least this large (both limits, when both are given) scores the whole splits by default. */
const WHOLE_SPLITS_FROM = { seconds: 600, steps: 5000 };
/** The default cap of a smaller budget. */
const CAPPED_FINAL_TOKENS = 20_000;

const readFinalTokens: Reader<FinalTokens> = {
  read: (raw) => {
    if (raw.trim() === 'all') return 'all';
    const n = positiveInt.read(raw);
    return typeof n === 'number' ? n : { expected: "a positive integer or 'all'" };
  },
  text: String,
};

export const FINAL_TOKENS = {
  name: 'final-tokens',
  value: 'N|all',
  reader: readFinalTokens,
  help: "tokens of the validation and test splits the table's perplexities score (the first N of each, exactly; all: the whole splits)",
  defaultText: `all when each cell trains ${WHOLE_SPLITS_FROM.seconds / 60} minutes or ${formatCount(WHOLE_SPLITS_FROM.steps)} steps or more, else ${formatCount(CAPPED_FINAL_TOKENS)}`,
} satisfies OptionDecl<FinalTokens>;

/** --final-tokens, or its default for the budget. */
export function finalTokensFor(values: Values, budget: { steps?: number; seconds?: number }): FinalTokens {
  const given = readOption(values, 'compare', FINAL_TOKENS);
  if (given !== undefined) return given;
  const large =
    (budget.steps === undefined || budget.steps >= WHOLE_SPLITS_FROM.steps) &&
    (budget.seconds === undefined || budget.seconds >= WHOLE_SPLITS_FROM.seconds);
  return large ? 'all' : CAPPED_FINAL_TOKENS;
}

/** What a row's perplexities scored. */
export interface Scored {
  finalTokens?: FinalTokens;
  validTokens?: number;
  testTokens?: number;
}

/** "the first 20,000 tokens of the validation and test splits", "the whole validation and test splits (199,968 and 161,152 tokens)". */
export function scoredText(s: Scored): string {
  const counted: [string, number | undefined][] = [
    ['validation', s.validTokens],
    ['test', s.testTokens],
  ];
  const splits = counted.filter((p): p is [string, number] => p[1] !== undefined);
  // Rows written before the counts were kept scored the whole splits.
  if (splits.length === 0 || s.finalTokens === undefined) return 'the whole splits';
  const n = s.finalTokens;
  const whole = (count: number) => n === 'all' || count < n;
  const names = splits.map(([name]) => name).join(' and ');
  const plural = splits.length > 1 ? 's' : '';
  if (splits.every(([, c]) => whole(c)))
    return `the whole ${names} split${plural} (${splits.map(([, c]) => formatCount(c)).join(' and ')} tokens)`;
  if (splits.every(([, c]) => c === n)) return `the first ${formatCount(n as number)} tokens of the ${names} split${plural}`;
  return splits
    .map(([name, c]) => (whole(c) ? `the whole ${name} split (${formatCount(c)} tokens)` : `the first ${formatCount(c)} ${name} tokens`))
    .join(' and ');
}

export interface FinalEvaluation extends Scored {
  which: 'best' | 'last';
  step: number;
  ppl: Partial<Record<'valid' | 'test', number>>;
  seconds: number;
  /** The weights scored: the moving average when the run kept one. */
  weights: training.WeightsUsed;
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

/** The perplexities of a run's best checkpoint (its last when it kept none); null when a signal stopped it. */
export async function evaluateFinal(
  runDir: string,
  finalTokens: FinalTokens,
  printer: TrainPrinter,
  stop: StopSignal,
): Promise<FinalEvaluation | null> {
  const best = join(runDir, 'best');
  const which: 'best' | 'last' = (await exists(join(best, 'config.json'))) ? 'best' : 'last';
  const asked =
    finalTokens === 'all'
      ? 'the whole validation and test splits'
      : `the first ${formatCount(finalTokens)} tokens of the validation and test splits`;
  // Loading the checkpoint and the corpus takes seconds: said before, not after.
  printer.out(`final evaluation: the ${which} checkpoint on ${asked}`);
  const loaded = await training.loadModel(which === 'best' ? best : join(runDir, 'checkpoint'));
  try {
    const cfg = loaded.config.train;
    const corpus = await checkpointCorpus(loaded, 'compare');
    const out: FinalEvaluation = { which, step: loaded.config.step, ppl: {}, seconds: 0, finalTokens, weights: loaded.weights };
    for (const name of ['valid', 'test'] as const) {
      const split = corpus.splits[name];
      if (!split) continue;
      const r = await training.evaluate(loaded.model, split, {
        batchSize: cfg.batch,
        bptt: cfg.bptt,
        unkId: loaded.vocab.unkId,
        shouldStop: stop.requested,
        maxTokens: finalTokens === 'all' ? undefined : finalTokens,
        onProgress: (p) =>
          printer.evalProgress(name, p, ` (${which} checkpoint, step ${loaded.config.step}, ${weightsText(loaded.weights)})`),
      });
      printer.close();
      if (r.interrupted) return null;
      out.ppl[name] = r.ppl;
      out[name === 'valid' ? 'validTokens' : 'testTokens'] = r.tokens;
      out.seconds += r.seconds;
    }
    return out;
  } finally {
    loaded.model.dispose();
  }
}
