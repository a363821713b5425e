// `flstm eval`: the full-softmax perplexity of a checkpoint on a split, the text encoded with
// the checkpoint's own vocabulary (words it lacks count as its <unk>, and the output says how
// many did), with progress while it runs.
import * as training from '../train/index.js';
import * as corpora from '../data/index.js';
import { formatCount, formatDuration } from '../train/metrics.js';
import { formatBytes } from '../train/bytes.js';
import { checkpointBytes } from '../train/checkpoint.js';
import { outsideVocabulary, percent, UNK_SHARE_LIMIT } from '../train/unknown_words.js';
import { DEVICE_OPTIONS, UsageError, type Values } from './args.js';
import { choice, positiveInt, readOption, text } from '../options/declare.js';
import { initFrom, withStopSignals, type Command } from './command.js';
import { checkSplitFitsBatch } from '../train/split_sizes.js';
import { NoAveragesError } from '../train/load.js';
import { averageScheduleOf } from '../train/config.js';
import { TrainPrinter, weightsText } from './train_printer.js';

/**
 * The corpus to evaluate on: --data, else the checkpoint's, where it recorded the files
 * (corpora.locateCorpus: from any folder). A model trained in the demo page names the page's
 * text ('web:...'); its Brown excerpt is evaluated on Brown, other text needs --data.
 */
export async function corpusSpecFor(
  config: training.CheckpointConfig,
  given: string | undefined,
  cmd: string,
): Promise<{ spec: string; note?: string }> {
  if (given !== undefined) return { spec: given };
  const data = config.train.data;
  if (data === 'web:brown-excerpt')
    return {
      spec: 'brown',
      note: 'the model was trained in the demo page on a Brown excerpt: evaluating on the Brown corpus (--data chooses another)',
    };
  if (data.startsWith('web:')) {
    throw new UsageError(
      `flstm ${cmd}: the model was trained in the demo page on ${JSON.stringify(data.slice(4))}, which flstm cannot read: give --data (${corpora.CORPUS_SPECS})`,
    );
  }
  return { spec: await corpora.locateCorpus(data, config.corpus) };
}

/** The checkpoint's corpus read without --data: a note when its files are no longer the ones the run read. */
export function changedCorpusNote(config: training.CheckpointConfig, corpus: corpora.Corpus): string | undefined {
  const changes = config.corpus ? corpora.corpusChanges(config.corpus, corpus.identity) : [];
  return changes.length ? `the corpus has changed since the run trained on it: ${changes.map((c) => c.text).join('; ')}` : undefined;
}

/** Loads the corpus of `spec` in the vocabulary of the loaded model. */
export async function corpusInVocabulary(spec: string, vocab: corpora.Vocabulary, cmd: string): Promise<corpora.Corpus> {
  try {
    return await corpora.loadCorpus(spec, { vocab });
  } catch (err) {
    if (err instanceof corpora.CorpusSpecError) throw new UsageError(err.message.replace(/^flstm: /, `flstm ${cmd}: --data: `));
    throw err;
  }
}

/** The corpus a checkpoint's run trained on, where it recorded the files, in the model's vocabulary. */
export async function checkpointCorpus(loaded: training.LoadedModel, cmd: string): Promise<corpora.Corpus> {
  return corpusInVocabulary(await corpora.locateCorpus(loaded.config.train.data, loaded.config.corpus), loaded.vocab, cmd);
}

/** "2,000 tokens, 621 of them <unk> (31.1%)" and, when that share is large, why it matters. */
export function unkText(r: { tokens: number; unk: number }, vocabSize: number): { part: string; note?: string } {
  const share = r.tokens > 0 ? r.unk / r.tokens : 0;
  const part = `${formatCount(r.tokens)} tokens, ${formatCount(r.unk)} of them <unk> (${percent(share)})`;
  if (share <= UNK_SHARE_LIMIT) return { part };
  return {
    part,
    note: `${outsideVocabulary(share, vocabSize)}; each counts as <unk>, one word of it, so this perplexity is not comparable with a model of another vocabulary`,
  };
}

export const CHECKPOINT = {
  name: 'checkpoint',
  value: 'DIR|FILE',
  required: true,
  reader: text('DIR'),
  help: 'a checkpoint folder (RUN/checkpoint, RUN/best) or a model .safetensors file (one the demo page saved)',
};
const SPLIT = { name: 'split', help: 'the split', reader: choice(['valid', 'test', 'train'] as const), default: 'valid' as const };
const DATA = {
  name: 'data',
  value: 'SPEC',
  reader: text(corpora.CORPUS_SPECS),
  help: `the corpus: ${corpora.CORPUS_SPECS}`,
  defaultText: "the checkpoint's files, where its run read them; a page model's Brown excerpt: brown",
};
const BATCH = { name: 'batch', value: 'B', reader: positiveInt, help: 'streams', defaultText: "the checkpoint's" };
const BPTT = { name: 'bptt', value: 'T', reader: positiveInt, help: 'steps per batch', defaultText: "the checkpoint's" };
const MAX_TOKENS = {
  name: 'max-tokens',
  value: 'N',
  reader: positiveInt,
  help: 'score the first N tokens of the split, exactly',
  defaultText: 'the whole split',
};
export const WEIGHTS = {
  name: 'weights',
  reader: choice(['average', 'trained'] as const),
  help: "the LSTM weights: average, the run's moving average (--ema); trained, the last step's",
  defaultText: 'average when the checkpoint has one',
};

