// bench/distributed.ts: data-parallel training (mpirun -np N flstm train) on this machine and,
// as a model, on the paper's GPUs.
//
// 1. Measured: the same small model trained by one process with --batch 2B and by two with
//    --batch B each (mpirun), words/s side by side, and the two-process step split into the
//    GPU's compute, the read-back of the gradients, MPI's all-reduce and gathers, and the upload
//    (the progress events' `exchange`).
// 2. A model of the traffic per step for the biglstm, f512 and g4 presets on 4 and 8 GPUs: the
//    dense gradients (the LSTM weights) and the sampled softmax's sample rows read back and
//    uploaded over PCIe and all-reduced over the network (a ring sends 2(N-1)/N of them per
//    GPU), and the rows of each rank's own words gathered from every rank, beside the step
//    time of f-lm's words/s on 4 V100s. A model, not a measurement: no GPU cluster here.
//
//   node dist/bench/distributed.js [--steps N] [--json FILE]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PRESETS } from '../src/options/presets.js';
import { trainConfigFrom } from '../src/options/train.js';
import { allReducedBytes } from '../src/distributed/data_parallel.js';
import { table } from './util.js';
import { trainEvents } from './mpi.js';

const USAGE = `usage: node dist/bench/distributed.js [--steps N] [--json FILE]
  --steps N    steps per run, the first 10 not timed (default 60)
  --json FILE  also write the results as JSON`;

/** f-lm's words/s on 4 V100s (its README). */
const F_LM_WORDS_PER_SEC: Record<string, number> = { biglstm: 33_800, f512: 56_500, g4: 56_000 };
const PCIE_BYTES_PER_S = 25e9; // PCIe 4.0 x16, what a read-back or an upload gets in practice
const LINKS: [string, number][] = [
  ['100 Gb/s', 12.5e9],
  ['400 Gb/s', 50e9],
];
const UNTIMED = 10;

interface Progress {
  step: number;
  wordsPerSec: number;
  exchange?: { readSeconds: number; reduceSeconds: number; uploadSeconds: number; denseBytes: number; sparseBytes: number } | null;
}

function corpus(dir: string): string {
  let seed = 1;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const line = () => Array.from({ length: 5 + Math.floor(next() * 15) }, () => `w${Math.floor(2000 * next() ** 3)}`).join(' ');
  const files = ['train', 'valid'].map((name, i) => {
    const file = join(dir, `${name}.txt`);
    writeFileSync(file, Array.from({ length: i ? 200 : 20000 }, line).join('\n') + '\n');
    return file;
  });
  return `text:${files.join(',')}`;
}

/** The progress events of one run of `flstm train --json` on `processes` processes. */
function run(processes: number, args: string[]): Progress[] {
  return trainEvents<Progress & { type: string }>(processes, args).filter((e) => e.type === 'progress');
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);

