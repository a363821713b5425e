// What the trainer asks of the ranks of a distributed run beyond a step: that they start alike
// (same flstm, options, vocabulary and data), and each its own streams of a carried state.
import { createHash } from 'node:crypto';
import { noGrad } from '../autograd.js';
import { sliceRows } from '../ops/rows.js';
import type { LSTMState } from '../nn/lstm.js';
import type { Corpus } from '../data/types.js';
import { configDifferences, type TrainConfig } from '../train/config.js';
import { disposeState } from '../train/step.js';
import { checkAgreement, type World } from './world.js';
import pkg from '../../package.json';

/** This rank's rows of a carried state of the global batch's streams (the others' are disposed). */
export function ownStreams(state: LSTMState[] | undefined, world: World, batch: number): LSTMState[] | undefined {
  if (!state || world.size === 1) return state;
  const from = world.rank * batch;
  const mine = noGrad(() =>
    state.map((s) => ({ h: sliceRows(s.h, from, from + batch).keep(), c: sliceRows(s.c, from, from + batch).keep() })),
  );
  disposeState(state);
  return mine;
}

function digest(text: string | Int32Array): string {
  const h = createHash('sha256');
  h.update(typeof text === 'string' ? text : new Uint8Array(text.buffer, text.byteOffset, text.byteLength));
  return h.digest('hex').slice(0, 16);
}

/**
 * Refuses a run whose ranks would not train one model: another flstm, other options, another
 * vocabulary or other training data on some rank. The message names the rank and what differs.
 */
export function checkRanksAgree(world: World, cfg: TrainConfig, corpus: Corpus): void {
  if (world.size === 1) return;
  checkAgreement(world, 'the version of flstm', pkg.version);
  checkAgreement(world, 'the options', JSON.stringify(cfg), (a, b, rank) =>
    configDifferences(JSON.parse(a), JSON.parse(b), new Set(), ['on rank 0', `on rank ${rank}`]).join('; '),
  );
  checkAgreement(world, 'the vocabulary', `${corpus.vocab.size} words (digest ${digest(corpus.vocab.toText())})`);
  const train = corpus.splits.train;
  if (train.kind === 'array') checkAgreement(world, 'the training data', `${train.tokens.length} tokens (digest ${digest(train.tokens)})`);
}
