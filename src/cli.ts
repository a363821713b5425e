// The `flstm` command: each command is a module under src/cli/ (its options declared once, a
// run function). Errors print one message (no stack trace): exit code 2 for usage errors, 1 for
// everything else.
import { parseArgs } from 'node:util';
import { dispose } from './engine.js';
import { aligned, helpRows, parserOptions, usageLine, UsageError, type Values } from './cli/args.js';
import type { Command } from './cli/command.js';
import { benchCommand } from './cli/bench.js';
import { chartCommand } from './cli/chart.js';
import { compareCommand } from './cli/compare.js';
import { evalCommand } from './cli/evaluate.js';
import { generateCommand } from './cli/generate.js';
import { dataCommand, infoCommand, paramsCommand } from './cli/inspect.js';
import { trainCommand } from './cli/train.js';
import { needsFilteringChild, runFilteredChild, watchParent } from './cli/stderr_filter.js';
import pkg from '../package.json';
import { joinedWorld, leaveWorld } from './distributed/world.js';

const COMMANDS: Command[] = [infoCommand, paramsCommand, dataCommand, trainCommand, evalCommand, generateCommand, compareCommand, chartCommand, benchCommand];

function mainUsage(): string {
  return [
    `flstm ${pkg.version}: a WebGPU tensor engine for LSTM language models`,
    '',
    'usage: flstm <command> [options]',
    '',
    'commands:',
    aligned(COMMANDS.map((c) => [c.name, c.summary]), '  '),
    '',
    'options:',
    aligned([['-h, --help', 'print this help'], ['-v, --version', 'print the version']], '  '),
    '',
    "Run 'flstm <command> --help' for a command's options.",
  ].join('\n');
}

function commandUsage(c: Command): string {
  const usage = `usage: flstm ${c.name} ${usageLine(c.options)}${c.positionals ? ` ${c.positionals}` : ''}`;
  return [usage, '', c.summary, '', 'options:', aligned(helpRows(c.options), '  ')].join('\n');
}

/** parseArgs's errors, reworded to name the command and what it accepts. */
function usageErrorFrom(err: unknown, c: Command): Error {
  const e = err as { code?: string; message?: string };
  const known = c.options.map((o) => `--${o.name}${o.value ? ' VALUE' : ''}`).join(', ');
  const m = /'([^']+)'/.exec(e.message ?? '');
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`flstm ${c.name}: unknown option ${m ? m[1] : '?'} (it accepts ${known})`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const msg = e.message ?? '';
      const ambiguous = /^Option '([^' ]+)[^']*' argument is ambiguous/.exec(msg);
      // A value that starts with a dash ("--hidden -3") reads as an option: say how to give it.
      if (ambiguous) return new UsageError(`flstm ${c.name}: option ${ambiguous[1]} needs a value (one that starts with a dash is written ${ambiguous[1]}=-VALUE)`);
      return new UsageError(`flstm ${c.name}: ${msg.split('\n')[0].replace(/^Option '([^' ]+)[^']*' argument missing$/, 'option $1 needs a value')}`);
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`flstm ${c.name}: unexpected argument ${m ? m[1] : ''} (it takes no positional arguments)`);
    default:
      return err instanceof Error ? err : new Error(String(err));
  }
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    // No command is a usage error: the usage goes to stderr.
    console.error(mainUsage());
    process.exitCode = 2;
    return;
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    console.log(mainUsage());
    return;
  }
  if (name === '-v' || name === '--version') {
    console.log(pkg.version);
    return;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    const what = name.startsWith('-') ? `unknown option ${name}` : `unknown command '${name}'`;
    throw new UsageError(`flstm: ${what}; the commands are: ${COMMANDS.map((c) => c.name).join(', ')} (see flstm --help)`);
  }
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: rest, options: parserOptions(cmd.options), strict: true, allowPositionals: !!cmd.positionals }) as typeof parsed;
  } catch (err) {
    throw usageErrorFrom(err, cmd);
  }
  if (parsed.values.help) {
    console.log(commandUsage(cmd));
    return;
  }
  if (cmd.gpu && (await needsFilteringChild())) {
    process.exitCode = await runFilteredChild();
    return;
  }
  watchParent();
  await cmd.run(parsed.values, parsed.positionals);
}

function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.startsWith('flstm') ? msg : `flstm: ${msg}`;
}

main(process.argv.slice(2))
  .catch((err: unknown) => {
    const world = joinedWorld();
    // A rank's error names the rank, and ends the whole job: the others would wait for it.
    console.error(world ? oneLine(err).replace(/^flstm( \w+)?:/, `flstm$1 (rank ${world.rank} of ${world.size}):`) : oneLine(err));
    if (!process.exitCode) process.exitCode = err instanceof UsageError ? 2 : 1;
    leaveWorld(true, Number(process.exitCode) || 1);
  })
  .finally(() => {
    leaveWorld(false);
    // A live Dawn device keeps Node running: destroy it so the process ends on its own.
    try {
      dispose();
    } catch {
      // Nothing more to report: the command's own result or error is already printed.
    }
  });
