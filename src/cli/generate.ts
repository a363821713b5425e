// `flstm generate`: text from a checkpoint, sampled with temperature, top-k and top-p, printed
// as a person reads it (punctuation joined to its word, sentence tokens as line breaks).
import * as training from '../train/index.js';
import { detokenize } from '../data/detokenize.js';
import { DEVICE_OPTIONS } from './args.js';
import { anyText, count, number, positiveInt, readOption } from '../options/declare.js';
import { CHECKPOINT, loadedWeightsText, loadModelWith, WEIGHTS } from './evaluate.js';
import { initFrom, type Command } from './command.js';
import { growingText } from './growing_text.js';

const PROMPT = { name: 'prompt', value: 'TEXT', reader: anyText, help: 'the words to continue', default: 'The' };
const TOKENS = { name: 'tokens', value: 'N', reader: count, help: 'words to generate', default: 30 };
const TEMPERATURE = {
  name: 'temperature',
  value: 'T',
  reader: number((x) => x >= 0, 'a number >= 0'),
  help: 'softmax temperature; 0 picks the most likely word',
  default: 1,
};
const TOP_K = { name: 'top-k', value: 'K', reader: positiveInt, help: 'sample among the K most likely words only', defaultText: 'all' };
const TOP_P = {
  name: 'top-p',
  value: 'P',
  reader: number((x) => x > 0 && x <= 1, 'a number in (0, 1]'),
  help: 'sample among the most likely words whose probability sums to P (nucleus sampling)',
  defaultText: '1: all',
};
const SEED = { name: 'seed', value: 'S', reader: count, help: 'sampling seed', default: 1 };

export const generateCommand: Command = {
  name: 'generate',
  gpu: true,
  summary: 'sample text from a checkpoint',
  options: [
    { ...CHECKPOINT, help: 'a checkpoint folder (RUN/checkpoint, RUN/best) or a model .safetensors file' },
    PROMPT,
    TOKENS,
    TEMPERATURE,
    TOP_K,
    TOP_P,
    SEED,
    WEIGHTS,
    ...DEVICE_OPTIONS,
  ],
  async run(values) {
    const dir = readOption(values, 'generate', CHECKPOINT)!;
    const options: training.GenerateOptions = {
      tokens: readOption(values, 'generate', TOKENS),
      temperature: readOption(values, 'generate', TEMPERATURE),
      topK: readOption(values, 'generate', TOP_K),
      topP: readOption(values, 'generate', TOP_P),
      seed: readOption(values, 'generate', SEED),
    };
    const prompt = readOption(values, 'generate', PROMPT);
    readOption(values, 'generate', WEIGHTS); // checked before the GPU opens
    await initFrom(values);
    const loaded = await loadModelWith(values, dir, 'generate');
    // On a terminal or in a log, the words appear as they are drawn, after the notices about the prompt.
    const shown = values.json ? undefined : growingText((s) => process.stdout.write(s));
    if (shown) {
      if (loaded.weights === 'average')
        console.error(`flstm generate: from ${loadedWeightsText(loaded)}; --weights trained uses the last step's`);
      options.onWord = (g) => {
        if (g.words.length === 0) unknownNotice(g.unknown, loaded.vocab.unk);
        shown.show([...g.prompt, ...g.words]);
      };
    }
    const g = await training.generate(loaded.model, loaded.vocab, prompt, options);
    loaded.model.dispose();
    if (shown) process.stdout.write('\n');
    else
      console.log(
        JSON.stringify({
          prompt: g.prompt,
          words: g.words,
          text: detokenize([...g.prompt, ...g.words]),
          unknown: g.unknown,
          weights: loaded.weights,
        }),
      );
  },
};

/** The prompt's words the vocabulary lacks, said on stderr. */
function unknownNotice(unknown: string[], unk: string | undefined): void {
  if (!unknown.length) return;
  const list = unknown.map((w) => JSON.stringify(w)).join(', ');
  console.error(`flstm generate: the vocabulary lacks ${list}: the model read ${unknown.length > 1 ? 'them' : 'it'} as ${unk ?? '<unk>'}`);
}
