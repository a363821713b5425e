// `flstm train`: trains a language model as the options say (or continues one with --resume),
// prints progress, validations, the summary and a sample.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import * as training from '../train/index.js';
import * as corpora from '../data/index.js';
import { info, init } from '../engine.js';
import { detokenize } from '../data/detokenize.js';
import { formatCount, formatDuration } from '../train/metrics.js';
import { formatBytes, formatMemoryPlan, memoryPlan } from '../train/memory_plan.js';
import { needsText, planNeeds, planProblems } from '../train/plan_fit.js';
import { checkSplitsFitBatch } from '../train/split_sizes.js';
import { checkSampled, sampledFor } from '../train/sampled.js';
import { allReducedBytes } from '../distributed/data_parallel.js';
import { DEVICE_OPTIONS, UsageError, type Values } from './args.js';
import { count, readOption, type OptionDecl } from '../options/declare.js';
import { BEST, EVAL_TOKENS } from '../options/train.js';
import { PRESET, withPreset } from '../options/presets.js';
import { initFrom, withStopSignals, type Command } from './command.js';
import { joinWorld } from '../distributed/world.js';
import {
  ALLREDUCE,
  DISTRIBUTED,
  limitsFrom,
  LOG_EVERY,
  MODEL_OPTIONS,
  OUT,
  RECIPE_OPTIONS,
  resolvePrecision,
  resumeValues,
  RUN_OPTIONS,
  SAVE_EVERY,
  trainConfigFrom,
  VALIDATION_OPTIONS,
} from './train_options.js';
import { TrainPrinter, weightsText } from './train_printer.js';
import { growingText, type GrowingText } from './growing_text.js';
import { checkNotFile } from '../train/trainer.js';
import type { Vocabulary } from '../data/vocab.js';

const DRY_RUN = {
  name: 'dry-run',
  help: "print the memory plan (bytes of the weights, gradients, optimizer state, f16 copies and activations; the tables' shards) and stop before anything is allocated",
} satisfies OptionDecl<boolean>;

/**
 * --dry-run: the plan of the run these options would start (or continue), printed; nothing is
 * trained. Checked as the run checks it (the samples, the splits, the bindings and memory):
 * what this adapter cannot run is refused after the plan, naming what a GPU needs for it.
 */
async function printPlan(cfg: training.TrainConfig, values: Values, out: string, processes: number): Promise<void> {
  const saved = values.resume ? await training.readCheckpointConfig<training.CheckpointConfig>(join(out, 'checkpoint')) : null;
  const corpus = saved ? null : await corpora.loadCorpus(cfg.data, training.corpusOptions(cfg));
  const vocabSize = saved?.vocabSize ?? corpus!.vocab.size;
  const run = saved ? cfg : { ...cfg, sampled: sampledFor(cfg.sampled, vocabSize, values.sampled === undefined) };
  if (corpus) {
    checkSampled(run.sampled, run.data, vocabSize);
    checkSplitsFitBatch(corpus, run.batch * processes);
  }
  const plan = memoryPlan(run, vocabSize, info().maxBindingBytes);
  const problems = planProblems(run, vocabSize, plan);
  const needs = planNeeds(run, vocabSize, plan);
  // A distributed run's per-step exchange: the dense gradients all-reduced (each process's plan is the one above).
  const allReduced = processes > 1 ? allReducedBytes(run, vocabSize, readOption(values, 'train', ALLREDUCE)) : undefined;
  if (values.json) {
    console.log(
      JSON.stringify({
        type: 'memory-plan',
        vocab: vocabSize,
        ...plan,
        fits: problems.length === 0,
        problems,
        needs,
        ...(allReduced !== undefined ? { processes, allReducedBytes: allReduced } : {}),
      }),
    );
  } else {
    const exchange =
      allReduced === undefined
        ? ''
        : `\n${processes} processes, each with this plan; a step all-reduces ${formatBytes(allReduced)} of gradients and gathers the table rows it touched`;
    console.log(
      `${formatMemoryPlan(plan)}${exchange}\nneeds: bindings of ${formatBytes(needs.bindingBytes)}, ${formatBytes(needs.memoryBytes)} of memory\n(vocabulary ${formatCount(vocabSize)}; nothing was trained)`,
    );
  }
  if (problems.length) throw new Error(`flstm: this adapter cannot run this plan: ${problems.join('; and ')}; ${needsText(needs)}`);
}

