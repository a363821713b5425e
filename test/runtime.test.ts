// The runtime: adapter info and limits, compile errors, buffer and bind-group reuse, tidy,
// views, the tape switch, gradient accumulation, seeded randomness.
import { describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { deviceName, rt } from '../src/gpu/runtime.js';
import { KernelCompileError, type KernelSource } from '../src/gpu/pipelines.js';
import { composeKernel, sourceLine } from '../src/gpu/compose.js';
import { withEpilogue } from '../src/ops/matmul_kernel.js';
import cellStoreSrc from '../kernels/lstm_cell_store.wgsl';
import { structWords, uniform, uniformLayout } from '../src/gpu/uniforms.js';
import { bindingKinds } from '../src/gpu/layouts.js';
import { gpuWait } from '../src/gpu/wait.js';
import { LanguageModel } from '../src/nn/lm.js';
import type { LSTMState } from '../src/nn/lstm.js';
import { GRADIENT_SCALE, makeOptimizer, stepSeed, trainStep } from '../src/train/step.js';
import type { TrainConfig } from '../src/train/config.js';
import { useDevice } from './helpers.js';

useDevice();

describe('fl.info()', () => {
  it('names the backend and adapter, and the device has the adapter limits, not the defaults', () => {
    const info = fl.info();
    expect(info.backend).toBe('node-dawn');
    for (const k of ['vendor', 'architecture', 'device', 'description'] as const) expect(typeof info[k]).toBe('string');
    expect(`${info.vendor} ${info.description}`.trim().length).toBeGreaterThan(0);
    // This project's test machines have no GPU: the adapter is a software Vulkan driver.
    expect(info.software).toBe(true);
    expect(info.variant).toBe('software');
    const adapterLimits = rt().adapter.limits as unknown as Record<string, number>;
    for (const k of [
      'maxStorageBufferBindingSize',
      'maxBufferSize',
      'maxComputeWorkgroupStorageSize',
      'maxComputeInvocationsPerWorkgroup',
      'maxStorageBuffersPerShaderStage',
      'maxComputeWorkgroupsPerDimension',
    ]) {
      expect(info.limits[k], k).toBe(Number(adapterLimits[k]));
      expect(Number((rt().device.limits as unknown as Record<string, number>)[k]), `device ${k}`).toBe(Number(adapterLimits[k]));
    }
    expect(Array.isArray(info.features)).toBe(true);
    expect([...info.features]).toEqual([...info.features].sort());
    for (const f of info.features) expect(rt().device.features.has(f)).toBe(true);
    // Dawn's device slug ("llvmpipe-llvm-15-0-6-256-bits-" on lavapipe) loses the dashes at its ends.
    expect(info.device).not.toMatch(/^-|-$/);
    expect(deviceName('llvmpipe-llvm-15-0-6-256-bits-')).toBe('llvmpipe-llvm-15-0-6-256-bits');
    expect(deviceName('-a-b--')).toBe('a-b');
    // One JSON line round-trips (the CLI prints exactly this).
    expect(JSON.parse(JSON.stringify(info))).toEqual(JSON.parse(JSON.stringify(info)));
  });

  it('init() again returns the open device', async () => {
    const device = rt().device;
    await fl.init();
    expect(rt().device).toBe(device);
  });
});

describe('WGSL compile errors', () => {
  it('name the kernel, the line and the offending source line', async () => {
    const code = [
      '@group(0) @binding(0) var<storage, read_write> y: array<f32>;',
      '@compute @workgroup_size(64)',
      'fn main(@builtin(global_invocation_id) id: vec3u) {',
      '  y[id.x] = undefined_thing * 2.0;',
      '}',
    ].join('\n');
    let err: unknown;
    try {
      await rt().pipelines.check({ name: 'broken', code });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelCompileError);
    const msg = (err as Error).message;
    expect(msg).toContain('"broken"');
    expect(msg).toMatch(/broken\.wgsl:4:\d+: error: .*undefined_thing/);
    expect(msg).toContain('y[id.x] = undefined_thing * 2.0;');
    expect(msg).toMatch(/>\s+4 \| +y\[id\.x\]/);
  });

  it('in a composed kernel, name the file and line the error came from', async () => {
    const core = {
      name: 'core_piece',
      code: '@group(0) @binding(0) var<storage, read_write> y: array<f32>;\n@compute @workgroup_size(1)\nfn main() { y[0] = twice(1.0); }',
    };
    const epilogue = { name: 'epilogue_piece', code: 'fn twice(x: f32) -> f32 {\n  return x * missing_name;\n}\n' };
    const kernel = composeKernel('core_piece+epilogue_piece', [core, { generated: 'a prelude', code: 'const K = 1u;\n' }, epilogue]);
    let err: unknown;
    try {
      await rt().pipelines.check(kernel);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelCompileError);
    const msg = (err as Error).message;
    // Line 6 of the composed code: 3 of the core, 1 generated, then the epilogue's second line.
    expect(msg).toMatch(/kernels\/epilogue_piece\.wgsl:2:\d+: error: .*missing_name.*\(line 6 of the composed kernel\)/);
    expect(msg).toMatch(/>\s+6 \| +return x \* missing_name;/);
  });

  it("a composed matmul kernel's parts cover its code, in order, each from the file it names", () => {
    const k = withEpilogue('vec4', { name: 'lstm_cell_store', code: cellStoreSrc }, 'f16', 'f32');
    const lines = k.code.split('\n');
    expect(k.parts!.map((p) => p.file)).toEqual([
      'kernels/matmul_reg_vec4.wgsl',
      'kernels/matmul_contract.wgsl',
      '(generated: operands a f16, b f32)',
      'kernels/lstm_cell_store.wgsl',
    ]);
    expect(k.parts!.reduce((n, p) => n + p.lines, 0)).toBe(lines.length - 1); // the code ends with a newline
    const firstOfEpilogue = k.parts![0].lines + k.parts![1].lines + k.parts![2].lines + 1;
    expect(sourceLine(k, firstOfEpilogue)).toEqual({ file: 'kernels/lstm_cell_store.wgsl', line: 1 });
    expect(lines[firstOfEpilogue - 1]).toBe(cellStoreSrc.split('\n')[0]);
    expect(sourceLine(k, 1)).toEqual({ file: 'kernels/matmul_reg_vec4.wgsl', line: 1 });
  });

  it('a kernel that compiles passes the check', async () => {
    const code = '@group(0) @binding(0) var<storage, read_write> y: array<f32>;\n@compute @workgroup_size(1) fn main() { y[0] = 1.0; }';
    await expect(rt().pipelines.check({ name: 'fine', code })).resolves.toBeUndefined();
  });
});

describe('gpuWait (waiting for the GPU without spinning the event loop)', () => {
  it('resolves with the value, rejects with the error, and lets timers and the GPU finish', async () => {
    expect(await gpuWait(Promise.resolve(5))).toBe(5);
    await expect(gpuWait(Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const late = new Promise<string>((r) => setTimeout(() => r('late'), 20));
    expect(await gpuWait(late)).toBe('late');
    const x = fl.randn([256, 256], { seed: 3 });
    const y = fl.matmul(x, x);
    rt().recorder.submit();
    await gpuWait(rt().device.queue.onSubmittedWorkDone());
    expect((await y.data()).every(Number.isFinite)).toBe(true);
    x.dispose();
    y.dispose();
  });
});

describe('kernel bindings (explicit layouts from the WGSL declarations)', () => {
  // Untyped (KernelSource's default): these tests reach the run-time checks behind the types.
  const KERNEL: KernelSource = {
    name: 'test_bindings',
    code: `// @group(0) @binding(5) var<storage, read> commented: array<f32>;  (ignored)
struct P { a: u32, b: f32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> q: P;
@compute @workgroup_size(1) fn main() { y[0] = f32(p.a) + p.b; y[1] = f32(q.a) + q.b; }`,
  };

  it('reads both uniform blocks from the parameter ring and reports mismatched bindings clearly', async () => {
    const y = fl.zeros([4]);
    rt().run(KERNEL, { params: { b: 0.5, a: 7 }, buffers: [y.buffer, uniform(KERNEL, 2, { a: 40, b: 0.25 })], workgroups: [1] });
    expect(Array.from(await y.data()).slice(0, 2)).toEqual([7.5, 40.25]);
    expect(() => rt().run(KERNEL, { params: { a: 1, b: 0 }, buffers: [y.buffer], workgroups: [1] })).toThrow(
      /kernel test_bindings declares 3 bindings but 2 were given/,
    );
    expect(() => rt().run(KERNEL, { params: { a: 1, b: 0 }, buffers: [y.buffer, y.buffer], workgroups: [1] })).toThrow(
      /binding 2 is a uniform, but a storage buffer was given/,
    );
    expect(() =>
      rt().run(KERNEL, { params: { a: 1, b: 0 }, buffers: [uniform(KERNEL, 1, { a: 1, b: 0 }), y.buffer], workgroups: [1] }),
    ).toThrow(/kernel test_bindings has no uniform at binding 1/);
    y.dispose();
  });

  it('packs uniform fields by name from the struct the kernel declares, and refuses missing, extra and mistyped fields', async () => {
    const y = fl.zeros([4]);
    const run = (params: Record<string, number>, q: Record<string, number> = { a: 0, b: 0 }) =>
      rt().run(KERNEL, { params, buffers: [y.buffer, uniform(KERNEL, 2, q)], workgroups: [1] });
    // u32 a and f32 b: b's bits as an f32, a's as an integer, whatever order the host names them in.
    run({ b: 0.25, a: 3 }, { a: 1, b: 0.5 });
    expect(Array.from(await y.data()).slice(0, 2)).toEqual([3.25, 1.5]);
    expect(() => run({ a: 1 })).toThrow(/kernel test_bindings: P\.b is missing; expected a number \(f32\)/);
    expect(() => run({ a: 1, b: 0, c: 2 })).toThrow(/kernel test_bindings: P has no field c \(fields: a, b\)/);
    expect(() => run({ a: 1, b: 0, pad0: 0 })).toThrow(/P has no field pad0/);
    expect(() => run({ a: -1, b: 0 })).toThrow(/P\.a = -1; expected an integer in \[0, 2\^32\) \(u32\)/);
    expect(() => run({ a: 1.5, b: 0 })).toThrow(/P\.a = 1\.5; expected an integer/);
    expect(() => run({ a: 1, b: 0 }, { a: 1, bb: 0 })).toThrow(/P has no field bb/);
    y.dispose();
  });

  it('reads struct layouts from WGSL, comments ignored, and checks the words the host reads back', () => {
    const layout = uniformLayout('k', '// struct P { x: f32 }\nstruct P { n: u32, lr: f32, k: i32, pad: u32 }', 'P');
    expect(layout.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['n:u32', 'lr:f32', 'k:i32', 'pad:u32']);
    expect(layout.given.map((f) => f.name)).toEqual(['n', 'lr', 'k']);
    expect(layout.f32Mask).toBe(0b10);
    expect(() => uniformLayout('k', 'struct P { v: vec4f }', 'P')).toThrow(/field P\.v is vec4f; uniform fields must be u32, i32 or f32/);
    expect(() => uniformLayout('k', 'struct Q { v: u32 }', 'P')).toThrow(/kernel k declares no struct P/);
    expect(structWords('s.wgsl', 'struct S { a: f32, b: u32 }', 'S', { b: 'u32', a: 'f32' })).toEqual({ a: 0, b: 1 });
    expect(() => structWords('s.wgsl', 'struct S { a: f32, b: u32 }', 'S', { b: 'f32' })).toThrow(
      /s\.wgsl: struct S has b: u32; the host reads b: f32/,
    );
    expect(() => structWords('s.wgsl', 'struct S { a: f32 }', 'S', { c: 'u32' })).toThrow(/struct S has no field c/);
  });

  it('parses binding kinds, ignoring comments, and rejects gaps and duplicates', () => {
    expect(bindingKinds('k', KERNEL.code)).toEqual(['u', 'w', 'u']);
    expect(
      bindingKinds('k', '@group(0) @binding(0) var<storage> a: array<f32>;\n@group(0) @binding(1) var<storage, read> b: array<f32>;'),
    ).toEqual(['r', 'r']);
    expect(() => bindingKinds('gap', '@group(0) @binding(1) var<storage, read> b: array<f32>;')).toThrow(/kernel gap skips @binding\(0\)/);
    expect(() => bindingKinds('dup', '@group(0) @binding(0) var<uniform> p: vec4u;\n@group(0) @binding(0) var<uniform> q: vec4u;')).toThrow(
      /kernel dup declares @binding\(0\) twice/,
    );
  });
});

describe('caches and memory', () => {
  const x = () => fl.randn([37, 129], { seed: 3 });

  it('pipelines are cached by their code: two kernels that share a name each run their own', async () => {
    const fill = (value: number) => ({
      name: 'fill_same_name',
      code: `@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(1) fn main() { y[0] = ${value}.0; }`,
    });
    const before = rt().pipelines.size;
    const read = async (value: number) => {
      const y = fl.zeros([1]);
      rt().run(fill(value), { buffers: [y.buffer], workgroups: [1] });
      const v = (await y.data())[0];
      y.dispose();
      return v;
    };
    expect(await read(1)).toBe(1);
    expect(await read(2)).toBe(2);
    expect(await read(1)).toBe(1); // a new object with the first code: the first pipeline again
    expect(rt().pipelines.size - before).toBe(2);
  });

  it('the buffer pool reuses buffers across tidy-scoped steps', async () => {
    const a = x();
    const w = fl.randn([129], { seed: 4 });
    const step = () => fl.tidy(() => fl.sum(fl.mul(fl.tanh(a), w)));
    for (let i = 0; i < 3; i++) step().dispose();
    const allocs = fl.stats().bufferAllocations;
    const inUse = fl.stats().poolInUseBytes;
    let last = 0;
    for (let i = 0; i < 20; i++) {
      const s = step();
      if (i === 19) last = (await s.data())[0];
      s.dispose();
    }
    expect(fl.stats().bufferAllocations).toBe(allocs);
    expect(fl.stats().poolInUseBytes).toBe(inUse);
    expect(Number.isFinite(last)).toBe(true);
    a.dispose();
    w.dispose();
  });

  it('bind groups are cached across identical training steps (forward and backward)', async () => {
    const a = fl.randn([33, 65], { seed: 5, requiresGrad: true });
    const b = fl.randn([65], { seed: 6 });
    const step = () =>
      fl.tidy(() => {
        const loss = fl.sum(fl.sigmoid(fl.mul(a, b)));
        loss.backward();
        return loss;
      });
    const run = async (n: number) => {
      for (let i = 0; i < n; i++) {
        a.grad?.dispose();
        a.grad = null;
        (await step()).dispose();
      }
    };
    await run(4);
    await a.grad!.data(); // sync point: any GPU error would surface here
    const s0 = fl.stats();
    await run(10);
    await a.grad!.data();
    const s1 = fl.stats();
    expect(s1.dispatches).toBeGreaterThan(s0.dispatches);
    expect(s1.bindGroupsCreated).toBe(s0.bindGroupsCreated);
    expect(s1.bufferAllocations).toBe(s0.bufferAllocations);
    expect(s1.pipelines).toBe(s0.pipelines);
    a.dispose();
    b.dispose();
  });

  // G-LSTM with projection; LSTM without, whose backward binds two ranges of the gate gradients.
  for (const m of [
    { cell: 'glstm', proj: 16, groups: 2 },
    { cell: 'lstm', proj: 0 },
  ] as const) {
    it(`a language-model training step makes no bind group, buffer or pipeline once its batches were seen (dropout seeds, sampled sizes, time indices change; ${m.cell}${m.proj ? '' : ' without projection'})`, async () => {
      // Every step draws a new dropout seed and new sampled candidates, and the batches differ
      // in their unique ids: parameters that change per dispatch live in the parameter ring,
      // and sizes that follow the data fall into the pool's size classes.
      const model = new LanguageModel({ vocabSize: 300, emb: 16, layers: 2, hidden: 32, ...m, dropout: 0.25, seed: 3 });
      const cfg = {
        data: 'synthetic',
        batch: 4,
        bptt: 5,
        optimizer: 'adagrad',
        lr: 0.2,
        clip: 1,
        sampled: 40,
        seed: 1,
        model: { layers: 2, emb: 16, hidden: 32, ...m, dropout: 0.25 },
      } as unknown as TrainConfig;
      const opt = makeOptimizer(cfg, model);
      const rng = new fl.Rng(9);
      const batches = [0, 1, 2].map(() => {
        const ids = () => Int32Array.from({ length: 20 }, () => Math.floor(rng.uniform() ** 2 * 300));
        return { inputs: ids(), targets: ids(), steps: 5, batchSize: 4 };
      });
      let state: LSTMState[] | undefined;
      const losses: number[] = [];
      const step = async (i: number) => {
        const prev = state;
        const r = fl.tidy(() => {
          const out = trainStep(model, opt, batches[i % 3], state, {
            gradientScale: GRADIENT_SCALE.adagrad,
            sampled: 40,
            seed: stepSeed(1, i),
          });
          state = out.state.map((s) => ({ h: s.h.keep(), c: s.c.keep() }));
          return out.loss;
        });
        prev?.forEach((x) => {
          x.h.dispose();
          x.c.dispose();
        });
        losses.push((await r.data())[0]);
        r.dispose();
      };
      for (let i = 0; i < 6; i++) await step(i);
      const s0 = fl.stats();
      for (let i = 6; i < 12; i++) await step(i);
      const s1 = fl.stats();
      expect(s1.dispatches - s0.dispatches).toBeGreaterThan(6 * 50);
      expect(s1.bindGroupsCreated - s0.bindGroupsCreated).toBe(0);
      expect(s1.bufferAllocations - s0.bufferAllocations).toBe(0);
      expect(s1.pipelines - s0.pipelines).toBe(0);
      for (const l of losses) expect(Number.isFinite(l)).toBe(true);
      // The same batch at steps 0 and 9 (seeds differ): training moved the loss.
      expect(losses[9]).not.toBe(losses[0]);
      state?.forEach((x) => {
        x.h.dispose();
        x.c.dispose();
      });
      model.dispose();
      opt.dispose();
    });
  }

  it('each of thousands of dispatches in one command buffer reads its own parameters (across the submit limit)', async () => {
    // x <- x * a_i for 5000 distinct a_i, encoded without a readback: a dispatch reading a
    // neighbour's parameters, or parameters rewritten before it ran, changes the product.
    const a = (i: number) => 1 + (((i * 7919) % 101) - 50) / 4000;
    let x = fl.tensor([1, 2, 3, 4], [4]);
    let expected = 1;
    for (let i = 0; i < 5000; i++) {
      const y = fl.scale(x, a(i));
      x.dispose();
      x = y;
      expected *= Math.fround(a(i));
    }
    const got = await x.data();
    x.dispose();
    for (let j = 0; j < 4; j++) expect(got[j] / (j + 1)).toBeCloseTo(expected, 3);
    expect(Math.abs(Math.log(expected))).toBeGreaterThan(0.01); // the check could fail
  });

  it('tidy disposes intermediates and keeps the result (and tensors kept with keep())', async () => {
    const a = fl.tensor([0.5, -1, 2], [3]);
    const inUse = fl.stats().poolInUseBytes;
    let mid: fl.Tensor | null = null;
    let kept: fl.Tensor | null = null;
    const result = fl.tidy(() => {
      mid = fl.tanh(a);
      kept = fl.exp(a).keep();
      return { y: fl.scale(mid, 2) };
    });
    expect(mid!.disposed).toBe(true);
    expect(kept!.disposed).toBe(false);
    expect(result.y.disposed).toBe(false);
    expect(a.disposed).toBe(false);
    const y = await result.y.data();
    expect(y[2]).toBeCloseTo(2 * Math.tanh(2), 5);
    result.y.dispose();
    kept!.dispose();
    expect(fl.stats().poolInUseBytes).toBe(inUse);
    a.dispose();
  });

  it('nested tidy hands its result to the outer scope', () => {
    const a = fl.ones([4]);
    let inner: fl.Tensor | null = null;
    fl.tidy(() => {
      inner = fl.tidy(() => fl.tanh(a));
      expect(inner.disposed).toBe(false);
      return null;
    });
    expect(inner!.disposed).toBe(true);
    a.dispose();
  });

  it('reshape views share storage; disposing one keeps the other alive', async () => {
    const inUse = fl.stats().poolInUseBytes;
    const a = fl.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = a.reshape([3, -1]);
    expect(b.shape).toEqual([3, 2]);
    expect(b.buffer).toBe(a.buffer);
    const afterBoth = fl.stats().poolInUseBytes;
    a.dispose();
    expect(fl.stats().poolInUseBytes).toBe(afterBoth); // b still holds the buffer
    expect(Array.from(await b.data())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await b.array()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    b.dispose();
    expect(fl.stats().poolInUseBytes).toBe(inUse);
  });
});

describe('autograd switches', () => {
  it('noGrad records nothing', () => {
    const x = fl.tensor([1, 2, 3], [3], { requiresGrad: true });
    const y = fl.noGrad(() => fl.tanh(fl.mul(x, x)));
    expect(y.requiresGrad).toBe(false);
    expect(y.node).toBeNull();
    const z = fl.tanh(x);
    expect(z.requiresGrad).toBe(true);
    expect(z.node?.op).toBe('tanh');
  });

  it('gradients accumulate over two backward() calls', async () => {
    const x = fl.tensor([0.1, -0.4, 0.7], [3], { requiresGrad: true });
    fl.sum(fl.tanh(x)).backward();
    const once = Array.from(await x.grad!.data());
    fl.sum(fl.tanh(x)).backward();
    const twice = Array.from(await x.grad!.data());
    for (let i = 0; i < 3; i++) {
      expect(once[i]).toBeCloseTo(1 - Math.tanh([0.1, -0.4, 0.7][i]) ** 2, 6);
      expect(twice[i]).toBeCloseTo(2 * once[i], 6);
    }
  });

  it('backward() frees the tape unless retainGraph is set', async () => {
    const x = fl.tensor([0.3, 0.2], [2], { requiresGrad: true });
    const y = fl.sum(fl.sigmoid(x));
    y.backward(undefined, { retainGraph: true });
    expect(y.node).not.toBeNull();
    y.backward();
    expect(y.node).toBeNull();
  });
});

describe('seeded randomness', () => {
  it('randn with a seed is deterministic; another seed differs', async () => {
    const a = Array.from(await fl.randn([257], { seed: 42 }).data());
    const b = Array.from(await fl.randn([257], { seed: 42 }).data());
    const c = Array.from(await fl.randn([257], { seed: 43 }).data());
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const sd = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    expect(Math.abs(mean)).toBeLessThan(0.25);
    expect(sd).toBeGreaterThan(0.8);
    expect(sd).toBeLessThan(1.2);
  });

  it('setSeed makes unseeded calls reproducible', async () => {
    fl.setSeed(7);
    const a = Array.from(await fl.rand([65]).data());
    fl.setSeed(7);
    const b = Array.from(await fl.rand([65]).data());
    expect(a).toEqual(b);
    expect(a.every((v) => v >= -1 && v < 1)).toBe(true);
  });
});

describe('the device lifecycle', () => {
  it('after dispose() and a new init(), old tensors say they belong to the closed device', async () => {
    const old = fl.tensor([1, 2], [2]);
    fl.dispose();
    await fl.init();
    await expect(old.data()).rejects.toThrow(/closed|disposed device|fl\.dispose/);
    expect(() => old.dispose()).not.toThrow();
    const fresh = fl.tensor([3, 4], [2]);
    expect(Array.from(await fresh.data())).toEqual([3, 4]);
    fresh.dispose();
  });
});
