// An option declared once: its flag, its value's placeholder, what it does, its default and
// how its text becomes a value. The CLI makes its parser, usage line and help rows from the
// declaration; the training options (options/train.ts) also say where their value lives in a
// run's configuration, so the checkpoint's config.json and the page's presets speak the same
// names. Platform-free: the page imports it too.

/** A mistake in the options (the CLI exits with code 2). */
export class UsageError extends Error {}

/** Option values as the parser returns them: text, true for a flag, undefined when absent. */
export type Values = Record<string, string | boolean | undefined>;

/** Turns an option's text into its value, or returns the words "must be ..." will end with. */
export interface Reader<T> {
  read(raw: string): T | { expected: string };
  /** The value as option text (a checkpoint's configuration as the options that give it back). */
  text(value: T): string;
  /** The placeholder when the declaration gives none (a choice: its values). */
  placeholder?: string;
  /** "--checkpoint DIR is required" rather than "--layers is required". */
  namedWhenMissing?: boolean;
}

export interface OptionDecl<T = unknown> {
  name: string;
  /** The value's placeholder ('N', 'SPEC'); absent with no reader: a boolean flag. */
  value?: string;
  /** What the option does; help rows append the default. */
  help: string;
  short?: string;
  /** Shown without brackets in the usage line; absent, the read is an error. */
  required?: boolean;
  reader?: Reader<T>;
  /** The value when the option is absent. */
  default?: T;
  /** How help describes a default that `default` cannot hold ("the checkpoint's"). */
  defaultText?: string;
}

const expected = (what: string) => ({ expected: what });

function integer(raw: string): number {
  const s = raw.trim().replace(/_/g, '');
  return /^\d+$/.test(s) ? Number(s) : NaN;
}

/** A positive integer (`_` allowed as a digit separator: 1_000_000). */
export const positiveInt: Reader<number> = {
  read: (raw) => {
    const v = integer(raw);
    return Number.isSafeInteger(v) && v > 0 ? v : expected('a positive integer');
  },
  text: String,
};

/** A non-negative integer (0 usually means "none"). */
export const count: Reader<number> = {
  read: (raw) => {
    const v = integer(raw);
    return Number.isSafeInteger(v) ? v : expected('a non-negative integer');
  },
  text: String,
};

/** A finite number that `check` accepts; `what` says which ("a number in [0, 1)"). */
export function number(check: (v: number) => boolean, what: string): Reader<number> {
  return {
    read: (raw) => {
      const v = Number(raw);
      return raw.trim() !== '' && Number.isFinite(v) && check(v) ? v : expected(what);
    },
    text: String,
  };
}

/** One of `choices`; `what` overrides the "a, b or c" wording of the error. */
export function choice<C extends string>(choices: readonly C[], what?: string): Reader<C> {
  const list = `${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`;
  return {
    read: (raw) => ((choices as readonly string[]).includes(raw) ? (raw as C) : expected(what ?? list)),
    text: (v) => v,
    placeholder: choices.join('|'),
  };
}

/** Any non-empty text; `what` names it in the error ("a folder"). */
export function text(what?: string): Reader<string> {
  return {
    read: (raw) => (raw.trim() !== '' ? raw : expected(`a non-empty value${what ? ` (${what})` : ''}`)),
    text: (v) => v,
    namedWhenMissing: true,
  };
}

/** Any text, the empty one included (a prompt, a title). */
export const anyText: Reader<string> = { read: (raw) => raw, text: (v) => v };

/** "90s", "10m", "2h", "1h30m" or plain seconds, as seconds. */
export const duration: Reader<number> = {
  read: (raw) => {
    const s = raw.trim();
    if (/^\d+(\.\d+)?$/.test(s) && Number(s) > 0) return Number(s);
    let total = 0;
    let consumed = '';
    for (const m of s.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)) {
      total += Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
      consumed += m[0];
    }
    return consumed && consumed === s && total > 0 ? total : expected('a duration such as 90s, 10m, 2h or 1h30m');
  },
  text: (v) => `${v}s`,
};

function errorOf(cmd: string, decl: OptionDecl, raw: string, what: string): UsageError {
  // "needs a non-empty value" reads better than "must be a non-empty value".
  if (what.startsWith('a non-empty value')) return new UsageError(`flstm ${cmd}: --${decl.name} needs ${what}`);
  return new UsageError(`flstm ${cmd}: --${decl.name} must be ${what}, got '${raw}'`);
}

/** The option's value: read from its text, else its default; a required one must be given. */
export function readOption<T>(values: Values, cmd: string, decl: OptionDecl<T> & { default: T }): T;
export function readOption<T>(values: Values, cmd: string, decl: OptionDecl<T>): T | undefined;
export function readOption<T>(values: Values, cmd: string, decl: OptionDecl<T>): T | undefined {
  const raw = values[decl.name];
  if (raw === undefined || raw === false) {
    if (decl.required) {
      const named = decl.reader?.namedWhenMissing ? ` ${(placeholder(decl) ?? 'VALUE').split('|')[0]}` : '';
      const choices = decl.reader?.placeholder ? ` (${decl.reader.placeholder.split('|').join(', ')})` : '';
      throw new UsageError(`flstm ${cmd}: --${decl.name}${named} is required${choices}`);
    }
    return decl.default;
  }
  if (!decl.reader) return (raw === true) as T; // a flag
  const v = decl.reader.read(String(raw));
  if (v !== null && typeof v === 'object' && 'expected' in v) throw errorOf(cmd, decl, String(raw), v.expected);
  return v as T;
}

/** The help row's text: what the option does and its default. */
export function helpText(decl: OptionDecl): string {
  const def = decl.defaultText ?? (decl.default !== undefined && decl.reader ? decl.reader.text(decl.default) : undefined);
  if (def === undefined) return decl.help;
  // "(0: none)" and the default share one parenthesis: "(0: none; default 512)".
  return decl.help.endsWith(')') ? `${decl.help.slice(0, -1)}; default ${def})` : `${decl.help} (default ${def})`;
}

/** The placeholder of an option's value (undefined: a flag). */
export function placeholder(decl: OptionDecl): string | undefined {
  return decl.value ?? decl.reader?.placeholder;
}

/** The option as `cmd` takes it when it has no default there (required, or just without one). */
export function withoutDefault<T>(decl: OptionDecl<T>, required = false): OptionDecl<T> {
  const { default: _d, defaultText: _t, ...rest } = decl;
  return required ? { ...rest, required } : rest;
}
