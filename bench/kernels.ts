// bench/kernels.ts: the kernel suite. Every kernel is first checked against its float64
// reference (src/ref/*), then timed; its rate is quoted as a fraction of the adapter's own
// ceiling measured in the same run (bench/ceilings.ts). Matmuls run beside TensorFlow.js's
// WebGPU backend on the same adapter when it is available.
//
//   matmul          1024^3 NN / NT / TN and the three products of an LSTM layer (T·B = 640,
//                   [x; h] = 768, 4n = 2048), flstm's automatic variant and tfjs
//   grouped matmul  x [640, 768] · block-diagonal w (k = 2, 4), fl.groupedMatmul
//   lstm layer      fl.lstmSequence (lstm cell, input 256, n 512, no projection, B 32), the
//                   whole layer forward, and backward (fwd+bwd minus fwd), at T = 20; checked
//                   against lstmForwardRef / lstmBackwardRef at T = 2 (same sizes)
//   lstm cell       the fused per-step kernels, GPU time per call from the profiler: forward
//                   (recurrent product h·W_h with the cell as its epilogue) and backward
//   embedding       gather [10000, 256] by 640 ids, and its sparse backward
//   softmax CE      [640, 10000] logits: the fused loss + gradient rows, and backward
//   optimizer       Adagrad step over the LM's dense parameters (norm pass + fused update)
//   sharded table   a training step's row work on a [10000, 256] softmax table, unsharded and
//                   in 4 row shards (fl.nn.Table): candidate rows gathered, the sampled
//                   softmax forward and backward, the sparse Adagrad update; checked by
//                   both giving the same weights, timed by turns
import * as fl from '../src/index.js';
import { sampleCandidates, sampledSoftmaxLoss } from '../src/ops/sampled_softmax.js';
import { chooseVariant } from '../src/ops/matmul_kernel.js';
import { nd } from '../src/ref/array.js';
import { lstmBackwardRef, lstmForwardRef, randomLstmParams, type LstmRefConfig } from '../src/ref/lstm.js';
import { embeddingBackwardSparseRef, embeddingRef } from '../src/ref/embedding.js';
import { softmaxCrossEntropyRef } from '../src/ref/softmax_ce.js';
import { adagradRef } from '../src/ref/optim.js';
import {
  aShape,
  bShape,
  buildReference,
  checkMatmul,
  dimsLabel,
  matmulFlops,
  specOf,
  sq,
  LSTM_DW,
  LSTM_DX,
  LSTM_FWD,
  type Shape,
} from './matmul_lib.js';
import { checkClose, fmtG, fmtMs, median, randomData, timeInterleaved, timeIt, warmUp, zipfIds, type Timed, type Timing } from './util.js';
import type { Ceilings } from './ceilings.js';
import type { KernelRow, SuiteContext } from './report.js';
import type { TF } from './tfjs.js';

type Case = (ctx: SuiteContext, ceil: Ceilings) => Promise<KernelRow[]>;

function rowOf(ceil: Ceilings, r: Omit<KernelRow, 'rate' | 'ofPeak'>): KernelRow {
  const rate = r.work / 1e9 / (r.ms / 1e3);
  return { ...r, rate, ofPeak: rate / (r.unit === 'GFLOP/s' ? ceil.gflops : ceil.gbps) };
}

const f32 = (t: fl.Tensor) => t.data() as Promise<Float32Array>;

// ---------------------------------------------------------------------------------------
// matmul, with tfjs beside it

