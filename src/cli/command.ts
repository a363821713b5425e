// What a `flstm` command is: its name, a one-line summary, its options (declared once, see
// args.ts) and what it does with their values.
import { type AdapterInfoSummary } from '../gpu/runtime.js';
import { init } from '../engine.js';
import { UsageError, type OptionSpec, type Values } from './args.js';

export interface Command {
  name: string;
  summary: string;
  options: OptionSpec[];
  run(values: Values, positionals: string[]): Promise<void>;
  /** Takes positional arguments (e.g. `flstm chart RUN...`), named so in the usage line. */
  positionals?: string;
  /** Opens the GPU (Dawn's native warnings are filtered from its stderr). */
  gpu?: boolean;
}

/** init() with the --adapter option. */
export async function initFrom(values: Values): Promise<AdapterInfoSummary> {
  const adapter = values.adapter as string | undefined;
  if (adapter !== undefined && adapter.trim() === '') throw new UsageError('flstm: --adapter needs a non-empty value');
  return init(adapter ? { adapter } : {});
}

export interface StopSignal {
  /** A signal asked the run to stop (it saves a checkpoint and ends). */
  requested(): boolean;
  /** The exit code that reports the signal (128 + its number), or 0 when none came. */
  exitCode(): number;
}

const SIGNAL_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Runs `fn` with Ctrl-C (SIGINT) and SIGTERM (kill, systemd, container runtimes) asking it to
 * stop: the loop saves and ends; a second signal exits at once.
 */
export async function withStopSignals<T>(onFirst: (signal: string) => void, fn: (stop: StopSignal) => Promise<T>): Promise<T> {
  let received: string | null = null;
  const handler = (signal: NodeJS.Signals) => {
    if (received) process.exit(SIGNAL_CODES[signal] ?? 130);
    received = signal;
    onFirst(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  try {
    return await fn({ requested: () => received !== null, exitCode: () => (received ? (SIGNAL_CODES[received] ?? 130) : 0) });
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  }
}
