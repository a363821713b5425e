// Keeping Dawn's two native limit warnings off the command's stderr where the GPU runtime
// cannot filter them in process (src/gpu/native_stderr.ts needs libc's dup and dup2 through
// koffi) and stderr is a socket (a Node parent's 'pipe', some supervisors): there the command
// runs again as a child whose stderr this process reads and forwards line by line without
// those two lines. (A terminal, a file or a pipe is then left unfiltered: a child's stderr
// would no longer be the terminal, and the warnings are harmless.) Signals sent to this
// process go to the child; if this process dies, the child's IPC channel closes and it exits too.
import { spawn } from 'node:child_process';
import { fstatSync } from 'node:fs';
import { constants } from 'node:os';
import { DAWN_LIMIT_WARNING } from '../gpu/native_stderr.js';
import { descriptorCalls } from '../gpu/descriptors.js';

const CHILD_ENV = 'FLSTM_CLI_FILTERED';
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Whether this process's stderr needs the child: a socket, no in-process filter, and not already the child. */
export async function needsFilteringChild(): Promise<boolean> {
  if (process.env[CHILD_ENV] || process.platform === 'win32') return false;
  try {
    if (!fstatSync(2).isSocket()) return false;
  } catch {
    return false;
  }
  return (await descriptorCalls()) === null;
}

/** In the child: exit when the parent is gone (its IPC channel closes), and never wait for the channel. */
export function watchParent(): void {
  if (!process.env[CHILD_ENV] || !process.channel) return;
  process.channel.unref();
  process.on('disconnect', () => process.exit(128 + constants.signals.SIGHUP));
}

/** Forwards `chunk`s of text, dropping complete lines that are Dawn's limit warnings. */
export class WarningFilter {
  private held = '';

  constructor(private readonly write: (text: string) => void) {}

  push(chunk: string): void {
    const text = this.held + chunk;
    const lines = text.split('\n');
    const tail = lines.pop()!;
    const kept = lines.filter((l) => !DAWN_LIMIT_WARNING.test(l));
    // A tail that may grow into a warning waits for its newline; any other goes out at once.
    this.held = 'Warning: maxDynamic'.startsWith(tail.slice(0, 19)) && tail.length > 0 ? tail : '';
    const out = kept.map((l) => `${l}\n`).join('') + (this.held ? '' : tail);
    if (out) this.write(out);
  }

  end(): void {
    if (this.held && !DAWN_LIMIT_WARNING.test(this.held)) this.write(this.held);
    this.held = '';
  }
}

/** Runs this command again as a filtered child; resolves with the exit code to report. */
export function runFilteredChild(): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'pipe', 'ipc'],
    env: { ...process.env, [CHILD_ENV]: '1' },
  });
  const filter = new WarningFilter((t) => process.stderr.write(t));
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => filter.push(d));
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const s of FORWARDED) process.on(s, forward);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      filter.end();
      for (const s of FORWARDED) process.off(s, forward);
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}