const matmulCase =
  (s: Shape, seed: number): Case =>
  async (ctx, ceil) => {
    const aData = randomData(s.M * s.K, seed);
    const bData = randomData(s.K * s.N, seed + 1);
    const ref = buildReference(s, aData, bData);
    const a = fl.tensor(aData, aShape(s)).keep();
    const b = fl.tensor(bData, bShape(s)).keep();
    const opts = { transposeA: s.transposeA, transposeB: s.transposeB };
    let out: fl.Tensor | null = null;
    const run = () => {
      out?.dispose();
      out = fl.matmul(a, b, opts).keep();
    };
    const { tfs } = ctx;
    const ta = tfs ? tfs.tf.tensor(aData, aShape(s), 'float32') : null;
    const tb = tfs ? tfs.tf.tensor(bData, bShape(s), 'float32') : null;
    let tout: ReturnType<TF['matMul']> | null = null;
    const trun = () => {
      tout?.dispose();
      tout = tfs!.tf.matMul(ta!, tb!, s.transposeA, s.transposeB);
    };
    try {
      run();
      const err = checkMatmul('flstm matmul', s, await f32(out!), ref);
      const items: Timed[] = [{ run, sync: () => fl.sync() }];
      if (tfs) {
        trun();
        checkMatmul('tfjs matMul', s, (await tout!.data()) as Float32Array, ref);
        items.push({ run: trun, sync: () => tfs.sync() });
      }
      // flstm and tfjs by turns (one sample each per round), so both see the same load.
      const {
        timings: [t, tt],
      } = await timeInterleaved(items, { targetMs: ctx.targetMs, warm: true });
      const kernel = chooseVariant(specOf(s));
      const row = rowOf(ceil, {
        group: 'matmul',
        name: `matmul ${s.name}`,
        dims: dimsLabel(s),
        kernel,
        ms: t.medianMs,
        unit: 'GFLOP/s',
        work: matmulFlops(s),
        check: `${ref.idx.length} elts vs float64, max |err| ${err.toExponential(1)}`,
        reps: t.reps,
      });
      if (tt)
        row.tfjs = { ms: tt.medianMs, rate: matmulFlops(s) / 1e9 / (tt.medianMs / 1e3), ratio: tt.medianMs / t.medianMs, reps: tt.reps };
      return [row];
    } finally {
      (out as fl.Tensor | null)?.dispose();
      (tout as { dispose(): void } | null)?.dispose();
      a.dispose();
      b.dispose();
      ta?.dispose();
      tb?.dispose();
    }
  };

// ---------------------------------------------------------------------------------------
// matmul with f16 operands (shader-f16 adapters): the f32 product, B f16, A and B f16, by turns

const matmulF16Case =
  (s: Shape, seed: number): Case =>
  async (ctx, ceil) => {
    const a = fl.tensor(randomData(s.M * s.K, seed), aShape(s)).keep();
    const b = fl.tensor(randomData(s.K * s.N, seed + 1), bShape(s)).keep();
    const a16 = fl.cast(a, 'f16').keep();
    const b16 = fl.cast(b, 'f16').keep();
    const opts = { transposeA: s.transposeA, transposeB: s.transposeB };
    const pairs: [string, fl.Tensor, fl.Tensor][] = [
      ['f32', a, b],
      ['B f16', a, b16],
      ['A, B f16', a16, b16],
    ];
    const outs: (fl.Tensor | null)[] = pairs.map(() => null);
    const runs = pairs.map(([, x, y], i) => () => {
      outs[i]?.dispose();
      outs[i] = fl.matmul(x, y, opts).keep();
    });
    try {
      // Each checked against float64 on the values it reads (the f16 copies where it reads them).
      const errs: number[] = [];
      for (const [i, [, x, y]] of pairs.entries()) {
        runs[i]();
        const ref = buildReference(s, await f32(x), await f32(y));
        errs.push(checkMatmul(`flstm matmul (${pairs[i][0]})`, s, await f32(outs[i]!), ref));
      }
      const { timings } = await timeInterleaved(
        runs.map((run) => ({ run, sync: () => fl.sync() })),
        { targetMs: ctx.targetMs, warm: true },
      );
      const kernel = chooseVariant(specOf(s));
      return pairs.slice(1).map(([label], j) =>
        rowOf(ceil, {
          group: 'matmul f16',
          name: `matmul ${s.name}, ${label}`,
          dims: dimsLabel(s),
          kernel,
          ms: timings[j + 1].medianMs,
          unit: 'GFLOP/s',
          work: matmulFlops(s),
          reps: timings[j + 1].reps,
          vsF32: timings[0].medianMs / timings[j + 1].medianMs,
          check: `vs float64 on the f16 values, max |err| ${errs[j + 1].toExponential(1)}; the f32 product ${fmtMs(timings[0].medianMs)} ms by turns`,
        }),
      );
    } finally {
      outs.forEach((o) => o?.dispose());
      [a, b, a16, b16].forEach((t) => t.dispose());
    }
  };

