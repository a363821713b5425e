// How `flstm train` (and `flstm compare`, `flstm eval`) show a run: with --json every event is
// one JSON line on stdout; on a terminal the progress line rewrites itself on stderr and the
// results are lines of their own; in a log (no terminal) progress lines are plain lines and
// evaluation progress is a line every few seconds, so nothing waits in silence.
import * as training from '../train/index.js';
import { formatBytes } from '../train/memory_plan.js';
import { formatCount, formatDuration } from '../train/metrics.js';

export interface PrinterOptions {
  json: boolean;
  /** Put before every readable line (compare names the cell). */
  prefix?: string;
  /** Whether stderr is a terminal (default: process.stderr.isTTY). */
  tty?: boolean;
  /** What trains, for the start line (e.g. "glstm on brown"). */
  what?: string;
  /** Print nothing (compare --json prints only its rows). */
  quiet?: boolean;
}

/** Seconds between evaluation progress lines when stderr is not a terminal. */
const LOG_PROGRESS_EVERY_S = 3;

export class TrainPrinter {
  private readonly tty: boolean;
  private lineOpen = false;
  private lastLogged = -Infinity;

  constructor(private readonly o: PrinterOptions) {
    this.tty = o.tty ?? (!!process.stderr.isTTY && !o.json);
  }

  /** A line of its own on stdout (closing a progress line first). */
  out(text: string): void {
    if (this.o.quiet) return;
    this.close();
    console.log(`${this.o.prefix ?? ''}${text}`);
  }

  /** A message on stderr (closing a progress line first). */
  err(text: string): void {
    if (this.o.quiet) return;
    this.close();
    console.error(text);
  }

  /** Ends a rewritten progress line, so the next output starts on a line of its own. */
  close(): void {
    if (this.lineOpen) process.stderr.write('\n');
    this.lineOpen = false;
  }

  /**
   * A progress line: rewritten in place on a terminal; in a log a plain line, training's on
   * stdout, evaluation's (throttled) on stderr, so that stdout holds only the results.
   */
  private progress(text: string, evaluation: boolean, always = false): void {
    if (this.o.quiet) return;
    const line = `${this.o.prefix ?? ''}${text}`;
    if (this.tty) {
      process.stderr.write(`\r${line}\x1b[K`);
      this.lineOpen = true;
      return;
    }
    if (!evaluation) return console.log(line);
    const now = performance.now() / 1e3;
    if (now - this.lastLogged < LOG_PROGRESS_EVERY_S && !always) return;
    this.lastLogged = now;
    console.error(line);
  }

  /** Evaluation progress (tokens done, the total and time left when known). */
  evalProgress(split: string, p: { tokens: number; total?: number; eta?: number }, at = ''): void {
    if (this.o.quiet) return;
    if (this.o.json) return console.log(JSON.stringify({ type: 'eval-progress', split, ...p }));
    const total = p.total !== undefined ? ` / ${formatCount(p.total)}` : '';
    const eta = p.eta !== undefined ? `  ETA ${formatDuration(p.eta)}` : '';
    this.progress(`evaluating ${split}${at}: ${formatCount(p.tokens)}${total} tokens${eta}`, true);
  }

