// Every numeric option of every command, given a bad value (negative, zero, not a number,
// fractional) as a user types it ("--hidden -5"): one usage error naming the flag, the value
// and what it takes, raised before the command opens the GPU or writes anything.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS } from '../src/cli/commands.js';
import { parseCommandLine, UsageError, type OptionSpec } from '../src/cli/args.js';
import { runCli, useBuiltCli } from './cli-helpers.js';

useBuiltCli();

const BAD_VALUES = ['-5', '0', 'abc', '1.5', '-0.5'];

const refuses = (o: OptionSpec, raw: string) => {
  const v = o.reader!.read(raw);
  return v !== null && typeof v === 'object' && 'expected' in v;
};
/** Options whose value is a number (or numbers): their reader makes one of '1' or '0.5'. */
const isNumeric = (o: OptionSpec) =>
  !!o.reader && ['1', '0.5'].some((raw) => [o.reader!.read(raw)].flat().every((v) => typeof v === 'number'));

const dir = mkdtempSync(join(tmpdir(), 'flstm-options-'));
const tiny = join(dir, 'train.txt');
writeFileSync(tiny, 'a b c d e f g h\n'.repeat(50));

/** What a command needs besides the option under test to reach it (and to do little if it took a bad value). */
function baseArgs(cmd: string, option: string): string[] {
  const cell =
    option === 'factor'
      ? ['--cell', 'flstm', '--factor', '2']
      : option === 'groups'
        ? ['--cell', 'glstm', '--groups', '2']
        : ['--cell', 'lstm'];
  const small = [
    '--hidden',
    '8',
    '--emb',
    '8',
    '--proj',
    '0',
    '--eval-every',
    '1',
    '--data',
    `text:${tiny}`,
    '--sampled',
    '0',
    '--out',
    join(dir, `${cmd}-${option}`),
  ];
  switch (cmd) {
    case 'params':
      return [...cell, '--layers', '2', '--hidden', '8', '--emb', '8'];
    case 'train':
      return [...cell, ...small, '--steps', '1', '--dry-run'];
    case 'compare':
      return ['--cells', 'lstm', ...small, '--steps', '1'];
    case 'eval':
    case 'generate':
      return ['--checkpoint', join(dir, 'none')];
    default:
      return [];
  }
}

describe('numeric option values', () => {
  const cases = COMMANDS.flatMap((c) => c.options.filter(isNumeric).map((o) => ({ c, o })));

  it('walks the numeric options of every command that has some', () => {
    const names = new Set(cases.map(({ c }) => c.name));
    for (const cmd of ['params', 'data', 'train', 'eval', 'generate', 'compare', 'bench']) expect(names).toContain(cmd);
    expect(cases.length).toBeGreaterThan(60);
  });

  it('a negative or non-numeric value is refused by every numeric option', () => {
    for (const { c, o } of cases)
      for (const raw of ['-5', '-0.5', 'abc', '']) expect(refuses(o, raw), `${c.name} --${o.name} ${raw}`).toBe(true);
  });

  it('each bad value is one usage error naming the flag, the value and what it takes, before anything runs', async () => {
    let checked = 0;
    for (const { c, o } of cases) {
      for (const raw of BAD_VALUES.filter((r) => refuses(o, r))) {
        const { values, positionals } = parseCommandLine(c, [...baseArgs(c.name, o.name), `--${o.name}`, raw]);
        const err = await c.run(values, positionals).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err, `${c.name} --${o.name} ${raw}`).toBeInstanceOf(UsageError);
        expect((err as Error).message, `${c.name} --${o.name} ${raw}`).toMatch(
          new RegExp(`^flstm ${c.name}: --${o.name} must be .+, got '${raw.replace('.', '\\.')}'$`),
        );
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(150);
  }, 120_000);

  it('the CLI exits 2 with one line for a negative size, rate or step count and a vocabulary too small', () => {
    const cases: [string[], string][] = [
      [['train', '--hidden', '-5'], "flstm train: --hidden must be a positive integer, got '-5'"],
      [['train', '--lr', '-1'], "flstm train: --lr must be a positive number, got '-1'"],
      [['train', '--steps', '-3'], "flstm train: --steps must be a positive integer, got '-3'"],
      [['train', '--vocab-size', '1'], "flstm train: --vocab-size must be an integer of at least 2 (<unk> and one word), got '1'"],
      [
        ['data', '--data', `text:${tiny}`, '--vocab-size', '2'],
        'flstm data: --vocab-size must be at least 3 for a text: corpus (<unk>, <eos> and one word), got 2',
      ],
    ];
    for (const [args, message] of cases) {
      const r = runCli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim()).toBe(message);
    }
  }, 120_000);
});