// ---------------------------------------------------------------------------------------
// grouped matmul

const groupedCase =
  (k: number): Case =>
  async (ctx, ceil) => {
    const m = 640,
      K = 768,
      N = 2048;
    const kin = K / k,
      kout = N / k;
    const xData = randomData(m * K, 31 + k);
    const wData = randomData(k * kin * kout, 37 + k);
    const x = fl.tensor(xData, [m, K]).keep();
    const w = fl.tensor(wData, [k, kin, kout]).keep();
    let y: fl.Tensor | null = null;
    const run = () => {
      y?.dispose();
      y = fl.groupedMatmul(x, w).keep();
    };
    try {
      run();
      const got = await f32(y!);
      // 64 sampled outputs as float64 dot products over their group's block.
      const pts = randomData(128, 99 + k);
      const idx: number[] = [];
      const val: number[] = [];
      for (let s = 0; s < 64; s++) {
        const row = Math.floor(((pts[2 * s] + 1) / 2) * m);
        const col = Math.floor(((pts[2 * s + 1] + 1) / 2) * N);
        const j = Math.floor(col / kout),
          c = col % kout;
        let acc = 0;
        for (let i = 0; i < kin; i++) acc += xData[row * K + j * kin + i] * wData[(j * kin + i) * kout + c];
        idx.push(row * N + col);
        val.push(acc);
      }
      const err = checkClose(`groupedMatmul k=${k}`, got, idx, val, 1e-6 * kin, 1e-5);
      const t = await timeIt(run, () => fl.sync(), { targetMs: ctx.targetMs, warm: true });
      return [
        rowOf(ceil, {
          group: 'grouped matmul',
          name: `grouped k=${k}`,
          dims: `${m}x${K}·blockdiag(${k}x${kin}x${kout})`,
          kernel: 'batched matmul',
          ms: t.medianMs,
          unit: 'GFLOP/s',
          work: (2 * m * K * N) / k,
          check: `64 elts vs float64, max |err| ${err.toExponential(1)}`,
          reps: t.reps,
        }),
      ];
    } finally {
      (y as fl.Tensor | null)?.dispose();
      x.dispose();
      w.dispose();
    }
  };

// ---------------------------------------------------------------------------------------
// the LSTM layer (fused cell forward and backward)

const LAYER = { pin: 256, n: 512, B: 32 };

function layerTensors(c: LstmRefConfig, T: number, seed: number) {
  const { pin, n, B } = LAYER;
  const p = randomLstmParams(c, seed, 1 / Math.sqrt(pin + n));
  const xd = randomData(T * B * pin, seed + 1);
  const h0d = randomData(B * n, seed + 2).map((v) => 0.5 * v);
  const c0d = randomData(B * n, seed + 3).map((v) => 0.5 * v);
  const dyd = randomData(T * B * n, seed + 4);
  const g = { requiresGrad: true };
  const t = {
    x: fl.tensor(xd, [T, B, pin], g).keep(),
    h0: fl.tensor(h0d, [B, n], g).keep(),
    c0: fl.tensor(c0d, [B, n], g).keep(),
    W: fl.tensor(Float32Array.from(p.W!.data), p.W!.shape, g).keep(),
    b: fl.tensor(Float32Array.from(p.b.data), p.b.shape, g).keep(),
    dy: fl.tensor(dyd, [T, B, n]).keep(),
  };
  return { p, xd, h0d, c0d, dyd, t };
}

type LayerT = ReturnType<typeof layerTensors>['t'];
const disposeLayer = (t: LayerT) => Object.values(t).forEach((x) => x.dispose());
const clearGrads = (t: LayerT) =>
  [t.x, t.h0, t.c0, t.W, t.b].forEach((x) => {
    x.grad?.dispose();
    x.grad = null;
  });

const LAYER_CHECKED = 'T=2 vs lstmForwardRef/lstmBackwardRef: y, c_T, dx, dW, db, dh0, dc0';