  event(e: training.TrainEvent): void {
    if (this.o.quiet) return;
    if (this.o.json) {
      console.log(JSON.stringify(e));
      return;
    }
    switch (e.type) {
      case 'start':
        this.out(startLine(e, this.o.what));
        if (e.world) this.out(worldLine(e.world));
        if (e.corpusChanges)
          this.err(
            `flstm train: note: ${e.corpusChanges.join('; ')}; the run continues on the files as they are now, in the checkpoint's vocabulary`,
          );
        return;
      case 'compiling':
        if (e.seconds !== undefined) return this.err(`flstm train: still compiling (${e.seconds.toFixed(0)} s so far)`);
        return this.err(
          'flstm train: compiling the kernels for this model shape (the first step; a software driver keeps them in its shader cache for the next run)',
        );
      case 'compiled':
        return this.err(`flstm train: the first step took ${e.seconds.toFixed(1)} s`);
      case 'progress':
        return this.progress(e.line, false);
      case 'eval-progress':
        return this.evalProgress(e.split, e, ` at step ${e.step}`);
      case 'eval':
        return this.out(
          `${e.split} perplexity ${e.ppl.toFixed(2)} (loss ${e.loss.toFixed(4)}, ${formatCount(e.tokens)} tokens, step ${e.step}, ${e.seconds.toFixed(1)} s, ${weightsText(e.weights)})${e.best ? ', the best so far' : ''}`,
        );
      case 'lr':
        return this.out(`learning rate now ${Number(e.lr.toPrecision(4))} (step ${e.step}): ${e.reason}`);
      case 'stopped':
        return this.err(`flstm train: ${e.reason}`);
      case 'preparing':
        return this.err(`flstm train: ${e.what}`);
      case 'saving':
        return this.progress(
          e.total === undefined
            ? `saving the checkpoint in ${e.dir}`
            : `saving the checkpoint in ${e.dir}: ${formatBytes(e.bytes)} of ${formatBytes(e.total)} written`,
          true,
          // A save's first line is said even in a log, where a validation line just before would throttle it away.
          e.total === undefined,
        );
      case 'checkpoint':
        return;
    }
  }
}

/** Which softmax trains: the samples, or the full softmax and, when the default count did not fit, why. */
function softmaxText(e: Extract<training.TrainEvent, { type: 'start' }>): string {
  if (e.sampled > 0) return `sampled softmax of ${formatCount(e.sampled)} samples`;
  const n = e.defaultSampledUnfit;
  return n === undefined
    ? 'full softmax'
    : `full softmax (the default of ${formatCount(n)} samples needs a vocabulary of more than ${formatCount(n)} words)`;
}

/** A distributed run's processes: the global batch they make, and each rank's machine and adapter. */
function worldLine(w: training.WorldEvent): string {
  const ranks = w.ranks.map((r, i) => `rank ${i} on ${r.host}: ${r.adapter}`).join('; ');
  return `flstm train: ${w.processes} processes (${w.launcher}), --batch ${formatCount(w.batch)} each: a global batch of ${formatCount(w.globalBatch)} streams; a step all-reduces ${formatBytes(w.denseBytes)} of gradients (the LSTM's in ${w.allReduce}) and gathers the rows it touched; ${ranks}`;
}

/** Which weights a perplexity was measured with, as its line says it. */
export function weightsText(w: training.WeightsUsed): string {
  return w === 'average' ? 'the moving average of the LSTM weights' : 'the trained weights';
}

function startLine(e: Extract<training.TrainEvent, { type: 'start' }>, what = 'a model'): string {
  const unk =
    Number.isFinite(e.trainUnk) && e.trainTokens > 0
      ? `, ${((100 * e.trainUnk) / e.trainTokens).toFixed(1)}% of its ${formatCount(e.trainTokens)} training tokens <unk>`
      : '';
  const objective =
    e.objective === 'sampled-softmax'
      ? "; the training loss is the sampled softmax's (below the full-softmax loss: validation gives the perplexity)"
      : '';
  const sharded = e.memory.tables.filter((t) => t.shards > 1).map((t) => `${t.name} in ${t.shards} shards`);
  const memory = `, memory plan ${formatBytes(e.memory.total)}${sharded.length ? ` (${sharded.join(', ')})` : ''}`;
  return `flstm train: ${what} (vocabulary ${formatCount(e.vocab)}${unk}), ${formatCount(e.params)} parameters (${formatCount(e.rnnParams)} in the LSTM layers), ${softmaxText(e)}, ${e.precision} matmul operands, adapter ${e.adapter}${memory}${e.resumed ? `, resumed at step ${e.step}` : ''}${objective}`;
}