const SAMPLE_OPTION = {
  name: 'sample',
  value: 'N',
  help: 'words of sample text printed at the end (0: none)',
  reader: count,
  default: 30,
} satisfies OptionDecl<number>;

/**
 * The run folder when --out is not given: runs/train, or (a new run, when that one holds a
 * checkpoint already) the first of runs/train-2, runs/train-3, ... that does not, so running
 * the default twice never replaces an earlier run. --resume continues runs/train.
 */
async function defaultRunFolder(resume: boolean): Promise<string> {
  const taken = (d: string) =>
    access(`${d}/checkpoint/config.json`).then(
      () => true,
      () => false,
    );
  if (resume || !(await taken('runs/train'))) return 'runs/train';
  for (let i = 2; ; i++) if (!(await taken(`runs/train-${i}`))) return `runs/train-${i}`;
}

/**
 * The configuration of this run: the options, or with --resume the checkpoint's overlaid by
 * them. Checked before the GPU opens; `--precision auto` of a new run is settled after
 * (settlePrecision), by the adapter's features.
 */
export async function runConfig(values: Values, out: string, cmd = 'train', processes = 1): Promise<training.TrainConfig> {
  // A preset is expanded first: on a resume its options are given ones, checked against the checkpoint's.
  const given = withPreset(values, cmd);
  if (!values.resume) return trainConfigFrom(given, cmd);
  return trainConfigFrom(await resumeValues(given, join(out, 'checkpoint'), processes), cmd);
}

/** A new run's `--precision auto`: f16 where the adapter has shader-f16. Needs init(). */
export function settlePrecision(cfg: training.TrainConfig, values: Values, cmd = 'train'): void {
  if (!values.resume) resolvePrecision(cfg, values, cmd);
}

/** The TrainOptions of the cadence and validation options. */
export function cadenceFrom(values: Values, cmd: string): Pick<training.TrainOptions, 'logEvery' | 'saveEvery' | 'evalTokens' | 'bestDir'> {
  return {
    logEvery: readOption(values, cmd, LOG_EVERY),
    saveEvery: readOption(values, cmd, SAVE_EVERY),
    evalTokens: readOption(values, cmd, EVAL_TOKENS),
    bestDir: readOption(values, cmd, BEST),
  };
}

function printSummary(p: TrainPrinter, s: training.TrainSummary, out: string): void {
  const evalPart = s.evalSeconds > 0 ? `; validation took ${formatDuration(s.evalSeconds)}` : '';
  p.out(
    `trained to step ${s.step} (${s.stopReason}), ${formatCount(s.wordsPerSec)} words/s over ${formatDuration(s.trainSeconds)} of training${evalPart}; run folder ${out} (checkpoint/, metrics.jsonl, chart.svg)`,
  );
  if (s.valid) p.out(`validation perplexity ${s.valid.ppl.toFixed(2)} (${formatCount(s.valid.tokens)} tokens, ${weightsText(s.weights)})`);
  if (s.best)
    p.out(`best validation perplexity ${s.best.ppl.toFixed(2)} at step ${s.best.step} (${weightsText(s.weights)}), kept in ${s.best.dir}`);
}

/** The end-of-run sample's prompt: "The" (or "the") when the vocabulary has it, else its most frequent word. */
function samplePrompt(vocab: Vocabulary): string {
  const word = ['The', 'the'].find((w) => vocab.has(w)) ?? vocab.words.find((w, id) => id !== vocab.unkId && !/^<.*>$/.test(w));
  return word ?? 'The';
}

/** The end-of-run sample from the saved checkpoint; `shown` writes its words as they are drawn. */
async function sampleText(out: string, words: number, seed: number, shown?: GrowingText): Promise<string> {
  const loaded = await training.loadModel(join(out, 'checkpoint'));
  try {
    const onWord = shown && ((g: training.Generated) => shown.show([...g.prompt, ...g.words]));
    const g = await training.generate(loaded.model, loaded.vocab, samplePrompt(loaded.vocab), {
      tokens: words,
      seed,
      temperature: 0.8,
      onWord,
    });
    return detokenize([...g.prompt, ...g.words]);
  } finally {
    loaded.model.dispose();
  }
}