/** The layer at T = 2 against the float64 reference: forward outputs and every gradient. */
async function checkLstmLayer(cfg: fl.LstmConfig, refCfg: LstmRefConfig): Promise<void> {
  const { pin, n, B } = LAYER;
  const T = 2;
  const L = layerTensors(refCfg, T, 501);
  try {
    const x = nd(L.xd, [T, B, pin]),
      h0 = nd(L.h0d, [B, n]),
      c0 = nd(L.c0d, [B, n]);
    const fwd = lstmForwardRef(L.p, x, h0, c0);
    const grads = lstmBackwardRef(L.p, x, h0, c0, nd(L.dyd, [T, B, n]));
    const r = fl.lstmSequence(L.t.x, L.t.h0, L.t.c0, { W: L.t.W, b: L.t.b }, cfg);
    r.y.backward(L.t.dy);
    const tol = 2e-5 * Math.sqrt(pin + n);
    checkClose('lstm forward y', await f32(r.y), null, fwd.y.data, tol, 1e-4);
    checkClose('lstm forward c_T', await f32(r.c), null, fwd.c.data, tol, 1e-4);
    checkClose('lstm backward dx', await f32(L.t.x.grad!), null, grads.dx.data, tol, 1e-4);
    checkClose('lstm backward dW', await f32(L.t.W.grad!), null, grads.dW!.data, tol * B, 1e-4);
    checkClose('lstm backward db', await f32(L.t.b.grad!), null, grads.db.data, tol * B, 1e-4);
    checkClose('lstm backward dh0', await f32(L.t.h0.grad!), null, grads.dh0.data, tol, 1e-4);
    checkClose('lstm backward dc0', await f32(L.t.c0.grad!), null, grads.dc0.data, tol, 1e-4);
    [r.y, r.h, r.c].forEach((v) => v.dispose());
  } finally {
    disposeLayer(L.t);
  }
}

/**
 * Forward, and forward + backward, sampled alternately so both see the same load on a shared
 * machine: the per-sample ms of each.
 */
async function sampleFwdBwd(fwd: () => void, fwdBwd: () => void, ctx: SuiteContext): Promise<{ f: number[]; fb: number[] }> {
  await warmUp(
    () => {
      fwd();
      fwdBwd();
    },
    () => fl.sync(),
    { targetMs: ctx.targetMs },
  );
  const f: number[] = [];
  const fb: number[] = [];
  const t0 = performance.now();
  while (f.length < 3 || (performance.now() - t0 < 2 * ctx.targetMs && f.length < 50)) {
    let t = performance.now();
    fwd();
    await fl.sync();
    f.push(performance.now() - t);
    t = performance.now();
    fwdBwd();
    await fl.sync();
    fb.push(performance.now() - t);
  }
  return { f, fb };
}

/** The fused per-step kernels, GPU time per call, where the adapter has timestamp queries. */
async function cellRows(ctx: SuiteContext, ceil: Ceilings, fwdBwd: () => void): Promise<KernelRow[]> {
  const { n, B } = LAYER;
  if (!fl.info().features.includes('timestamp-query')) return [];
  fl.startProfiling();
  fwdBwd();
  const prof = await fl.stopProfiling();
  ctx.profiles['lstm layer fwd+bwd'] = prof;
  const rows: KernelRow[] = [];
  const cellF = prof.find((k) => k.kernel.includes('lstm_cell_store'));
  const cellB = prof.find((k) => k.kernel === 'lstm_cell_backward');
  if (cellF) {
    rows.push(
      rowOf(ceil, {
        group: 'lstm cell',
        name: 'fused cell forward (per step)',
        dims: `h[${B}x${n}]·Wh[${n}x${4 * n}] + cell`,
        kernel: cellF.kernel,
        ms: cellF.ms / cellF.calls,
        unit: 'GFLOP/s',
        work: 2 * B * n * 4 * n,
        check: LAYER_CHECKED,
        reps: cellF.calls,
        timing: 'gpu',
      }),
    );
  }
  if (cellB) {
    // Reads dh (or dm), dc_next, gates (4n), c_{t-1}, c_t; writes dgates (4n), dc_prev: 13 floats per unit.
    rows.push(
      rowOf(ceil, {
        group: 'lstm cell',
        name: 'fused cell backward (per step)',
        dims: `B=${B} n=${n}`,
        kernel: cellB.kernel,
        ms: cellB.ms / cellB.calls,
        unit: 'GB/s',
        work: 13 * 4 * B * n,
        check: LAYER_CHECKED,
        reps: cellB.calls,
        timing: 'gpu',
      }),
    );
  }
  return rows;
}

