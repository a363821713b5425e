// The optimizer file of a checkpoint folder, optimizer-<G>.safetensors (saveCheckpoint in
// checkpoint.ts writes it): the optimizer's state tensors by `<parameter>.<slot>`, F32 or I32,
// and its scalars (kind, step counters, options) as a JSON object in the metadata entry
// "flstm.scalars". A pure function over the file's bytes, as bundle.ts is, so that the browser
// demo continues a run of `flstm train` with the optimizer state the CLI would resume with.
import { BundleError } from './bundle.js';
import type { JsonValue, OptimizerState } from './checkpoint.js';
import { decodeSafetensors } from './safetensors.js';

/** The metadata entry of the scalars (the one checkpoint.ts writes). */
export const OPTIMIZER_SCALARS_KEY = 'flstm.scalars';

/** The name of a checkpoint folder's optimizer file. */
export const OPTIMIZER_FILE = /^optimizer-(\d+)\.safetensors$/;

/**
 * Decodes an optimizer file into what Optimizer.loadStateDict takes, exactly as
 * loadCheckpoint reads it. `source` (a file name) prefixes every message.
 */
export function decodeOptimizerFile(bytes: Uint8Array, source = 'optimizer file'): OptimizerState {
  const d = decodeSafetensors(bytes, source);
  const tensors: OptimizerState['tensors'] = {};
  for (const [name, t] of Object.entries(d.tensors)) {
    if (t.dtype === 'I64') throw new BundleError(`${source}: optimizer tensor '${name}' is I64; expected F32 or I32`);
    tensors[name] = { shape: t.shape, data: t.data as Float32Array | Int32Array };
  }
  return { tensors, scalars: scalarsOf(d.metadata, source) };
}

function scalarsOf(metadata: Record<string, string>, source: string): Record<string, JsonValue> {
  const raw = metadata[OPTIMIZER_SCALARS_KEY];
  // An optimizer without scalars is refused by loadStateDict, which names what is missing.
  if (raw === undefined) return {};
  let scalars: unknown;
  try {
    scalars = JSON.parse(raw);
  } catch (e) {
    throw new BundleError(`${source}: metadata '${OPTIMIZER_SCALARS_KEY}' is not valid JSON (${(e as Error).message})`);
  }
  if (scalars === null || typeof scalars !== 'object' || Array.isArray(scalars)) {
    throw new BundleError(`${source}: metadata '${OPTIMIZER_SCALARS_KEY}' must be a JSON object, got ${JSON.stringify(scalars)}`);
  }
  return scalars as Record<string, JsonValue>;
}
