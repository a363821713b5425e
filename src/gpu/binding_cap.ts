// A cap on the bytes one storage binding may hold, below the adapter's own limit: planning
// (which tables are stored as row shards, what the pool refuses) then behaves as on an adapter
// with that limit, so small models exercise the sharded paths in tests and CI. Given by
// `fl.init({ maxBindingBytes })` or, for the CLI and the library alike, the environment
// variable FLSTM_MAX_BINDING_BYTES (the option wins).
import { env } from './platform.js';

export const BINDING_CAP_ENV = 'FLSTM_MAX_BINDING_BYTES';

/** The smallest cap accepted: a binding must still hold a few rows of any table. */
export const MIN_BINDING_CAP = 1024;

const UNITS: Record<string, number> = { '': 1, B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** Bytes from 65536, '65536', '64KiB', '128MiB' or '2GiB'; throws naming `source` when not. */
export function parseBindingCap(value: number | string, source: string): number {
  const m = typeof value === 'number' ? null : /^\s*(\d+)\s*(B|KiB|MiB|GiB)?\s*$/.exec(value);
  const bytes = typeof value === 'number' ? value : m ? Number(m[1]) * UNITS[m[2] ?? ''] : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < MIN_BINDING_CAP || bytes % 4 !== 0) {
    throw new Error(
      `flstm: ${source} must be a whole number of bytes (or KiB, MiB, GiB), a multiple of 4 and at least ${MIN_BINDING_CAP}, got ${JSON.stringify(value)}`,
    );
  }
  return bytes;
}

/** The cap asked for (the option, else the environment variable), or undefined: none. */
export function requestedBindingCap(option: number | undefined): number | undefined {
  if (option !== undefined) return parseBindingCap(option, 'fl.init({ maxBindingBytes })');
  const fromEnv = env(BINDING_CAP_ENV);
  if (fromEnv === undefined || fromEnv === '') return undefined;
  return parseBindingCap(fromEnv, BINDING_CAP_ENV);
}