function measured(steps: number): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'flstm-bench-dist-'));
  try {
    const common = [
      '--data',
      corpus(dir),
      '--hidden',
      '512',
      '--proj',
      '128',
      '--emb',
      '128',
      '--bptt',
      '20',
      '--sampled',
      '512',
      '--steps',
      String(steps),
      '--log-every',
      '5',
      '--sample',
      '0',
      '--eval-tokens',
      '0',
      '--save-every',
      String(steps + 1),
    ];
    const one = run(1, [...common, '--batch', '32', '--out', join(dir, 'one')]).filter((p) => p.step > UNTIMED);
    const two = run(2, [...common, '--batch', '16', '--out', join(dir, 'two')]).filter((p) => p.step > UNTIMED);
    const x = two.map((p) => p.exchange!).filter(Boolean);
    const out = {
      model: 'the default cell, 2 x 512/128, embedding 128, BPTT 20, 512 samples, a global batch of 32',
      wordsPerSec: { oneProcess: mean(one.map((p) => p.wordsPerSec)), twoProcesses: mean(two.map((p) => p.wordsPerSec)) },
      perStepSeconds: {
        read: mean(x.map((e) => e.readSeconds)),
        reduce: mean(x.map((e) => e.reduceSeconds)),
        upload: mean(x.map((e) => e.uploadSeconds)),
      },
      bytesPerStep: { dense: mean(x.map((e) => e.denseBytes)), sparse: mean(x.map((e) => e.sparseBytes)) },
    };
    const step2 = (32 * 20) / out.wordsPerSec.twoProcesses;
    console.log(
      table(
        ['', 'words/s', 'step'],
        [
          [
            '1 process, --batch 32',
            out.wordsPerSec.oneProcess.toFixed(0),
            `${((1e3 * 32 * 20) / out.wordsPerSec.oneProcess).toFixed(1)} ms`,
          ],
          ['2 processes, --batch 16', out.wordsPerSec.twoProcesses.toFixed(0), `${(1e3 * step2).toFixed(1)} ms`],
        ],
      ),
    );
    const p = out.perStepSeconds;
    console.log(
      `2 processes, per step: the GPU's forward and backward with the read-back ${(1e3 * p.read).toFixed(1)} ms, MPI's all-reduce and gathers ${(1e3 * p.reduce).toFixed(1)} ms, upload ${(1e3 * p.upload).toFixed(1)} ms, the rest (encoding, the update) ${(1e3 * (step2 - p.read - p.reduce - p.upload)).toFixed(1)} ms; ${(out.bytesPerStep.dense / 2 ** 20).toFixed(2)} MiB dense, ${(out.bytesPerStep.sparse / 2 ** 20).toFixed(2)} MiB of rows gathered`,
    );
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Bytes of a preset's step per GPU: what is all-reduced (the LSTM gradients, and the sampled
 * softmax's sample rows, the same ids on every rank), and what each rank's rows add to the
 * gathers (at most one embedding row per input token, one softmax row and bias per target).
 */
function presetTraffic(name: string): { reduced: number; gathered: number; wordsPerStepPerRank: number } {
  const cfg = trainConfigFrom({ ...PRESETS.find((p) => p.name === name)!.values }, 'bench');
  const m = cfg.model;
  const tokens = cfg.batch * cfg.bptt;
  // The vocabulary counts only with the full softmax; the presets sample.
  return { reduced: allReducedBytes(cfg, 0), gathered: 4 * tokens * (m.emb + m.proj + 1), wordsPerStepPerRank: tokens };
}

function traffic(): Record<string, unknown>[] {
  const rows: string[][] = [];
  const out: Record<string, unknown>[] = [];
  for (const name of ['biglstm', 'f512', 'g4']) {
    const t = presetTraffic(name);
    for (const n of [4, 8]) {
      // Read back what is reduced and gathered; upload the reduced part and every rank's gathered rows.
      const pcie = (2 * t.reduced + (1 + n) * t.gathered) / PCIE_BYTES_PER_S;
      // A GPU's compute per step does not depend on N: f-lm's 4 GPUs train 4 x (B x T) words a step.
      const flmStep = (4 * t.wordsPerStepPerRank) / F_LM_WORDS_PER_SEC[name];
      // A ring all-reduce sends 2(N-1)/N of the data per GPU; a gather brings the other N-1 ranks' rows.
      const links = LINKS.map(([label, bw]) => ({ label, seconds: (((2 * (n - 1)) / n) * t.reduced) / bw + ((n - 1) * t.gathered) / bw }));
      rows.push([
        name,
        String(n),
        `${(t.reduced / 2 ** 20).toFixed(0)} MiB`,
        `${(t.gathered / 2 ** 20).toFixed(1)} MiB`,
        `${(1e3 * pcie).toFixed(0)} ms`,
        ...links.map((l) => `${(1e3 * l.seconds).toFixed(0)} ms`),
        `${(1e3 * flmStep).toFixed(0)} ms`,
      ]);
      out.push({
        preset: name,
        gpus: n,
        reducedBytes: t.reduced,
        gatheredBytesPerRank: t.gathered,
        pcieSeconds: pcie,
        links,
        fLmComputeSeconds: flmStep,
      });
    }
  }
  console.log("\nA model of a step's traffic per GPU (f32; no overlap with compute):");
  console.log(
    table(
      [
        'preset',
        'GPUs',
        'all-reduced',
        'rows gathered per rank',
        'PCIe read+upload',
        ...LINKS.map(([l]) => `network ${l}`),
        "f-lm's step (4 V100s' words/s)",
      ],
      rows,
    ),
  );
  return out;
}

const { values } = parseArgs({ options: { steps: { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean' } } });
if (values.help) {
  console.log(USAGE);
} else {
  const steps = Number(values.steps ?? 60);
  if (!(Number.isInteger(steps) && steps > UNTIMED))
    throw new Error(`bench/distributed: --steps must be an integer above ${UNTIMED}, got ${values.steps}\n${USAGE}`);
  const result = { measured: measured(steps), model: traffic() };
  if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2));
}
