// `flstm bench`: the benchmark suite (kernels beside TensorFlow.js, training steps per cell),
// a bundle of its own (dist/bench/suite.js, made by npm run build), loaded only here.
import { ADAPTER_OPTION, HELP_OPTION, UsageError } from './args.js';
import { choice, number, readOption, text } from '../options/declare.js';
import type { Command } from './command.js';

const SUITE = {
  name: 'suite',
  reader: choice(['kernels', 'step', 'all'] as const),
  default: 'all' as const,
  help: 'kernels: ceilings and kernels (matmul beside tfjs); step: training steps per cell, and the LSTM LM beside tfjs-layers; all',
};
const JSON_FILE = { name: 'json', value: 'FILE', reader: text('a file name'), help: 'also write the results as JSON to FILE' };
const OUT = { name: 'out', value: 'DIR', reader: text('a folder'), help: 'results folder', defaultText: 'bench/results' };
const SECONDS = {
  name: 'seconds',
  value: 'S',
  reader: number((x) => x > 0, 'a positive number of seconds'),
  help: 'timing target per kernel',
  defaultText: '1.5; --quick 0.3',
};

export const benchCommand: Command = {
  name: 'bench',
  gpu: true,
  summary: 'benchmark the kernels and LSTM / F-LSTM / G-LSTM training steps, beside TensorFlow.js when installed',
  options: [
    SUITE,
    { name: 'quick', help: 'fewer shapes and steps, shorter timing (about 2 minutes on a software driver)' },
    JSON_FILE,
    { name: 'save', help: 'write bench/results/<adapter>-<date>.json and .svg (default with the full suite)' },
    { name: 'no-save', help: 'do not write them' },
    { name: 'no-tfjs', help: 'do not run TensorFlow.js (an optional devDependency)' },
    OUT,
    SECONDS,
    ADAPTER_OPTION,
    HELP_OPTION,
  ],
  async run(values) {
    const suite = readOption(values, 'bench', SUITE);
    if (values.save && values['no-save']) throw new UsageError('flstm bench: give --save or --no-save, not both');
    const seconds = readOption(values, 'bench', SECONDS);
    const json = readOption(values, 'bench', JSON_FILE);
    const adapter = readOption(values, 'bench', ADAPTER_OPTION) as string | undefined;
    const url = new URL('./bench/suite.js', import.meta.url);
    let mod: { runSuite(o: Record<string, unknown>): Promise<number> };
    try {
      mod = (await import(url.href)) as typeof mod;
    } catch (err) {
      throw new Error(
        `flstm bench: cannot load the benchmark bundle ${url.pathname} (npm run build makes it): ${(err as Error).message.split('\n')[0]}`,
      );
    }
    process.exitCode = await mod.runSuite({
      suite,
      quick: !!values.quick,
      json,
      save: values.save ? true : values['no-save'] ? false : undefined,
      tfjs: !values['no-tfjs'],
      out: readOption(values, 'bench', OUT),
      seconds,
      adapter,
    });
  },
};
