// The options declared once (src/options/): the defaults help shows are the ones a run takes,
// a configuration read back as options gives the same configuration, and every reader's
// error names the flag, the value and what it takes.
import { describe, expect, it } from 'vitest';
import { choice, count, duration, helpText, number, positiveInt, readOption, UsageError } from '../src/options/declare.js';
import { CONFIG_OPTIONS, DEFAULT_LR, defaultTrainConfig, OPTION_NAMES, trainConfigFrom, valuesFromConfig } from '../src/options/train.js';
import { configDifferences } from '../src/train/config.js';

const fieldOf = (cfg: Record<string, any>, field: string) => field.split('.').reduce((o, k) => o?.[k], cfg);

describe('training options', () => {
  it('the defaults in the declarations are the values of a run given no options', () => {
    const cfg = trainConfigFrom({});
    let checked = 0;
    for (const o of CONFIG_OPTIONS) {
      if (o.default === undefined || o.name === 'precision') continue; // auto is settled by the adapter
      expect(fieldOf(cfg, o.field!), `--${o.name}`).toEqual(o.default);
      expect(helpText(o), `--${o.name}`).toMatch(
        new RegExp(`default ${String(o.reader!.text(o.default)).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`),
      );
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(12);
    expect(cfg.lr).toBe(DEFAULT_LR.adagrad);
    expect(trainConfigFrom({ optimizer: 'adam' }).lr).toBe(DEFAULT_LR.adam);
  });

  it('a configuration read back as options gives the same configuration (a resume starts from it)', () => {
    const configs = [
      trainConfigFrom({}),
      trainConfigFrom({
        cell: 'flstm',
        factor: '16',
        proj: '0',
        optimizer: 'sgd',
        'vocab-size': '900',
        'eval-every': '5',
        patience: '2',
        'lr-decay': '0.5',
      }),
      trainConfigFrom({
        cell: 'glstm',
        groups: '2,4',
        precision: 'f16',
        data: 'text:a.txt',
        vocab: 'v.txt',
        'min-count': '2',
        'eval-every': '3',
        'eval-tokens': '100',
      }),
      defaultTrainConfig({ model: { cell: 'lstm', layers: 1, emb: 8, hidden: 16, proj: 8, dropout: 0 }, sampled: 0, batch: 4 }),
    ];
    for (const cfg of configs) expect(trainConfigFrom(valuesFromConfig(cfg))).toEqual(cfg);
  });

  it("--ema averages with TensorFlow's warm-up unless --ema-schedule fixed; a configuration from before the schedule resumes with the fixed decay", () => {
    expect(trainConfigFrom({ ema: '0.999' })).toMatchObject({ ema: 0.999, emaSchedule: 'warmup' });
    expect(trainConfigFrom({ preset: 'mini' })).toMatchObject({ ema: 0.999, emaSchedule: 'warmup' });
    expect(trainConfigFrom({ ema: '0.999', 'ema-schedule': 'fixed' })).toMatchObject({ ema: 0.999, emaSchedule: 'fixed' });
    const none = trainConfigFrom({});
    expect('ema' in none || 'emaSchedule' in none).toBe(false);
    expect(() => trainConfigFrom({ 'ema-schedule': 'fixed' })).toThrow(/^flstm train: --ema-schedule fixed needs --ema D/);
    expect(() => trainConfigFrom({ ema: '0', 'ema-schedule': 'warmup' })).toThrow(UsageError);
    expect(() => trainConfigFrom({ ema: '0.9', 'ema-schedule': 'tf' })).toThrow(/--ema-schedule must be warmup or fixed, got 'tf'/);
    for (const cfg of [trainConfigFrom({ ema: '0.99' }), trainConfigFrom({ ema: '0.99', 'ema-schedule': 'fixed' })])
      expect(trainConfigFrom(valuesFromConfig(cfg))).toEqual(cfg);
    // Written before the field: the options it gives back name the fixed decay, which is no difference from it.
    const { emaSchedule: _s, ...old } = trainConfigFrom({ ema: '0.999', 'ema-schedule': 'fixed' });
    const resumed = trainConfigFrom(valuesFromConfig(old));
    expect(resumed.emaSchedule).toBe('fixed');
    expect(configDifferences(old, resumed)).toEqual([]);
    expect(configDifferences(old, trainConfigFrom({ ema: '0.999' }))).toEqual(['--ema-schedule "fixed" in the checkpoint, "warmup" now']);
  });

  it('names the flag of every configuration field, and the page presets keep to the cell (no stray factor or groups)', () => {
    expect(OPTION_NAMES['model.hidden']).toBe('--hidden');
    expect(OPTION_NAMES['validation.lrDecay']).toBe('--lr-decay');
    expect(OPTION_NAMES.maxVocab).toBe('--vocab-size');
    expect(Object.keys(OPTION_NAMES)).toHaveLength(CONFIG_OPTIONS.length);
    const lstm = defaultTrainConfig({ model: { cell: 'lstm' } });
    expect(lstm.model.groups).toBeUndefined();
    expect(defaultTrainConfig({ model: { cell: 'flstm', factor: 8 } }).model).toMatchObject({ cell: 'flstm', factor: 8 });
    expect(defaultTrainConfig({ optimizer: 'adam' }).lr).toBe(DEFAULT_LR.adam);
  });
});

describe('option readers', () => {
  const read = (decl: Parameters<typeof readOption>[2], raw: string | undefined) => readOption({ [decl.name]: raw }, 'cmd', decl);
  it('read their values and refuse others naming flag, value and what it takes', () => {
    expect(read({ name: 'n', help: '', reader: positiveInt }, '1_000')).toBe(1000);
    expect(() => read({ name: 'n', help: '', reader: positiveInt }, '0')).toThrow(/^flstm cmd: --n must be a positive integer, got '0'$/);
    expect(read({ name: 'n', help: '', reader: count }, '0')).toBe(0);
    expect(() => read({ name: 'n', help: '', reader: count }, '-1')).toThrow(/--n must be a non-negative integer, got '-1'/);
    expect(read({ name: 't', help: '', reader: duration }, '1h30m')).toBe(5400);
    expect(() => read({ name: 't', help: '', reader: duration }, '5q')).toThrow(/--t must be a duration such as 90s/);
    expect(() => read({ name: 'x', help: '', reader: number((v) => v < 1, 'a number below 1') }, '2')).toThrow(
      /--x must be a number below 1, got '2'/,
    );
    expect(() => read({ name: 'c', help: '', reader: choice(['a', 'b', 'c']) }, 'd')).toThrow(/--c must be a, b or c, got 'd'/);
    expect(read({ name: 'c', help: '', reader: choice(['a', 'b']), default: 'b' }, undefined)).toBe('b');
    expect(() => read({ name: 'c', help: '', reader: choice(['a', 'b']), required: true }, undefined)).toThrow(/--c is required \(a, b\)/);
    expect(() => read({ name: 'n', help: '', reader: positiveInt }, 'x')).toThrow(UsageError);
  });

  it('refuses an F-LSTM factor that gives more parameters than the LSTM it factors, with the counts', () => {
    expect(() => trainConfigFrom({ cell: 'flstm', factor: '1000' })).toThrow(UsageError);
    expect(() => trainConfigFrom({ cell: 'flstm', factor: '1000' })).toThrow(
      /--factor 1000 gives the F-LSTM layers 4\.74M parameters, 4\.0x the 1\.18M of an LSTM of these sizes/,
    );
    // Below the break-even point (about 102 for these sizes) it trains.
    expect(trainConfigFrom({ cell: 'flstm', factor: '100' }).model.factor).toBe(100);
  });
});
