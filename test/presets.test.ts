// The named configurations (--preset): the paper's models count the paper's RNN parameters,
// a preset fills in f-lm's recipe under the options given, another cell drops the preset's
// factor or groups, and a resume is checked against the checkpoint as given options are. No GPU.
import { describe, expect, it } from 'vitest';
import { runCli, useBuiltCli } from './cli-helpers.js';
import { PRESETS, withPreset } from '../src/options/presets.js';
import { trainConfigFrom, valuesFromConfig } from '../src/options/train.js';
import { configDifferences } from '../src/train/config.js';
import { UsageError } from '../src/options/declare.js';

useBuiltCli();

describe('presets', () => {
  it("flstm params --preset gives the paper's RNN parameter counts (Table 1: 151.0M, 52.5M, 83.9M, 50.4M, 33.6M)", () => {
    const counts: Record<string, number> = {};
    for (const name of ['biglstm', 'f512', 'g2', 'g4', 'g8']) {
      const r = runCli(['params', '--preset', name, '--json']);
      expect(r.status, r.stderr).toBe(0);
      counts[name] = JSON.parse(r.stdout).total;
    }
    // The exact counts the issue gives, and the paper's rounded ones.
    expect(counts.biglstm).toBe(151_060_480);
    expect(counts.f512).toBe(52_494_336);
    expect(counts.g4).toBe(50_397_184);
    expect((counts.g2 / 1e6).toFixed(1)).toBe('84.0'); // the paper prints 83.9M (truncated)
    expect((counts.g8 / 1e6).toFixed(1)).toBe('33.6');
    const text = runCli(['params', '--preset', 'g4']).stdout;
    expect(text).toMatch(/^preset +g4: the paper's G-LSTM, 4 groups/m);
    expect(text).toMatch(
      /^sets +--cell glstm --groups 4 --layers 2 --hidden 8192 --proj 1024 --emb 1024 --batch 128 --bptt 20 --sampled 8192 /m,
    );
  });

  it("a preset gives f-lm's recipe; options given override it", () => {
    const cfg = trainConfigFrom({ preset: 'biglstm' });
    expect(cfg.model).toMatchObject({ cell: 'lstm', layers: 2, hidden: 8192, proj: 1024, emb: 1024, dropout: 0.1 });
    expect(cfg).toMatchObject({ batch: 128, bptt: 20, sampled: 8192, optimizer: 'adagrad', lr: 0.2, clip: 1, ema: 0.999 });
    const mine = trainConfigFrom({ preset: 'mini', batch: '8', ema: '0', lr: '0.1' });
    expect(mine).toMatchObject({ batch: 8, lr: 0.1, sampled: 8192 });
    expect(mine.ema).toBeUndefined(); // --ema 0: no average, as a configuration without the field
    expect(mine.model).toMatchObject({ hidden: 1024, proj: 256, emb: 256 });
  });

  it("another --cell than the preset's drops the preset's factor or groups", () => {
    const f = trainConfigFrom({ preset: 'g4', cell: 'flstm', factor: '256' });
    expect(f.model).toMatchObject({ cell: 'flstm', factor: 256, hidden: 8192 });
    expect(f.model.groups).toBeUndefined();
    expect(() => trainConfigFrom({ preset: 'g4', cell: 'flstm' })).toThrow(/--factor R is required|--factor/);
    expect(trainConfigFrom({ preset: 'g4', groups: '8' }).model.groups).toBe(8);
  });

  it('an unknown preset is one usage error naming the presets', () => {
    expect(() => withPreset({ preset: 'g3' }, 'train')).toThrow(UsageError);
    expect(() => withPreset({ preset: 'g3' }, 'train')).toThrow(`must be one of ${PRESETS.map((p) => p.name).join(', ')}`);
    const r = runCli(['train', '--preset', 'huge', '--steps', '1']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--preset.*'huge'|--preset.*huge/);
  });

  it('a resume needs no preset (the checkpoint holds the options it became); another one is named as differences', () => {
    const saved = trainConfigFrom({ preset: 'g4' });
    // What a resume without --preset reads: the checkpoint's configuration as options.
    expect(trainConfigFrom(valuesFromConfig(saved))).toEqual(saved);
    const other = trainConfigFrom({ ...valuesFromConfig(saved), ...withPreset({ preset: 'g8' }, 'train') });
    expect(configDifferences(saved, other)).toEqual(['--groups 4 in the checkpoint, 8 now']);
  });

  it('the help lists the presets', () => {
    const help = runCli(['train', '--help']).stdout;
    expect(help).toMatch(/--preset NAME +a named configuration: biglstm, f512, g2, g4, g8, g16, lstm2048, mini/);
    expect(help).toMatch(/--ema D +keep a moving average of the LSTM weights/);
  });
});
