// bench/lstm.ts: forward + backward time of one LSTM layer over one sequence, for the three
// cells at one size, with the FLOP count of each, so that the speed-up of F-LSTM and G-LSTM
// over LSTM can be read against the ideal (FLOP) ratio.
//
//   node dist/bench/lstm.js [--T 20] [--B 32] [--input 512] [--hidden 1024] [--proj 512]
//                           [--factor 256] [--groups 4] [--reps N] [--json FILE]
//
// One sample = forward, backward (dy = ones) of a whole sequence, then waiting for the GPU
// (fl.sync()); the median over the samples is reported. FLOPs count the matrix products
// (2 per multiply-add): forward gates (input half and recurrent half), projection, and the
// backward's two products per forward product; elementwise work is left out.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as fl from '../src/index.js';

const { values } = parseArgs({
  options: {
    T: { type: 'string', default: '20' },
    B: { type: 'string', default: '32' },
    input: { type: 'string', default: '512' },
    hidden: { type: 'string', default: '1024' },
    proj: { type: 'string', default: '512' },
    factor: { type: 'string', default: '256' },
    groups: { type: 'string', default: '4' },
    reps: { type: 'string', default: '5' },
    json: { type: 'string' },
  },
  strict: true,
});
const num = (k: keyof typeof values) => {
  const v = Number(values[k]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`bench/lstm: --${k} must be a positive integer, got ${values[k]}`);
  return v;
};
const [T, B, pin, n, p, r, k, reps] = [
  num('T'),
  num('B'),
  num('input'),
  num('hidden'),
  num('proj'),
  num('factor'),
  num('groups'),
  num('reps'),
];

/** Multiply-adds x2 of the forward matrix products of one sequence. */
function forwardFlops(cell: fl.CellKind): number {
  const rows = T * B;
  const gates = cell === 'lstm' ? (pin + p) * 4 * n : cell === 'flstm' ? (pin + p) * r + r * 4 * n : ((pin + p) * 4 * n) / k;
  return 2 * rows * (gates + n * p);
}

async function main() {
  const info = await fl.init();
  console.log(`adapter: ${info.description} (${info.software ? 'software' : 'gpu'}, kernels: ${info.variant})`);
  console.log(`one layer, T=${T} B=${B} input=${pin} hidden n=${n} proj p=${p}; flstm r=${r}; glstm k=${k}; median of ${reps} sequences\n`);
  const x = fl.randn([T, B, pin], { seed: 1 });
  const rows: { cell: fl.CellKind; params: number; gflop: number; ms: number; gflops: number }[] = [];
  for (const cell of ['lstm', 'flstm', 'glstm'] as const) {
    const layer = new fl.nn.LSTM({
      inputSize: pin,
      hiddenSize: n,
      projSize: p,
      cell,
      factor: cell === 'flstm' ? r : undefined,
      groups: cell === 'glstm' ? k : undefined,
      seed: 2,
    });
    const ones = fl.ones([T, B, p]);
    const once = () =>
      fl.tidy(() => {
        const { y } = layer.forward(x);
        y.backward(ones);
        layer.zeroGrad();
      });
    once(); // warm-up: pipelines, pool
    await fl.sync();
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      once();
      await fl.sync();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const ms = times[Math.floor(times.length / 2)];
    const gflop = (3 * forwardFlops(cell)) / 1e9;
    rows.push({ cell, params: layer.numParams(), gflop, ms, gflops: gflop / (ms / 1e3) });
    console.log(`  ${cell.padEnd(6)} ${ms.toFixed(1)} ms`);
    layer.dispose();
    ones.dispose();
  }
  const base = rows[0];
  console.log('\ncell    params      GFLOP/seq   ms/seq   GFLOP/s   speed-up vs lstm   ideal (FLOP ratio)   of ideal');
  for (const row of rows) {
    const speedup = base.ms / row.ms;
    const ideal = base.gflop / row.gflop;
    console.log(
      `${row.cell.padEnd(7)} ${String(row.params).padStart(10)}  ${row.gflop.toFixed(2).padStart(9)}  ${row.ms.toFixed(1).padStart(8)}  ${row.gflops.toFixed(1).padStart(8)}  ${speedup.toFixed(2).padStart(17)}x  ${ideal.toFixed(2).padStart(18)}x  ${((100 * speedup) / ideal).toFixed(0).padStart(8)}%`,
    );
  }
  if (values.json) {
    writeFileSync(
      values.json,
      JSON.stringify({ adapter: info, T, B, input: pin, hidden: n, proj: p, factor: r, groups: k, rows }, null, 2),
    );
  }
  fl.dispose();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
