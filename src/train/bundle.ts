// A language model in one self-contained .safetensors file ("model bundle"), pure functions
// over Uint8Array so that the browser demo and the CLI share them:
//
//   tensors        the weights by dotted parameter name, F32, exactly as model-<G>.safetensors
//                  of a checkpoint folder holds them (plus state.<l>.h / state.<l>.c when the
//                  carried LSTM state is saved)
//   __metadata__   producer: "flstm"
//                  flstm.config: the trainer's config JSON ({ format: "flstm-lm/1", train,
//                                vocabSize, step, ... }, what config.json holds under "config")
//                  flstm.vocab:  the vocabulary text (one `word count` per line, id = line)
//
// saveCheckpoint writes this metadata into model-<G>.safetensors, so that file alone is a
// bundle: it opens in the browser demo as it is, and `flstm generate --checkpoint FILE` (or
// loadCheckpoint(FILE)) reads a bundle the page saved. A model file of an older checkpoint
// (no metadata) is read together with the folder's config.json and vocab-<G>.txt
// (checkpointFromFiles).
import { decodeSafetensors, encodeSafetensors, jsonProblem, type DecodedSafetensors, type SafeTensorInput } from './safetensors.js';

export const BUNDLE_CONFIG_KEY = 'flstm.config';
export const BUNDLE_VOCAB_KEY = 'flstm.vocab';

/** Weights by name (as Module.stateDict gives them). */
export type BundleTensors = Record<string, { shape: number[]; data: Float32Array }>;

export interface ModelBundle<C = unknown> {
  model: BundleTensors;
  /** The trainer's config ({ format: 'flstm-lm/1', train, vocabSize, step, ... }). */
  config: C;
  /** The vocabulary text; absent when the file carries none. */
  vocab?: string;
}

export class BundleError extends Error {
  constructor(message: string) {
    super(message.startsWith('flstm') ? message : `flstm: ${message}`);
    this.name = 'BundleError';
  }
}

/** The __metadata__ entries that make a model file self-contained. */
export function bundleMetadata(config: unknown, vocab?: string): Record<string, string> {
  const m: Record<string, string> = { producer: 'flstm', [BUNDLE_CONFIG_KEY]: JSON.stringify(config) };
  if (vocab !== undefined) m[BUNDLE_VOCAB_KEY] = vocab;
  return m;
}

/** Encodes weights, config and vocabulary as one .safetensors file. */
export function encodeModelBundle(b: ModelBundle): Uint8Array {
  const tensors: Record<string, SafeTensorInput> = {};
  for (const [name, t] of Object.entries(b.model)) tensors[name] = { dtype: 'F32', shape: t.shape, data: t.data };
  return encodeSafetensors(tensors, bundleMetadata(b.config, b.vocab));
}

/** The F32 weights of a .safetensors file, its bytes or decoded (an error names any other dtype). */
function weightsOf(file: Uint8Array | DecodedSafetensors, source: string): { model: BundleTensors; metadata: Record<string, string> } {
  const d = file instanceof Uint8Array ? decodeSafetensors(file, source) : file;
  const model: BundleTensors = {};
  for (const [name, t] of Object.entries(d.tensors)) {
    if (t.dtype !== 'F32') throw new BundleError(`${source}: weight '${name}' is ${t.dtype}; weights must be F32`);
    model[name] = { shape: t.shape, data: t.data as Float32Array };
  }
  return { model, metadata: d.metadata };
}

/** Whether a decoded file's metadata makes it a bundle (it names its config). */
export function isModelBundle(metadata: Record<string, string>): boolean {
  return typeof metadata[BUNDLE_CONFIG_KEY] === 'string';
}

/**
 * Decodes a bundle. A plain weights file (no flstm.config metadata) is refused with a message
 * that says which other files to give; `source` (a file name) prefixes every message.
 */
export function decodeModelBundle<C = unknown>(file: Uint8Array | DecodedSafetensors, source = 'model file'): ModelBundle<C> {
  const { model, metadata } = weightsOf(file, source);
  return { model, ...bundleOfMetadata<C>(metadata, source) };
}

/** A bundle's config and vocabulary from its file's metadata (a file opened, its weights not read yet). */
export function bundleOfMetadata<C = unknown>(metadata: Record<string, string>, source = 'model file'): Omit<ModelBundle<C>, 'model'> {
  if (!isModelBundle(metadata)) {
    throw new BundleError(
      `${source} holds weights only (no ${BUNDLE_CONFIG_KEY} metadata): it is the model file of an older checkpoint folder; ` +
        "give it together with that folder's config.json and vocab-<G>.txt",
    );
  }
  let config: C;
  try {
    config = JSON.parse(metadata[BUNDLE_CONFIG_KEY]!) as C;
  } catch (e) {
    throw new BundleError(`${source}: metadata ${BUNDLE_CONFIG_KEY} is not valid JSON (${jsonProblem(e)})`);
  }
  const out: Omit<ModelBundle<C>, 'model'> = { config };
  if (typeof metadata[BUNDLE_VOCAB_KEY] === 'string') out.vocab = metadata[BUNDLE_VOCAB_KEY];
  return out;
}

/**
 * A bundle from the files of a checkpoint folder: config.json (the manifest saveCheckpoint
 * writes: { format: 'flstm-checkpoint', files, config }), the model file it names and the
 * vocabulary file. The manifest's config wins over a config in the model file's metadata.
 */
export function checkpointFromFiles<C = unknown>(files: {
  configJson: string;
  model: Uint8Array;
  vocab?: string;
  modelName?: string;
}): ModelBundle<C> {
  let manifest: unknown;
  try {
    manifest = JSON.parse(files.configJson);
  } catch (e) {
    throw new BundleError(`config.json is not valid JSON (${jsonProblem(e)})`);
  }
  const m = manifest as { format?: unknown; config?: unknown; files?: { model?: unknown; vocab?: unknown } };
  if (m === null || typeof m !== 'object' || m.format !== 'flstm-checkpoint' || m.config === undefined) {
    throw new BundleError('config.json is not the manifest of a flstm checkpoint folder (no "format": "flstm-checkpoint" with a "config")');
  }
  const source = files.modelName ?? (typeof m.files?.model === 'string' ? m.files.model : 'the model file');
  const { model, metadata } = weightsOf(files.model, source);
  const vocab = files.vocab ?? (typeof metadata[BUNDLE_VOCAB_KEY] === 'string' ? metadata[BUNDLE_VOCAB_KEY] : undefined);
  return vocab === undefined ? { model, config: m.config as C } : { model, config: m.config as C, vocab };
}
