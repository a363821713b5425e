// `flstm bench`: the benchmark suite (kernels beside TensorFlow.js, training steps per cell),
// a bundle of its own (dist/bench/suite.js, made by npm run build), loaded only here.
import { ADAPTER_OPTION, HELP_OPTION, numOption, stringOption, UsageError } from './args.js';
import type { Command } from './command.js';

export const benchCommand: Command = {
  name: 'bench', gpu: true,
  summary: 'benchmark the kernels and LSTM / F-LSTM / G-LSTM training steps, beside TensorFlow.js when installed',
  options: [
    { name: 'suite', value: 'kernels|step|all', help: 'kernels: ceilings and kernels (matmul beside tfjs); step: training steps per cell, and the LSTM LM beside tfjs-layers; all (default)' },
    { name: 'quick', help: 'fewer shapes and steps, shorter timing (about 2 minutes on a software driver)' },
    { name: 'json', value: 'FILE', help: 'also write the results as JSON to FILE' },
    { name: 'save', help: 'write bench/results/<adapter>-<date>.json and .svg (default with the full suite)' },
    { name: 'no-save', help: 'do not write them' },
    { name: 'no-tfjs', help: 'do not run TensorFlow.js (an optional devDependency)' },
    { name: 'out', value: 'DIR', help: 'results folder (default bench/results)' },
    { name: 'seconds', value: 'S', help: 'timing target per kernel (default 1.5; --quick 0.3)' },
    ADAPTER_OPTION,
    HELP_OPTION,
  ],
  async run(values) {
    const suite = (values.suite as string | undefined) ?? 'all';
    if (!['kernels', 'step', 'all'].includes(suite)) throw new UsageError(`flstm bench: --suite must be kernels, step or all, got '${suite}'`);
    if (values.save && values['no-save']) throw new UsageError('flstm bench: give --save or --no-save, not both');
    const seconds = numOption(values, 'bench', 'seconds', undefined, (x) => x > 0, 'a positive number of seconds');
    const json = stringOption(values, 'bench', 'json', { what: 'a file name' });
    const adapter = stringOption(values, 'bench', 'adapter');
    const url = new URL('./bench/suite.js', import.meta.url);
    let mod: { runSuite(o: Record<string, unknown>): Promise<number> };
    try {
      mod = (await import(url.href)) as typeof mod;
    } catch (err) {
      throw new Error(`flstm bench: cannot load the benchmark bundle ${url.pathname} (npm run build makes it): ${(err as Error).message.split('\n')[0]}`);
    }
    process.exitCode = await mod.runSuite({
      suite, quick: !!values.quick, json, save: values.save ? true : values['no-save'] ? false : undefined,
      tfjs: !values['no-tfjs'], out: values.out as string | undefined, seconds, adapter,
    });
  },
};
