// bench/matmul_limits.ts: what limits the matmul on this adapter. Times, in one run and by
// turns, the subgroup kernel's loop (bench/probe_matmul_loads.wgsl) with both operands
// loaded from storage buffers, with A or B generated in registers instead, and with neither
// loaded, beside fl.matmul itself and the adapter's FMA ceiling.
//
//   npm run bench:limits                  # 1024^3
//   node dist/bench/matmul_limits.js --size 512 --seconds 1
//
// On lavapipe the variants without loads run several times faster than the one with them:
// there a load whose address differs between SIMD lanes is a loop over the lanes with a
// bounds check per component, so the kernel is bound by its loads, not its multiply-adds.
// Every variant computes a true product (of the generated matrices where generated) and is
// checked against float64 before it is timed.
import * as fl from '../src/index.js';
import { rt } from '../src/gpu/runtime.js';
import type { KernelSource } from '../src/gpu/pipelines.js';
import { subgroupCapable } from '../src/ops/matmul_kernel.js';
import probeSrc from './probe_matmul_loads.wgsl';
import { buildReference, checkMatmul, sq } from './matmul_lib.js';
import { measureCeilings } from './ceilings.js';
import { describe, fmtG, fmtMs, lpad, pad, randomData, timeInterleaved, type Timed } from './util.js';
import type { SuiteContext } from './report.js';

const PROBE: KernelSource = { name: 'bench_probe_matmul_loads', code: probeSrc };
const USAGE =
  'usage: node dist/bench/matmul_limits.js [--size N] [--seconds S]\n  --size N     square size, a multiple of 128 (default 1024)\n  --seconds S  timing target per variant (default 2)';

function parse(argv: string[]): { size: number; targetMs: number } {
  const o = { size: 1024, targetMs: 2000 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, v] = [argv[i], argv[i + 1]];
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (flag !== '--size' && flag !== '--seconds') fail(`bench/matmul_limits: unknown option "${flag}"\n${USAGE}`);
    const x = Number(v);
    if (flag === '--size') {
      if (!Number.isInteger(x) || x <= 0 || x % 128) fail(`bench/matmul_limits: --size must be a positive multiple of 128, got "${v}"`);
      o.size = x;
    } else {
      if (!(x > 0)) fail(`bench/matmul_limits: --seconds must be a positive number, got "${v}"`);
      o.targetMs = x * 1000;
    }
    i++;
  }
  return o;
}

function fail(msg: string): never {
  console.error(msg);
  process.exit(2);
}

/** The probe's generated operands (see probe_matmul_loads.wgsl), on the host. */
const genA = (M: number, K: number) =>
  Float32Array.from({ length: M * K }, (_, i) => Math.fround(((7 * Math.floor(i / K) + 3 * (i % K)) & 15) * 0.01));
const genB = (K: number, N: number) =>
  Float32Array.from({ length: K * N }, (_, i) => Math.fround(((5 * Math.floor(i / N) + 11 * (i % N)) & 15) * 0.01));

/** The table of the probe's variants against the FMA ceiling, and the share of the loop's time its loads take. */
function printLimits(n: number, fmaGflops: number, items: { name: string }[], timings: { medianMs: number }[]): void {
  const flop = 2 * n ** 3;
  console.log(`\nmatmul ${n}^3 (${(flop / 1e9).toFixed(2)} GFLOP); FMA ceiling ${fmaGflops.toFixed(1)} GFLOP/s, measured in this run`);
  console.log(`${pad('variant', 36)} ${lpad('ms', 8)} ${lpad('GFLOP/s', 8)} ${lpad('of FMA', 7)}`);
  items.forEach((it, i) => {
    const ms = timings[i].medianMs;
    const g = flop / 1e9 / (ms / 1e3);
    console.log(`${pad(it.name, 36)} ${lpad(fmtMs(ms), 8)} ${lpad(fmtG(g), 8)} ${lpad(`${((100 * g) / fmaGflops).toFixed(0)}%`, 7)}`);
  });
  const t = timings.slice(1).map((x) => x.medianMs);
  console.log(
    `\nloads take ${(100 * (1 - t[3] / t[0])).toFixed(0)}% of the loop's time (B alone ${(100 * (1 - t[1] / t[0])).toFixed(0)}%, A alone ${(100 * (1 - t[2] / t[0])).toFixed(0)}%)`,
  );
}

async function main(): Promise<void> {
  const { size: n, targetMs } = parse(process.argv.slice(2));
  await fl.init();
  const info = fl.info();
  console.log(`adapter: ${describe(info)}`);
  if (!subgroupCapable())
    fail('bench/matmul_limits: the probe needs subgroups of >= 8 lanes (the subgroup kernel is not used on this adapter)');
  const shape = sq(n);
  const aData = randomData(n * n, 11);
  const bData = randomData(n * n, 12);
  const a = fl.tensor(aData, [n, n]).keep();
  const b = fl.tensor(bData, [n, n]).keep();
  const c = fl.zeros([n, n]).keep();

  const variants: { name: string; loadA: boolean; loadB: boolean }[] = [
    { name: 'A and B loaded (the real loop)', loadA: true, loadB: true },
    { name: 'B generated, A loaded', loadA: true, loadB: false },
    { name: 'A generated, B loaded', loadA: false, loadB: true },
    { name: 'neither loaded', loadA: false, loadB: false },
  ];
  const items: (Timed & { name: string })[] = [];
  // fl.matmul as shipped (kernel choice, epilogue, fresh output each call).
  {
    const ref = buildReference(shape, aData, bData);
    const y = fl.matmul(a, b);
    checkMatmul('fl.matmul', shape, (await y.data()) as Float32Array, ref);
    y.dispose();
    items.push({
      name: 'fl.matmul (auto kernel)',
      run: () =>
        fl.tidy(() => {
          fl.matmul(a, b);
        }),
      sync: () => fl.sync(),
    });
  }
  for (const v of variants) {
    const run = () =>
      rt().run(PROBE, {
        overrides: { LOAD_A: v.loadA, LOAD_B: v.loadB },
        params: { M: n, N: n, K: n },
        buffers: [a.buffer, b.buffer, c.buffer],
        workgroups: [n / 128, n / 16, 1],
      });
    run();
    const ref = buildReference(shape, v.loadA ? aData : genA(n, n), v.loadB ? bData : genB(n, n));
    checkMatmul(`probe (${v.name})`, shape, (await c.data()) as Float32Array, ref);
    items.push({ name: `probe: ${v.name}`, run, sync: () => fl.sync() });
  }
  const ctx = {
    quick: false,
    targetMs: 1000,
    tfs: null,
    tfjsError: null,
    log: console.log,
    failures: [],
    timings: {},
    profiles: {},
  } as SuiteContext;
  const { ceilings } = await measureCeilings(ctx);
  const { timings } = await timeInterleaved(items, { targetMs: targetMs * items.length, warm: true, warmupMs: 300 });

  printLimits(n, ceilings.gflops, items, timings);
  a.dispose();
  b.dispose();
  c.dispose();
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
