// bench/fuzz_checkpoints.ts: fault injection on a real checkpoint, at length. Trains a tiny
// model (bench/checkpoint_mutations.ts), then applies N seeded single-file mutations to its
// folder and loads each with loadCheckpoint, readLmCheckpoint and loadModel: every load must
// give the original tensors or refuse with one `flstm: <file>: ...` message. Prints how many
// mutations were tried, how many loads were identical and how many refused, and every failure.
// Exits 1 on any failure. test/checkpoint-fuzz.test.ts runs the same fuzzer, shorter.
//
//   npm run build && node dist/bench/fuzz_checkpoints.js --mutations 20000 --seed 1
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as fl from '../src/index.js';
import { baselines, fuzz, makeTinyCheckpoint, readFiles, type FuzzTally } from './checkpoint_mutations.js';

const USAGE = `usage: node dist/bench/fuzz_checkpoints.js [--mutations N] [--seed S] [--optimizer adagrad|adam|sgd] [--no-model] [--examples] [--trace]
  --mutations N   mutations to try (default 2000)
  --seed S        the first mutation's seed (mutation i uses S + i; default 1)
  --optimizer O   the tiny run's optimizer (default adagrad)
  --no-model      skip loadModel (the GPU): loadCheckpoint and readLmCheckpoint only
  --examples      print one refusal message for each kind of mutation
  --trace         print each mutation before it is loaded (to find one that hangs)`;

function line(t: FuzzTally, seconds: number): string {
  return `${t.tried} mutations, ${t.loads} loads: ${t.identical} identical, ${t.refused} refused, ${t.failures.length} failed (${seconds.toFixed(1)} s)`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mutations: { type: 'string' },
      seed: { type: 'string' },
      optimizer: { type: 'string' },
      'no-model': { type: 'boolean' },
      examples: { type: 'boolean' },
      trace: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return void console.log(USAGE);
  const count = Number(values.mutations ?? 2000);
  const seed = Number(values.seed ?? 1);
  const optimizer = (values.optimizer ?? 'adagrad') as 'adagrad' | 'adam' | 'sgd';
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(seed)) throw new Error(USAGE);
  await fl.init();
  const base = mkdtempSync(join(tmpdir(), 'flstm-fuzz-'));
  try {
    const ck = await makeTinyCheckpoint(base, optimizer);
    const files = await readFiles(ck);
    const loaders = values['no-model'] ? ['loadCheckpoint', 'readLmCheckpoint'] : ['loadCheckpoint', 'readLmCheckpoint', 'loadModel'];
    const baseline = await baselines(ck, loaders);
    const t0 = performance.now();
    const onProgress = (t: FuzzTally) => console.error(line(t, (performance.now() - t0) / 1000));
    const t = await fuzz(files, join(base, 'mutated'), {
      seed,
      count,
      loaders,
      baseline,
      onProgress,
      trace: values.trace ? (l) => console.error(l) : undefined,
    });
    console.log(
      `checkpoint: ${Object.entries(files)
        .map(([n, b]) => `${n} (${b.length} B)`)
        .join(', ')}; optimizer ${optimizer}; loaders ${loaders.join(', ')}`,
    );
    console.log(line(t, (performance.now() - t0) / 1000));
    for (const [file, c] of Object.entries(t.byFile)) console.log(`  ${file}: ${c.identical} identical, ${c.refused} refused`);
    if (values.examples) {
      for (const [kind, msg] of Object.entries(t.examples).sort()) console.log(`  e.g. ${kind}: ${msg}`);
      for (const [kind, n] of Object.entries(t.identicalKinds).sort((a, b) => b[1] - a[1])) console.log(`  identical ${n}x: ${kind}`);
    }
    for (const f of t.failures.slice(0, 50)) console.log(`FAIL ${f}`);
    if (t.failures.length) process.exitCode = 1;
  } finally {
    rmSync(base, { recursive: true, force: true });
    fl.dispose();
  }
}

await main();
