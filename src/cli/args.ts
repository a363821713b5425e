// Command-line options declared once: each OptionSpec gives the parser its entry (node's
// util.parseArgs, strict, so an unknown flag is one clear error), the usage line and the help
// row, so the three cannot drift apart. Values are checked by the helpers below, each error
// naming the flag, the value and what it takes.
import type { ParseArgsConfig } from 'node:util';

/** A mistake in the command line: exit code 2. */
export class UsageError extends Error {}

export type Values = Record<string, string | boolean | undefined>;

export interface OptionSpec {
  name: string;
  /** The value's placeholder (e.g. 'N', 'SPEC'); absent: a boolean flag. */
  value?: string;
  help: string;
  short?: string;
  /** Shown without brackets in the usage line. */
  required?: boolean;
}

export const JSON_OPTION: OptionSpec = { name: 'json', help: 'print JSON lines instead of the readable form' };
export const HELP_OPTION: OptionSpec = { name: 'help', short: 'h', help: 'print this help' };
export const ADAPTER_OPTION: OptionSpec = { name: 'adapter', value: 'NAME|ICD.json', help: 'use the adapter whose description contains NAME, or the Vulkan driver in ICD.json' };
/** What every command that opens the GPU takes. */
export const DEVICE_OPTIONS: OptionSpec[] = [JSON_OPTION, ADAPTER_OPTION, HELP_OPTION];

export function parserOptions(specs: readonly OptionSpec[]): NonNullable<ParseArgsConfig['options']> {
  const out: NonNullable<ParseArgsConfig['options']> = {};
  for (const s of specs) out[s.name] = { type: s.value ? 'string' : 'boolean', ...(s.short ? { short: s.short } : {}) };
  return out;
}

function flagText(s: OptionSpec): string {
  return `${s.short ? `-${s.short}, ` : ''}--${s.name}${s.value ? ` ${s.value}` : ''}`;
}

/** "--checkpoint DIR [--split valid|test] ..." (help is left out: every command has it). */
export function usageLine(specs: readonly OptionSpec[]): string {
  return specs
    .filter((s) => s.name !== 'help')
    .map((s) => {
      const t = `--${s.name}${s.value ? ` ${s.value}` : ''}`;
      return s.required ? t : `[${t}]`;
    })
    .join(' ');
}

export function helpRows(specs: readonly OptionSpec[]): [string, string][] {
  return specs.map((s) => [flagText(s), s.help]);
}

/** A non-empty string option, or undefined when absent. */
export function stringOption(values: Values, cmd: string, name: string, opts: { required?: boolean; what?: string } = {}): string | undefined {
  const raw = values[name];
  if (raw === undefined) {
    if (opts.required) throw new UsageError(`flstm ${cmd}: --${name} ${opts.what ?? 'VALUE'} is required`);
    return undefined;
  }
  if (String(raw).trim() === '') throw new UsageError(`flstm ${cmd}: --${name} needs a non-empty value${opts.what ? ` (${opts.what})` : ''}`);
  return String(raw);
}

/** A positive integer option (or, with allowZero, 0), or undefined when absent. */
export function intOption(values: Values, cmd: string, name: string, opts: { required?: boolean; allowZero?: boolean } = {}): number | undefined {
  const raw = values[name];
  if (raw === undefined) {
    if (opts.required) throw new UsageError(`flstm ${cmd}: --${name} is required`);
    return undefined;
  }
  const s = String(raw).trim().replace(/_/g, '');
  const v = /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(v) || (v === 0 && !opts.allowZero)) {
    throw new UsageError(`flstm ${cmd}: --${name} must be a ${opts.allowZero ? 'non-negative' : 'positive'} integer, got '${String(raw)}'`);
  }
  return v;
}

/** A number option checked by `check` (`what` says what it takes), or `def` when absent. */
export function numOption(values: Values, cmd: string, name: string, def: number, check: (v: number) => boolean, what: string): number;
export function numOption(values: Values, cmd: string, name: string, def: undefined, check: (v: number) => boolean, what: string): number | undefined;
export function numOption(values: Values, cmd: string, name: string, def: number | undefined, check: (v: number) => boolean, what: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return def;
  const v = Number(raw);
  if (String(raw).trim() === '' || !Number.isFinite(v) || !check(v)) throw new UsageError(`flstm ${cmd}: --${name} must be ${what}, got '${String(raw)}'`);
  return v;
}

/** "90s", "10m", "2h", "1h30m" or plain seconds. */
export function parseDuration(raw: string, cmd: string, name = 'time'): number {
  const s = raw.trim();
  if (/^\d+(\.\d+)?$/.test(s) && Number(s) > 0) return Number(s);
  let total = 0;
  let consumed = '';
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)) {
    total += Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
    consumed += m[0];
  }
  if (!consumed || consumed !== s || total <= 0) throw new UsageError(`flstm ${cmd}: --${name} must be a duration such as 90s, 10m, 2h or 1h30m, got '${raw}'`);
  return total;
}

/** Two columns, the first padded to its longest entry. */
export function aligned(rows: [string, string][], indent = ''): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${indent}${k.padEnd(w)}  ${v}`.trimEnd()).join('\n');
}