const lstmLayerCase: Case = async (ctx, ceil) => {
  const { pin, n, B } = LAYER;
  const cfg: fl.LstmConfig = { cell: 'lstm', inputSize: pin, hiddenSize: n, projSize: 0 };
  const refCfg: LstmRefConfig = { cell: 'lstm', inputSize: pin, hiddenSize: n, projSize: 0 };
  await checkLstmLayer(cfg, refCfg);
  const T = 20;
  const L = layerTensors(refCfg, T, 601);
  try {
    const w = { W: L.t.W, b: L.t.b };
    const fwd = () =>
      fl.tidy(() => {
        fl.lstmSequence(L.t.x, L.t.h0, L.t.c0, w, cfg);
      });
    const fwdBwd = () =>
      fl.tidy(() => {
        fl.lstmSequence(L.t.x, L.t.h0, L.t.c0, w, cfg).y.backward(L.t.dy);
        clearGrads(L.t);
      });
    const { f, fb } = await sampleFwdBwd(fwd, fwdBwd, ctx);
    const fwdMs = median(f);
    // The backward is the median of the per-pair differences.
    const bwdMs = Math.max(median(fb.map((x, i) => x - f[i])), 1e-6);
    // Matmul FLOPs as bench/lstm.ts counts them: forward [x; h]·W over all T·B rows; backward twice that.
    const fwdFlop = 2 * T * B * (pin + n) * 4 * n;
    const dims = `T=${T} B=${B} in=${pin} n=${n}`;
    return [
      rowOf(ceil, {
        group: 'lstm layer',
        name: 'lstm layer forward',
        dims,
        kernel: 'fl.lstmSequence',
        ms: fwdMs,
        unit: 'GFLOP/s',
        work: fwdFlop,
        check: LAYER_CHECKED,
        reps: f.length,
      }),
      rowOf(ceil, {
        group: 'lstm layer',
        name: 'lstm layer backward',
        dims,
        kernel: 'fl.lstmSequence (fwd+bwd - fwd)',
        ms: bwdMs,
        unit: 'GFLOP/s',
        work: 2 * fwdFlop,
        check: LAYER_CHECKED,
        reps: fb.length,
      }),
      ...(await cellRows(ctx, ceil, fwdBwd)),
    ];
  } finally {
    disposeLayer(L.t);
  }
};

// ---------------------------------------------------------------------------------------
// embedding, softmax cross-entropy, optimizer

const V = 10000,
  E = 256,
  ROWS = 640;

