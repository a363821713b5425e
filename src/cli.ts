// The `flstm` command: each command is a module under src/cli/ (its options declared once, a
// run function). Errors print one message (no stack trace): exit code 2 for usage errors, 1 for
// everything else.
import { dispose } from './engine.js';
import { aligned, helpRows, parseCommandLine, usageLine, UsageError } from './cli/args.js';
import type { Command } from './cli/command.js';
import { COMMANDS } from './cli/commands.js';
import { needsFilteringChild, runFilteredChild, watchParent } from './cli/stderr_filter.js';
import pkg from '../package.json';
import { joinedWorld, leaveWorld } from './distributed/world.js';

function mainUsage(): string {
  return [
    `flstm ${pkg.version}: a WebGPU tensor engine for LSTM language models`,
    '',
    'usage: flstm <command> [options]',
    '',
    'commands:',
    aligned(
      COMMANDS.map((c) => [c.name, c.summary]),
      '  ',
    ),
    '',
    'options:',
    aligned(
      [
        ['-h, --help', 'print this help'],
        ['-v, --version', 'print the version'],
      ],
      '  ',
    ),
    '',
    "Run 'flstm <command> --help' for a command's options.",
  ].join('\n');
}

function commandUsage(c: Command): string {
  const usage = `usage: flstm ${c.name} ${usageLine(c.options)}${c.positionals ? ` ${c.positionals}` : ''}`;
  return [usage, '', c.summary, '', 'options:', aligned(helpRows(c.options), '  ')].join('\n');
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
  const parsed = parseCommandLine(cmd, rest);
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
