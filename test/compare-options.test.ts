// `flstm compare`'s options: a cell of --cells that cannot be trained with the other options is
// refused before anything trains (exit 2), in the words the user typed (glstm:2+4+8 in --cells,
// never the --groups or --factor the cell becomes inside), saying what is expected; the final
// evaluation's tokens by default (the whole splits only for a large budget) and as the table
// says them.
import { describe, expect, it } from 'vitest';
import { finalTokensFor, scoredText } from '../src/cli/compare_final.js';
import { runCli, useBuiltCli } from './cli-helpers.js';

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
    expect(refused('--cells', 'glstm:2+4', '--layers', '3')).toMatch(
      /^flstm compare: --cells: 'glstm:2\+4' gives 2 group counts for 3 layers \(--layers 3\): .*\(glstm:K1\+K2\+K3\)$/,
    );
  });

  it('a zero size, groups that do not divide the layer sizes, a factor that saves nothing', () => {
    expect(refused('--cells', 'glstm:0')).toBe("flstm compare: --cells: 'glstm:0': each group count must be a positive integer");
    expect(refused('--cells', 'flstm:0')).toBe("flstm compare: --cells: 'flstm:0': the factor r must be a positive integer");
    expect(refused('--cells', 'glstm:3')).toMatch(
      /^flstm compare: --cells: 'glstm:3' does not fit the other options: layer 1: glstm groups k=3 must divide the layer's input, projection and hidden sizes/,
    );
    expect(refused('--cells', 'flstm:100000')).toMatch(
      /^flstm compare: --cells: 'flstm:100000' gives the F-LSTM layers [\d.]+M parameters, .*a factorization saves parameters only for a smaller factor/,
    );
  });

  it('an error of the shared options speaks of those options, not of a cell', () => {
    expect(refused('--cells', 'glstm:4', '--hidden', '0')).toBe("flstm compare: --hidden must be a positive integer, got '0'");
  });
});

describe('flstm compare --final-tokens', () => {
  it('defaults to the whole splits only when each cell trains 10 minutes or 5,000 steps or more (both, when both are given)', () => {
    expect(finalTokensFor({}, { steps: 30 })).toBe(20_000);
    expect(finalTokensFor({}, { seconds: 300 })).toBe(20_000); // compare's default budget, 5 minutes
    expect(finalTokensFor({}, { seconds: 1200 })).toBe('all');
    expect(finalTokensFor({}, { steps: 5000 })).toBe('all');
    expect(finalTokensFor({}, { steps: 10_000, seconds: 300 })).toBe(20_000);
    expect(finalTokensFor({ 'final-tokens': 'all' }, { steps: 30 })).toBe('all');
    expect(finalTokensFor({ 'final-tokens': '1_000' }, { seconds: 3600 })).toBe(1000);
    expect(() => finalTokensFor({ 'final-tokens': '0' }, { steps: 30 })).toThrow(
      "flstm compare: --final-tokens must be a positive integer or 'all', got '0'",
    );
  });

  it('the table says which tokens were scored: the first N, the whole splits, or each split when they differ', () => {
    expect(scoredText({ finalTokens: 20_000, validTokens: 20_000, testTokens: 20_000 })).toBe(
      'the first 20,000 tokens of the validation and test splits',
    );
    expect(scoredText({ finalTokens: 'all', validTokens: 199_968, testTokens: 161_152 })).toBe(
      'the whole validation and test splits (199,968 and 161,152 tokens)',
    );
    expect(scoredText({ finalTokens: 20_000, validTokens: 20_000, testTokens: 1_234 })).toBe(
      'the first 20,000 validation tokens and the whole test split (1,234 tokens)',
    );
    expect(scoredText({ finalTokens: 500, validTokens: 500 })).toBe('the first 500 tokens of the validation split');
    expect(scoredText({})).toBe('the whole splits'); // a row written before the counts were kept
  });
});