const embeddingCase: Case = async (ctx, ceil) => {
  const tableData = randomData(V * E, 71);
  const ids = zipfIds(ROWS, V, 72);
  const table = fl.tensor(tableData, [V, E]).keep();
  const idsT = fl.tensor(ids, [ROWS], { dtype: 'i32' }).keep();
  const gData = randomData(ROWS * E, 73);
  const g = fl.tensor(gData, [ROWS, E]).keep();
  const rows: KernelRow[] = [];
  try {
    let y: fl.Tensor | null = null;
    const run = () => {
      y?.dispose();
      y = fl.embedding(table, idsT).keep();
    };
    run();
    const ref = embeddingRef(nd(tableData, [V, E]), ids);
    const err = checkClose('embedding', await f32(y!), null, ref.data, 0, 0);
    const t = await timeIt(run, () => fl.sync(), { targetMs: ctx.targetMs, warm: true });
    (y as fl.Tensor | null)?.dispose();
    rows.push(
      rowOf(ceil, {
        group: 'embedding',
        name: 'embedding gather',
        dims: `[${V}x${E}] by ${ROWS} ids`,
        kernel: 'embedding',
        ms: t.medianMs,
        unit: 'GB/s',
        work: 2 * ROWS * E * 4 + ROWS * 4,
        check: `all ${ROWS * E} vs float64, max |err| ${err.toExponential(1)}`,
        reps: t.reps,
      }),
    );

    let sp: { ids: Int32Array; rows: fl.Tensor } | null = null;
    const runB = () => {
      sp?.rows.dispose();
      sp = fl.embeddingBackwardSparse(ids, g);
      sp.rows.keep();
    };
    runB();
    const refB = embeddingBackwardSparseRef(ids, nd(gData, [ROWS, E]));
    const spNow = sp as unknown as { ids: Int32Array; rows: fl.Tensor };
    if (spNow.ids.length !== refB.ids.length || spNow.ids.some((v, i) => v !== refB.ids[i]))
      throw new Error('embeddingBackwardSparse: the unique ids differ from the reference');
    const errB = checkClose('embeddingBackwardSparse', await f32(spNow.rows), null, refB.rows.data, 1e-6, 1e-5);
    const U = refB.ids.length;
    const tb = await timeIt(runB, () => fl.sync(), { targetMs: ctx.targetMs, warm: true });
    (sp as { rows: fl.Tensor } | null)?.rows.dispose();
    rows.push(
      rowOf(ceil, {
        group: 'embedding',
        name: 'embedding backward (sparse)',
        dims: `${ROWS}x${E} -> ${U} rows`,
        kernel: 'embedding_backward',
        ms: tb.medianMs,
        unit: 'GB/s',
        work: ROWS * E * 4 + U * E * 4 + (2 * U + 1 + ROWS) * 4,
        check: `all ${U * E} vs float64, max |err| ${errB.toExponential(1)}`,
        reps: tb.reps,
      }),
    );
    return rows;
  } finally {
    table.dispose();
    idsT.dispose();
    g.dispose();
  }
};

const softmaxCase: Case = async (ctx, ceil) => {
  const logitsData = randomData(ROWS * V, 81).map((v) => 4 * v);
  const targets = zipfIds(ROWS, V, 82);
  const logits = fl.tensor(logitsData, [ROWS, V], { requiresGrad: true }).keep();
  const tgt = fl.tensor(targets, [ROWS], { dtype: 'i32' }).keep();
  try {
    const run = () =>
      fl.tidy(() => {
        fl.softmaxCrossEntropy(logits, tgt).backward();
        logits.grad?.dispose();
        logits.grad = null;
      });
    const loss = fl.softmaxCrossEntropy(logits, tgt);
    loss.backward();
    const ref = softmaxCrossEntropyRef(nd(logitsData, [ROWS, V]), targets);
    const errL = checkClose('softmaxCrossEntropy loss', await f32(loss), null, [ref.loss], 1e-5, 1e-5);
    const errG = checkClose('softmaxCrossEntropy grad', await f32(logits.grad!), null, ref.grad.data, 1e-8, 1e-4);
    loss.dispose();
    logits.grad?.dispose();
    logits.grad = null;
    const t = await timeIt(run, () => fl.sync(), { targetMs: ctx.targetMs, warm: true });
    // Forward reads the logits; backward reads them again and writes the gradient (rows or tree
    // kernel by adapter and size, see src/ops/softmax_ce.ts).
    return [
      rowOf(ceil, {
        group: 'softmax CE',
        name: 'softmax CE fwd+bwd',
        dims: `[${ROWS}x${V}]`,
        kernel: 'softmax_ce_rows|tree + _grad',
        ms: t.medianMs,
        unit: 'GB/s',
        work: 3 * ROWS * V * 4,
        check: `loss and all grads vs float64, max |err| ${Math.max(errL, errG).toExponential(1)}`,
        reps: t.reps,
      }),
    ];
  } finally {
    logits.dispose();
    tgt.dispose();
  }
};