/** The end-of-run sample on stdout, its words written as they are drawn (a large model loads for a while first). */
async function printSample(out: string, words: number, seed: number): Promise<void> {
  process.stdout.write('sample: ');
  await sampleText(
    out,
    words,
    seed,
    growingText((s) => process.stdout.write(s)),
  );
  process.stdout.write('\n');
}

export const trainCommand: Command = {
  name: 'train',
  gpu: true,
  summary: 'train an LSTM / F-LSTM / G-LSTM language model (Ctrl-C or SIGTERM saves a checkpoint and stops)',
  options: [
    PRESET,
    ...MODEL_OPTIONS,
    ...RECIPE_OPTIONS,
    ...RUN_OPTIONS,
    ...VALIDATION_OPTIONS,
    SAMPLE_OPTION,
    DRY_RUN,
    DISTRIBUTED,
    ALLREDUCE,
    ...DEVICE_OPTIONS,
  ],
  async run(values) {
    const out = readOption(values, 'train', OUT) ?? (await defaultRunFolder(!!values.resume));
    const limits = limitsFrom(values, 'train');
    const sampleWords = readOption(values, 'train', SAMPLE_OPTION);
    const cadence = cadenceFrom(values, 'train');
    await checkNotFile(out); // before --resume reads the checkpoint's options from it
    // Under an MPI launcher, this process is one rank of the run; rank 0 alone prints and writes.
    const world = await joinWorld(readOption(values, 'train', DISTRIBUTED));
    const cfg = await runConfig(values, out, 'train', world.size);
    await initFrom(values);
    settlePrecision(cfg, values);
    if (values['dry-run']) return world.rank === 0 ? printPlan(cfg, values, out, world.size) : undefined;
    const printer = new TrainPrinter({ json: !!values.json, what: `${cfg.model.cell} on ${cfg.data}`, quiet: world.rank > 0 });
    try {
      await withStopSignals(
        (signal) => {
          if (!values.json && world.rank === 0)
            printer.err(
              `\nflstm train: ${signal === 'SIGINT' ? 'interrupted' : signal}; saving a checkpoint (Ctrl-C again to quit at once)`,
            );
        },
        async (stop) => {
          // A --sampled not given is a default, which a small vocabulary trains without.
          const sampledIsDefault = values.sampled === undefined;
          const summary = await training.train(cfg, {
            out,
            resume: !!values.resume,
            ...limits,
            ...cadence,
            sampledIsDefault,
            stopRequested: stop.requested,
            onLog: (e) => printer.event(e),
            world,
            allReduce: readOption(values, 'train', ALLREDUCE),
          });
          printer.close();
          if (world.rank > 0) return;
          // Already at the limit: the 'stopped' event said so, and nothing changed to summarize.
          if (summary.upToDate && !values.json) return;
          const ended = summary.stopReason !== 'non-finite loss' && summary.stopReason !== 'interrupted';
          const wantSample = sampleWords > 0 && ended && !summary.upToDate;
          if (values.json) {
            const sample = wantSample ? await sampleText(out, sampleWords, cfg.seed) : undefined;
            console.log(JSON.stringify({ type: 'summary', ...summary, validPpl: summary.valid?.ppl, sample }));
          } else {
            printSummary(printer, summary, out);
            if (wantSample) await printSample(out, sampleWords, cfg.seed);
          }
          // A diverged run failed; an interrupted one saved but did not finish (128 + the signal, as shells report it).
          if (summary.stopReason === 'non-finite loss') process.exitCode = 1;
          else if (summary.stopReason === 'interrupted') process.exitCode = stop.exitCode() || 130;
        },
      );
    } catch (err) {
      if (err instanceof corpora.CorpusSpecError) throw new UsageError(err.message.replace(/^flstm: /, 'flstm train: '));
      throw err;
    }
  },
};
