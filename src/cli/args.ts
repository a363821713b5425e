// Command-line options declared once: each OptionSpec (an OptionDecl, options/declare.ts)
// gives the parser its entry (node's util.parseArgs, strict, so an unknown flag is one clear
// error), the usage line and the help row with its default, so they cannot drift apart; its
// value is read by readOption, each error naming the flag, the value and what it takes.
import type { ParseArgsConfig } from 'node:util';
import { helpText, placeholder, text, UsageError, type OptionDecl, type Values } from '../options/declare.js';

export { UsageError, type Values };

/** A command's option: one declaration (options/declare.ts) gives parser, usage and help. */
export type OptionSpec = OptionDecl<any>;

export const JSON_OPTION: OptionSpec = { name: 'json', help: 'print JSON lines instead of the readable form' };
export const HELP_OPTION: OptionSpec = { name: 'help', short: 'h', help: 'print this help' };
export const ADAPTER_OPTION: OptionSpec = { name: 'adapter', value: 'NAME|ICD.json', reader: text(), help: 'use the adapter whose description contains NAME, or the Vulkan driver in ICD.json' };
/** What every command that opens the GPU takes. */
export const DEVICE_OPTIONS: OptionSpec[] = [JSON_OPTION, ADAPTER_OPTION, HELP_OPTION];

export function parserOptions(specs: readonly OptionSpec[]): NonNullable<ParseArgsConfig['options']> {
  const out: NonNullable<ParseArgsConfig['options']> = {};
  for (const s of specs) out[s.name] = { type: placeholder(s) ? 'string' : 'boolean', ...(s.short ? { short: s.short } : {}) };
  return out;
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
