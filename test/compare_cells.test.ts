// `flstm compare --cells`: a cell that cannot be trained with the other options is refused
// before anything trains (exit 2), in the words the user typed (glstm:2+4+8 in --cells, never
// the --groups or --factor the cell becomes inside), saying what is expected.
import { describe, expect, it } from 'vitest';
import { runCli, useBuiltCli } from './cli_helpers.js';

useBuiltCli();

function refused(...args: string[]): string {
  const r = runCli(['compare', '--steps', '3', '--out', '/nonexistent/compare', ...args]);
  expect(r.status, r.stdout + r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const message = r.stderr.trim();
  expect(message.split('\n')).toHaveLength(1);
  expect(message).not.toMatch(/--groups|--factor/);
  return message;
}

describe('flstm compare --cells: a cell that does not fit is named as typed', () => {
  it('too many or too few group counts for the layers', () => {
    expect(refused('--cells', 'lstm,glstm:2+4+8')).toBe(
      "flstm compare: --cells: 'glstm:2+4+8' gives 3 group counts for 2 layers (--layers 2): give one for every layer (glstm:K) or one per layer (glstm:K1+K2)",
    );
    expect(refused('--cells', 'glstm:2+4', '--layers', '3')).toMatch(/^flstm compare: --cells: 'glstm:2\+4' gives 2 group counts for 3 layers \(--layers 3\): .*\(glstm:K1\+K2\+K3\)$/);
  });

  it('a zero size, groups that do not divide the layer sizes, a factor that saves nothing', () => {
    expect(refused('--cells', 'glstm:0')).toBe("flstm compare: --cells: 'glstm:0': each group count must be a positive integer");
    expect(refused('--cells', 'flstm:0')).toBe("flstm compare: --cells: 'flstm:0': the factor r must be a positive integer");
    expect(refused('--cells', 'glstm:3')).toMatch(/^flstm compare: --cells: 'glstm:3' does not fit the other options: layer 1: glstm groups k=3 must divide the layer's input, projection and hidden sizes/);
    expect(refused('--cells', 'flstm:100000')).toMatch(/^flstm compare: --cells: 'flstm:100000' gives the F-LSTM layers [\d.]+M parameters, .*a factorization saves parameters only for a smaller factor/);
  });

  it('an error of the shared options speaks of those options, not of a cell', () => {
    expect(refused('--cells', 'glstm:4', '--hidden', '0')).toBe("flstm compare: --hidden must be a positive integer, got '0'");
  });
});
