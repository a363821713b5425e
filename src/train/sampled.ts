// How many samples the sampled softmax of a new run takes. A count given by the user that does
// not fit the vocabulary is refused; the default (512, or a preset's) is a choice made for
// large vocabularies, so on a small one the run takes the full softmax instead, and the
// checkpoint stores the 0 it trained with (a resume continues exactly).

/** Sampled softmax needs fewer samples than words: one message that says what to do. */
export function checkSampled(sampled: number, data: string, vocabSize: number): void {
  if (sampled > 0 && sampled >= vocabSize) {
    throw new Error(
      `flstm: --sampled ${sampled} needs a vocabulary of more than ${sampled} words; ${data} has ${vocabSize}: use fewer samples or --sampled 0 (the full softmax)`,
    );
  }
}

/**
 * The samples a new run trains with: `sampled`, or, when it is a default (`isDefault`) and the
 * vocabulary has that many words or fewer, 0 (the full softmax).
 */
export function sampledFor(sampled: number, vocabSize: number, isDefault: boolean): number {
  return isDefault && sampled >= vocabSize ? 0 : sampled;
}