const adagradCase: Case = async (ctx, ceil) => {
  // The dense parameters of the LM of the step suite (lstm 512, no projection, full softmax).
  const shapes: [string, number[]][] = [
    ['W', [768, 2048]],
    ['b', [2048]],
    ['softmax_w', [V, 512]],
    ['softmax_b', [V]],
  ];
  const lr = 0.2;
  const ws: fl.Tensor[] = [];
  const host: { w: Float32Array; g: Float32Array }[] = [];
  let total = 0;
  shapes.forEach(([, s], i) => {
    const size = s.reduce((a, b) => a * b, 1);
    total += size;
    const w = randomData(size, 90 + i);
    const g = randomData(size, 95 + i).map((v) => 0.1 * v);
    const t = fl.tensor(w, s).keep();
    t.grad = fl.tensor(g, s).keep();
    ws.push(t);
    host.push({ w, g });
  });
  const opt = new fl.optim.Adagrad(
    shapes.map(([name], i) => [name, ws[i]] as [string, fl.Tensor]),
    { lr, initialAccumulator: 1.0 },
  );
  try {
    opt.step().dispose();
    let maxErr = 0;
    for (let i = 0; i < ws.length; i++) {
      const w = Float64Array.from(host[i].w);
      const acc = new Float64Array(w.length).fill(1);
      adagradRef(w, acc, host[i].g, lr);
      maxErr = Math.max(maxErr, checkClose(`adagrad ${shapes[i][0]}`, await f32(ws[i]), null, w, 1e-6, 1e-5));
    }
    const t = await timeIt(
      () => opt.step().dispose(),
      () => fl.sync(),
      { targetMs: ctx.targetMs, warm: true },
    );
    return [
      rowOf(ceil, {
        group: 'optimizer',
        name: 'Adagrad step (dense)',
        dims: `${(total / 1e6).toFixed(2)}M params, 4 tensors`,
        kernel: 'optim_sqnorm + optim_adagrad',
        ms: t.medianMs,
        unit: 'GB/s',
        work: 24 * total,
        check: `all weights vs adagradRef, max |err| ${maxErr.toExponential(1)}`,
        reps: t.reps,
      }),
    ];
  } finally {
    opt.dispose();
    ws.forEach((w) => w.dispose());
  }
};

/** A table [V, E] (in `shards` row shards), its bias, and their Adagrad. */
function shardedSoftmax(shards: number, data: Float32Array) {
  const per = Math.ceil(V / shards);
  const w = new fl.nn.Table('softmax_w', [V, E], (start, rows) => data.slice(start * E, (start + rows) * E), per);
  const b = fl.nn.Table.zeros('softmax_b', [V], w);
  const params = [...w.namedShards(), ...b.namedShards()];
  return {
    w,
    b,
    opt: new fl.optim.Adagrad(params, { lr: 0.2, initialAccumulator: 1.0 }),
    dispose: () => {
      w.dispose();
      b.dispose();
    },
  };
}

/** One step's row work: gather the candidates' rows, sampled softmax forward and backward, sparse Adagrad. */
function tableStep(t: ReturnType<typeof shardedSoftmax>, h: fl.Tensor, cand: ReturnType<typeof sampleCandidates>): void {
  fl.tidy(() => {
    const wRows = t.w.gatherRows(cand.ids);
    const bRows = t.b.gatherRows(cand.ids);
    wRows.requiresGrad = bRows.requiresGrad = true;
    sampledSoftmaxLoss(h, wRows, bRows, cand).backward();
    t.opt
      .step({ sparse: [...t.w.sparseUpdates(cand.ids, wRows.grad!), ...t.b.sparseUpdates(cand.ids, bRows.grad!)], dense: false })
      .dispose();
  });
}