/** The checkpoint's model with the weights --weights asks for (a checkpoint without averages and --weights average: a usage error). */
export async function loadModelWith(values: Values, dir: string, cmd: string): Promise<training.LoadedModel> {
  const weights = readOption(values, cmd, WEIGHTS);
  // A large model takes a while to read: say so before, and how long it took after.
  const bytes = await checkpointBytes(dir, /^model-\d+\.safetensors$/);
  const started = performance.now();
  if (bytes >= LOADING_NOTICE_BYTES) console.error(`flstm ${cmd}: loading ${dir} (${formatBytes(bytes)} of weights)`);
  try {
    const loaded = await training.loadModel(dir, { weights });
    if (bytes >= LOADING_NOTICE_BYTES) console.error(`flstm ${cmd}: loaded in ${formatDuration((performance.now() - started) / 1e3)}`);
    return loaded;
  } catch (err) {
    if (err instanceof NoAveragesError) throw new UsageError(err.message.replace(/^flstm: /, `flstm ${cmd}: --weights average: `));
    throw err;
  }
}

const LOADING_NOTICE_BYTES = 64 * 2 ** 20;

/** "the moving average of the LSTM weights (decay 0.999, warmup)" or "the trained weights". */
export function loadedWeightsText(loaded: training.LoadedModel): string {
  const cfg = loaded.config.train;
  return loaded.weights === 'average' ? `${weightsText('average')} (decay ${cfg.ema}, ${averageScheduleOf(cfg)})` : weightsText('trained');
}

export const evalCommand: Command = {
  name: 'eval',
  gpu: true,
  summary: "full-softmax perplexity of a checkpoint on a split (the text in the checkpoint's vocabulary)",
  options: [CHECKPOINT, SPLIT, DATA, BATCH, BPTT, MAX_TOKENS, WEIGHTS, ...DEVICE_OPTIONS],
  async run(values) {
    const dir = readOption(values, 'eval', CHECKPOINT)!;
    const splitName = readOption(values, 'eval', SPLIT);
    const sizes = {
      batch: readOption(values, 'eval', BATCH),
      bptt: readOption(values, 'eval', BPTT),
      maxTokens: readOption(values, 'eval', MAX_TOKENS),
    };
    const given = readOption(values, 'eval', DATA);
    readOption(values, 'eval', WEIGHTS); // checked before the GPU opens
    await initFrom(values);
    const loaded = await loadModelWith(values, dir, 'eval');
    const printer = new TrainPrinter({ json: !!values.json });
    const { spec, note } = await corpusSpecFor(loaded.config, given, 'eval');
    if (note && !values.json) printer.err(`flstm eval: ${note}`);
    const corpus = await corpusInVocabulary(spec, loaded.vocab, 'eval');
    const changed = given === undefined ? changedCorpusNote(loaded.config, corpus) : undefined;
    if (changed && !values.json) printer.err(`flstm eval: note: ${changed}`);
    const split = corpus.splits[splitName];
    if (!split) throw new Error(`flstm eval: ${corpus.spec} has no ${splitName} split`);
    const cfg = loaded.config.train;
    const batch = sizes.batch ?? cfg.batch;
    checkSplitFitsBatch(corpus, splitName, batch, `--batch ${batch}${sizes.batch === undefined ? " (the checkpoint's)" : ''}`);
    await withStopSignals(
      () => {},
      async (stop) => {
        const r = await training.evaluate(loaded.model, split, {
          batchSize: batch,
          bptt: sizes.bptt ?? cfg.bptt,
          maxTokens: sizes.maxTokens,
          unkId: loaded.vocab.unkId,
          shouldStop: stop.requested,
          onProgress: (p) => printer.evalProgress(splitName, p),
        });
        printer.close();
        if (r.interrupted) {
          process.exitCode = stop.exitCode() || 130;
          throw new Error(`flstm eval: interrupted after ${formatCount(r.tokens)} tokens; no perplexity is given for part of the split`);
        }
        const unk = unkText(r, loaded.vocab.size);
        if (values.json)
          console.log(
            JSON.stringify({
              type: 'eval',
              checkpoint: dir,
              data: corpus.spec,
              split: splitName,
              step: loaded.config.step,
              averaged: loaded.averaged,
              weights: loaded.weights,
              ...r,
            }),
          );
        else {
          console.log(
            `${splitName} perplexity ${r.ppl.toFixed(2)} (loss ${r.loss.toFixed(4)}, ${unk.part}, step ${loaded.config.step}, ${loadedWeightsText(loaded)}, ${r.seconds.toFixed(1)} s)`,
          );
          if (unk.note) printer.err(`flstm eval: note: ${unk.note}`);
        }
      },
    );
    loaded.model.dispose();
  },
};
