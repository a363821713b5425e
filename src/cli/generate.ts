// `flstm generate`: text from a checkpoint, sampled with temperature, top-k and top-p, printed
// as a person reads it (punctuation joined to its word, sentence tokens as line breaks).
import * as fl from '../index.js';
import { detokenize } from '../data/detokenize.js';
import { DEVICE_OPTIONS, intOption, numOption, stringOption } from './args.js';
import { initFrom, type Command } from './command.js';

export const generateCommand: Command = {
  name: 'generate', gpu: true,
  summary: 'sample text from a checkpoint',
  options: [
    { name: 'checkpoint', value: 'DIR|FILE', required: true, help: 'a checkpoint folder (RUN/checkpoint, RUN/best) or a model .safetensors file' },
    { name: 'prompt', value: 'TEXT', help: 'the words to continue (default "The")' },
    { name: 'tokens', value: 'N', help: 'words to generate (default 30)' },
    { name: 'temperature', value: 'T', help: 'softmax temperature; 0 picks the most likely word (default 1)' },
    { name: 'top-k', value: 'K', help: 'sample among the K most likely words only (default: all)' },
    { name: 'top-p', value: 'P', help: 'sample among the most likely words whose probability sums to P (nucleus sampling; default 1: all)' },
    { name: 'seed', value: 'S', help: 'sampling seed (default 1)' },
    ...DEVICE_OPTIONS,
  ],
  async run(values) {
    const dir = stringOption(values, 'generate', 'checkpoint', { required: true, what: 'DIR' })!;
    const options: fl.train.GenerateOptions = {
      tokens: intOption(values, 'generate', 'tokens', { allowZero: true }) ?? 30,
      temperature: numOption(values, 'generate', 'temperature', 1, (x) => x >= 0, 'a number >= 0'),
      topK: intOption(values, 'generate', 'top-k'),
      topP: numOption(values, 'generate', 'top-p', undefined, (x) => x > 0 && x <= 1, 'a number in (0, 1]'),
      seed: intOption(values, 'generate', 'seed', { allowZero: true }) ?? 1,
    };
    const prompt = (values.prompt as string | undefined) ?? 'The';
    await initFrom(values);
    const loaded = await fl.train.loadModel(dir);
    const g = await fl.train.generate(loaded.model, loaded.vocab, prompt, options);
    loaded.model.dispose();
    const text = detokenize([...g.prompt, ...g.words]);
    if (values.json) {
      console.log(JSON.stringify({ prompt: g.prompt, words: g.words, text, unknown: g.unknown }));
      return;
    }
    if (g.unknown.length) {
      const list = g.unknown.map((w) => JSON.stringify(w)).join(', ');
      console.error(`flstm generate: the vocabulary lacks ${list}: the model read ${g.unknown.length > 1 ? 'them' : 'it'} as ${loaded.vocab.unk ?? '<unk>'}`);
    }
    console.log(text);
  },
};