const shardedTableCase: Case = async (ctx, ceil) => {
  const S = 512;
  const targets = zipfIds(ROWS, V, 122);
  const cand = sampleCandidates(targets, V, S, 123);
  const h = fl.tensor(randomData(ROWS * E, 124), [ROWS, E]).keep();
  const data = Float32Array.from(randomData(V * E, 121));
  const one = shardedSoftmax(1, data);
  const four = shardedSoftmax(4, data);
  try {
    tableStep(one, h, cand);
    tableStep(four, h, cand);
    const same = await sameWeights(one, four);
    if (!same) throw new Error('sharded table: 4 shards updated the table differently from 1');
    const runs = [() => tableStep(one, h, cand), () => tableStep(four, h, cand)];
    const {
      timings: [t1, t4],
    } = await timeInterleaved(
      runs.map((run) => ({ run, sync: () => fl.sync() })),
      { targetMs: ctx.targetMs, warm: true },
    );
    const U = cand.ids.length;
    const work = 2 * ROWS * U * E * 3; // the logits product and its two gradient products
    const row = (t: Timing, shards: number): KernelRow =>
      rowOf(ceil, {
        group: 'sharded table',
        name: `table rows, ${shards} shard${shards > 1 ? 's' : ''}`,
        dims: `[${V}x${E}], ${U} candidates, ${ROWS} rows`,
        kernel: 'embedding + sampled softmax + optim_adagrad (sparse)',
        ms: t.medianMs,
        unit: 'GFLOP/s',
        work,
        check:
          shards === 1 ? 'weights after a step: 1 and 4 shards identical' : `${(t.medianMs / t1.medianMs).toFixed(2)}x the unsharded time`,
        reps: t.reps,
      });
    return [row(t1, 1), row(t4, 4)];
  } finally {
    h.dispose();
    one.opt.dispose();
    four.opt.dispose();
    one.dispose();
    four.dispose();
  }
};

/** Whether two tables hold the same weights and biases (their logical tensors compared). */
async function sameWeights(x: ReturnType<typeof shardedSoftmax>, y: ReturnType<typeof shardedSoftmax>): Promise<boolean> {
  const logical = async (t: ReturnType<typeof shardedSoftmax>) => {
    const parts = await Promise.all([...t.w.shards, ...t.b.shards].map((s) => s.param.data()));
    return Float32Array.from(parts.flatMap((p) => Array.from(p as Float32Array)));
  };
  const [a, b] = [await logical(x), await logical(y)];
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// ---------------------------------------------------------------------------------------

/** `f16`: the adapter has shader-f16 (the f16-operand rows run). */
export function kernelCases(quick: boolean, f16 = false): [string, Case][] {
  const mm: Shape[] = quick ? [sq(1024)] : [sq(1024), sq(1024, false, true), sq(1024, true, false), LSTM_FWD, LSTM_DX, LSTM_DW];
  return [
    ...mm.map((s, i): [string, Case] => [`matmul ${s.name}`, matmulCase(s, 11 + 2 * i)]),
    ...(f16
      ? (quick ? [sq(1024)] : [sq(1024), LSTM_FWD]).map((s, i): [string, Case] => [`matmul f16 ${s.name}`, matmulF16Case(s, 41 + 2 * i)])
      : []),
    ...(quick ? [4] : [2, 4]).map((k): [string, Case] => [`grouped matmul k=${k}`, groupedCase(k)]),
    ['lstm layer', lstmLayerCase],
    ['embedding', embeddingCase],
    ['softmax cross-entropy', softmaxCase],
    ['Adagrad', adagradCase],
    ['sharded table', shardedTableCase],
  ];
}

export async function runKernels(ctx: SuiteContext, ceil: Ceilings): Promise<KernelRow[]> {
  const rows: KernelRow[] = [];
  for (const [name, run] of kernelCases(ctx.quick, fl.info().features.includes('shader-f16'))) {
    const t0 = performance.now();
    try {
      const got = await run(ctx, ceil);
      rows.push(...got);
      for (const r of got) {
        const tf = r.tfjs ? `   tfjs ${fmtMs(r.tfjs.ms)} ms ${fmtG(r.tfjs.rate)} ${r.unit}, flstm ${r.tfjs.ratio.toFixed(2)}x` : '';
        ctx.log(
          `  ${r.name.padEnd(32)} ${fmtMs(r.ms).padStart(8)} ms ${fmtG(r.rate).padStart(7)} ${r.unit} (${(100 * r.ofPeak!).toFixed(0)}% of peak)${tf}`,
        );
      }
    } catch (e) {
      const msg = (e as Error).message;
      ctx.failures.push(`${name}: ${msg}`);
      ctx.log(`  ${name}: FAILED: ${msg}`);
    }
    ctx.timings[`kernel ${name}`] = (performance.now() - t0) / 1e3;
  }
  return rows;
}
