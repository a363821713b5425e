// Test-only hooks into the trainer's checkpoint saves, set by environment variables so that
// tests can reach a `flstm train` process (test/fault-injection.test.ts, disk-faults.test.ts):
//
//   FLSTM_TEST_SAVE_PAUSE_MS=N     each file of a save waits N ms between being written (to its
//                                  temporary file) and being renamed, so a test can kill -9 the
//                                  process in the middle of a save
//   FLSTM_TEST_SAVE_FAULT=CODE@W[/S]
//                                  the W-th file of a save (1 model, 2 optimizer, 3 vocab,
//                                  4 config.json; or a name prefix such as "config.json")
//                                  fails with error CODE (ENOSPC, EACCES...), in every save or
//                                  only in the S-th save of the process (best checkpoints count).
//                                  It fails once its data is in the temporary file, the point a
//                                  full disk fails at, so the save must also remove that file.
//
// Unset (as outside tests), train() passes no hook. They use saveCheckpoint's beforeStep.
import { basename } from 'node:path';
import type { SaveStep } from './checkpoint.js';

export const PAUSE_ENV = 'FLSTM_TEST_SAVE_PAUSE_MS';
export const FAULT_ENV = 'FLSTM_TEST_SAVE_FAULT';

interface Fault {
  code: string;
  /** The file's position in the save (1-based) or its name's start. */
  file: number | string;
  /** Only the save of this number (1-based), or every save. */
  save?: number;
}

export interface SaveFaults {
  pauseMs: number;
  fault?: Fault;
}

function parseFault(text: string): Fault {
  const m = /^(E[A-Z]+)@([^/]+)(?:\/(\d+))?$/.exec(text);
  if (!m) throw new Error(`flstm: ${FAULT_ENV} must be CODE@FILE[/SAVE] (e.g. ENOSPC@2 or EACCES@config.json/2), got '${text}'`);
  const file = /^\d+$/.test(m[2]!) ? Number(m[2]) : m[2]!;
  return { code: m[1]!, file, ...(m[3] !== undefined ? { save: Number(m[3]) } : {}) };
}

/** The hooks the environment asks for, or null (the normal case). */
export function saveFaultsFromEnv(env: NodeJS.ProcessEnv = process.env): SaveFaults | null {
  const pause = env[PAUSE_ENV];
  const fault = env[FAULT_ENV];
  if (!pause && !fault) return null;
  const pauseMs = pause ? Number(pause) : 0;
  if (!Number.isFinite(pauseMs) || pauseMs < 0) throw new Error(`flstm: ${PAUSE_ENV} must be a number of milliseconds, got '${pause}'`);
  return { pauseMs, ...(fault ? { fault: parseFault(fault) } : {}) };
}

function injected(code: string, file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected by ${FAULT_ENV}, write '${file}'`), { code, syscall: 'write', path: file });
}

/** The beforeStep hook of the `save`-th save (1-based) under `f`. */
export function faultHook(f: SaveFaults, save: number): (step: SaveStep) => Promise<void> {
  let written = 0;
  return async ({ action, file }) => {
    if (action === 'write') {
      written++;
      return;
    }
    if (f.pauseMs > 0) await new Promise((r) => setTimeout(r, f.pauseMs));
    const x = f.fault;
    if (!x || (x.save !== undefined && x.save !== save)) return;
    const hit = typeof x.file === 'number' ? x.file === written : basename(file).startsWith(x.file);
    if (hit) throw injected(x.code, file);
  };
}
