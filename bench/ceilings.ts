// bench/ceilings.ts: the adapter's own ceilings, measured in the same run as everything else:
// an FMA-bound kernel (GFLOP/s) and a copy-bound kernel (GB/s), bench/peak_fma.wgsl and
// bench/peak_copy.wgsl. Each is checked (the FMA chains against float64, the copy exactly)
// before it is timed. A ceiling is the adapter's best, so its time is the fastest sample (not
// the median), and the suite measures the ceilings before and after the kernels and keeps the
// higher: on a shared machine the load varies. The kernels' rates (medians) are then quoted as
// a fraction of these.
import * as fl from '../src/index.js';
import { rt } from '../src/gpu/runtime.js';
import type { KernelSource } from '../src/gpu/pipelines.js';
import { grid1d } from '../src/ops/dispatch.js';
import fmaSrc from './peak_fma.wgsl';
import copySrc from './peak_copy.wgsl';
import { checkClose, timeIt } from './util.js';
import type { KernelRow, SuiteContext } from './report.js';

const PEAK_FMA: KernelSource = { name: 'bench_peak_fma', code: fmaSrc };
const PEAK_COPY: KernelSource = { name: 'bench_peak_copy', code: copySrc };

export interface Ceilings {
  /** GFLOP/s of the FMA-bound kernel. */
  gflops: number;
  /** GB/s (1e9 bytes) of the copy-bound kernel, counting the read and the write. */
  gbps: number;
}

const ITERS = 64;
/** fma steps per loop iteration and chain, and chains, in peak_fma.wgsl. */
const UNROLL = 16;
const CHAINS = 2;
const FMA_INVOCATIONS = 256 * 1024;
const COPY_BYTES = 64 * 1024 * 1024;

/** float64 value of one chain of peak_fma.wgsl (f32 rounding per step, fma's single rounding approximated). */
function fmaChain(a0: number, m: number, c: number): number {
  let a = Math.fround(a0);
  for (let k = 0; k < ITERS * UNROLL; k++) a = Math.fround(a * m + c);
  return a;
}

export async function measureCeilings(ctx: SuiteContext): Promise<{ ceilings: Ceilings; rows: KernelRow[] }> {
  const r = rt();
  const rows: KernelRow[] = [];
  // FMA: a = a·0.999 + 0.001 converges to 1 and stays finite for any number of steps.
  const mul = Math.fround(0.999);
  const add = Math.fround(0.001);
  const out = fl.zeros([FMA_INVOCATIONS * 4]).keep();
  const runFma = () =>
    r.run(PEAK_FMA, {
      overrides: { ITERS },
      params: { n: FMA_INVOCATIONS, mul, add },
      buffers: [out.buffer],
      workgroups: grid1d(FMA_INVOCATIONS),
    });
  runFma();
  const got = (await out.data()) as Float32Array;
  const idx: number[] = [];
  const ref: number[] = [];
  for (const i of [0, 1, 777, 4095, FMA_INVOCATIONS - 1]) {
    const f = Math.fround((i & 1023) * 1e-4);
    let sum = 0;
    for (let lane = 0; lane < 4; lane++) {
      sum = 0;
      for (let ch = 0; ch < CHAINS; ch++) sum += fmaChain(f + 0.1 * lane + 0.05 * ch, mul, add);
      idx.push(4 * i + lane);
      ref.push(sum);
    }
  }
  const fmaErr = checkClose('peak_fma', got, idx, ref, 1e-3, 1e-4);
  const tf = await timeIt(runFma, () => fl.sync(), { targetMs: ctx.targetMs, warm: true });
  const flop = FMA_INVOCATIONS * ITERS * UNROLL * CHAINS * 4 * 2;
  const gflops = flop / 1e9 / (tf.minMs / 1e3);
  rows.push({
    group: 'ceiling',
    name: 'FMA-bound (vec4 fma chains)',
    dims: `${FMA_INVOCATIONS} inv x ${ITERS * UNROLL} steps x ${CHAINS} vec4 chains`,
    kernel: 'peak_fma',
    ms: tf.minMs,
    unit: 'GFLOP/s',
    work: flop,
    rate: gflops,
    ofPeak: 1,
    check: `5 invocations vs float64, max |err| ${fmaErr.toExponential(1)}`,
    reps: tf.reps,
  });
  out.dispose();

  // Copy: dst = src over 64 MiB.
  const n4 = COPY_BYTES / 16;
  const src = fl.rand([n4 * 4], { seed: 7 }).keep();
  const dst = fl.zeros([n4 * 4]).keep();
  const runCopy = () => r.run(PEAK_COPY, { params: { n: n4, s: n4 / 4 }, buffers: [src.buffer, dst.buffer], workgroups: grid1d(n4 / 4) });
  runCopy();
  const [a, b] = [(await src.data()) as Float32Array, (await dst.data()) as Float32Array];
  let diff = 0;
  for (let i = 0; i < a.length; i += 97) if (a[i] !== b[i]) diff++;
  if (a[a.length - 1] !== b[b.length - 1]) diff++;
  if (diff) throw new Error(`peak_copy: ${diff} copied values differ from the source`);
  const tc = await timeIt(runCopy, () => fl.sync(), { targetMs: ctx.targetMs, warm: true });
  const bytes = 2 * COPY_BYTES;
  const gbps = bytes / 1e9 / (tc.minMs / 1e3);
  rows.push({
    group: 'ceiling',
    name: 'copy-bound (vec4 copy, 4 per inv.)',
    dims: `${COPY_BYTES / 2 ** 20} MiB -> ${COPY_BYTES / 2 ** 20} MiB`,
    kernel: 'peak_copy',
    ms: tc.minMs,
    unit: 'GB/s',
    work: bytes,
    rate: gbps,
    ofPeak: 1,
    check: 'exact (every 97th value)',
    reps: tc.reps,
  });
  src.dispose();
  dst.dispose();
  return { ceilings: { gflops, gbps }, rows };
}
