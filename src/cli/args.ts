// Command-line options declared once: each OptionSpec (an OptionDecl, options/declare.ts)
// gives the parser its entry (node's util.parseArgs, strict, so an unknown flag is one clear
// error), the usage line and the help row with its default, so they cannot drift apart; its
// value is read by readOption, each error naming the flag, the value and what it takes.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { helpText, placeholder, text, UsageError, type OptionDecl, type Values } from '../options/declare.js';

export { UsageError, type Values };

/** A command's option: one declaration (options/declare.ts) gives parser, usage and help. */
export type OptionSpec = OptionDecl<any>;

export const JSON_OPTION: OptionSpec = { name: 'json', help: 'print JSON lines instead of the readable form' };
export const HELP_OPTION: OptionSpec = { name: 'help', short: 'h', help: 'print this help' };
export const ADAPTER_OPTION: OptionSpec = {
  name: 'adapter',
  value: 'NAME|ICD.json',
  reader: text(),
  help: 'use the adapter whose description contains NAME, or the Vulkan driver in ICD.json',
};
/** What every command that opens the GPU takes. */
export const DEVICE_OPTIONS: OptionSpec[] = [JSON_OPTION, ADAPTER_OPTION, HELP_OPTION];

export function parserOptions(specs: readonly OptionSpec[]): NonNullable<ParseArgsConfig['options']> {
  const out: NonNullable<ParseArgsConfig['options']> = {};
  for (const s of specs) out[s.name] = { type: placeholder(s) ? 'string' : 'boolean', ...(s.short ? { short: s.short } : {}) };
  return out;
}

/** A number with a minus sign: a value, not a flag ("--hidden -5", "--lr -.1"). */
const NEGATIVE_NUMBER = /^-\.?\d/;

/**
 * The arguments with "--name -5" as "--name=-5" where --name takes a value: the parser would
 * take -5 for a flag and say that --name has no value, where the option's reader says what
 * the value must be ("--hidden must be a positive integer, got '-5'").
 */
export function attachNegativeValues(args: readonly string[], specs: readonly OptionSpec[]): string[] {
  const takesValue = new Set(specs.filter((s) => placeholder(s)).map((s) => `--${s.name}`));
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--') return [...out, ...args.slice(i)]; // the rest are positionals
    const next = args[i + 1];
    if (takesValue.has(args[i]) && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${args[i]}=${next}`);
      i++;
    } else {
      out.push(args[i]);
    }
  }
  return out;
}

/** What parsing a command's arguments needs of it. */
export interface CommandLine {
  name: string;
  options: readonly OptionSpec[];
  positionals?: string;
}

/** parseArgs's errors, reworded to name the command and what it accepts. */
function usageErrorFrom(err: unknown, c: CommandLine): Error {
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
      if (ambiguous)
        return new UsageError(
          `flstm ${c.name}: option ${ambiguous[1]} needs a value (one that starts with a dash is written ${ambiguous[1]}=-VALUE)`,
        );
      return new UsageError(
        `flstm ${c.name}: ${msg.split('\n')[0].replace(/^Option '([^' ]+)[^']*' argument missing$/, 'option $1 needs a value')}`,
      );
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`flstm ${c.name}: unexpected argument ${m ? m[1] : ''} (it takes no positional arguments)`);
    default:
      return err instanceof Error ? err : new Error(String(err));
  }
}

/** The command's arguments as option values and positionals; a mistake is one UsageError. */
export function parseCommandLine(c: CommandLine, args: readonly string[]): { values: Values; positionals: string[] } {
  try {
    return parseArgs({
      args: attachNegativeValues(args, c.options),
      options: parserOptions(c.options),
      strict: true,
      allowPositionals: !!c.positionals,
    }) as { values: Values; positionals: string[] };
  } catch (err) {
    throw usageErrorFrom(err, c);
  }
}

function flagText(s: OptionSpec, value = placeholder(s)): string {
  return `${s.short ? `-${s.short}, ` : ''}--${s.name}${value ? ` ${value}` : ''}`;
}

/** "--checkpoint DIR [--split valid|test] ..." (help is left out: every command has it). */
export function usageLine(specs: readonly OptionSpec[]): string {
  return specs
    .filter((s) => s.name !== 'help')
    .map((s) => {
      const value = placeholder(s);
      const t = `--${s.name}${value ? ` ${value}` : ''}`;
      return s.required ? t : `[${t}]`;
    })
    .join(' ');
}

export function helpRows(specs: readonly OptionSpec[]): [string, string][] {
  return specs.map((s) => [flagText(s), helpText(s)]);
}

/** Two columns, the first padded to its longest entry. */
export function aligned(rows: [string, string][], indent = ''): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${indent}${k.padEnd(w)}  ${v}`.trimEnd()).join('\n');
}
