// bench/tfjs.ts: TensorFlow.js's WebGPU backend on the adapter flstm uses, in the same
// process. tfjs is an optional devDependency, loaded dynamically: when it is missing the
// benches say so and go on with flstm alone.
import { describe } from './util.js';

export type TF = typeof import('@tensorflow/tfjs-core');
export type TFLayers = typeof import('@tensorflow/tfjs-layers');

interface TfjsBackendLike {
  device: GPUDevice;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

export interface TfjsSide {
  tf: TF;
  backend: TfjsBackendLike;
  adapterInfo: GPUAdapterInfo | null;
  /** Submit tfjs's pending work and wait for the queue (what fl.sync() does). */
  sync(): Promise<void>;
}

/** "Cannot find package '@tensorflow/...'" and the like, as one short reason. */
export function missingReason(e: unknown, pkg: string): string {
  const msg = (e as Error)?.message ?? String(e);
  if (/Cannot find (package|module)/.test(msg) || (e as { code?: string })?.code === 'ERR_MODULE_NOT_FOUND') {
    return `${pkg} is not installed (npm install --save-dev ${pkg})`;
  }
  return msg.split('\n')[0];
}

/**
 * Brings tfjs up on WebGPU in Node: a new Dawn instance from the `webgpu` package exposed as
 * navigator.gpu (flstm has already found the adapter and, on a machine without a GPU, pointed
 * the Vulkan loader at a software driver; the new instance sees the same drivers, and tfjs asks
 * it with the same powerPreference flstm uses).
 */
export async function initTfjs(): Promise<TfjsSide> {
  const wg = (await import('webgpu')) as unknown as { create(o: string[]): GPU; globals: Record<string, unknown>; default?: unknown };
  const webgpu = typeof wg.create === 'function' ? wg : (wg.default as typeof wg);
  for (const [k, v] of Object.entries(webgpu.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const gpu = webgpu.create([]);
  let adapterInfo: GPUAdapterInfo | null = null;
  // A thin wrapper so we see the adapter tfjs gets (tfjs only calls requestAdapter).
  const gpuShim = {
    requestAdapter: async (o?: GPURequestAdapterOptions) => {
      const a = await gpu.requestAdapter(o);
      adapterInfo = a?.info ?? null;
      return a;
    },
    getPreferredCanvasFormat: () => gpu.getPreferredCanvasFormat(),
    get wgslLanguageFeatures() {
      return gpu.wgslLanguageFeatures;
    },
  };
  // Node 20 has no global navigator; Node 21+ has one without gpu.
  const g = globalThis as { navigator?: object };
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpuShim, configurable: true, writable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu: gpuShim }, configurable: true, writable: true });

  // Imported only now: the backend registers itself at load time only if navigator.gpu exists.
  let core: TF & { default?: TF };
  try {
    core = (await import('@tensorflow/tfjs-core')) as TF & { default?: TF };
  } catch (e) {
    throw new Error(missingReason(e, '@tensorflow/tfjs-core'));
  }
  const tf: TF = typeof core.matMul === 'function' ? core : core.default!;
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    throw new Error(missingReason(e, '@tensorflow/tfjs-backend-webgpu'));
  }
  if (!tf.findBackendFactory('webgpu')) throw new Error('the webgpu backend did not register (navigator.gpu not seen)');
  const ok = await tf.setBackend('webgpu');
  if (!ok) throw new Error('tf.setBackend("webgpu") returned false (see the messages above)');
  await tf.ready();
  const backend = tf.backend() as unknown as TfjsBackendLike;
  if (typeof backend.submitQueue !== 'function' || !backend.device) {
    throw new Error('unexpected tfjs webgpu backend (no device / submitQueue)');
  }
  return {
    tf,
    backend,
    adapterInfo,
    async sync() {
      backend.ensureCommandEncoderReady();
      backend.endComputePassEncoder();
      backend.submitQueue();
      await backend.device.queue.onSubmittedWorkDone();
    },
  };
}

/**
 * Tensor methods that call ops (x.flatten(), x.add(y), ...). The union package
 * @tensorflow/tfjs installs them; tfjs-core's Node bundle does not, and tfjs-layers uses some
 * (the orthogonal initializer calls .flatten()). Each is tf.op(this, ...args), as in
 * tfjs-core's src/public/chained_ops, except the reshape and cast shorthands.
 */
const CHAINED_OPS = (
  'abs acos acosh add all any argMax argMin asin asinh atan atan2 atanh avgPool batchToSpaceND batchNorm broadcastTo cast ceil ' +
  'clipByValue concat conv1d conv2d conv2dTranspose cos cosh cumprod cumsum depthToSpace depthwiseConv2d dilation2d div divNoNan dot ' +
  'elu equal erf euclideanNorm exp expandDims expm1 fft floor floorDiv gather greater greaterEqual ifft irfft isFinite isInf isNaN ' +
  'leakyRelu less lessEqual localResponseNormalization log log1p logSigmoid logSoftmax logSumExp logicalAnd logicalNot logicalOr ' +
  'logicalXor matMul max maxPool maximum mean min minimum mirrorPad mod mul neg norm notEqual oneHot onesLike pad pool pow prelu prod ' +
  'reciprocal relu relu6 reshape resizeBilinear resizeNearestNeighbor reverse rfft round rsqrt selu separableConv2d sigmoid sign sin ' +
  'sinh slice softmax softplus spaceToBatchND split sqrt square squaredDifference squeeze stack step stridedSlice sub sum tan tanh ' +
  'tile topk transpose unique unsortedSegmentSum unstack where zerosLike'
).split(' ');

export function registerChainedOps(tf: TF): void {
  type T = InstanceType<TF['Tensor']>;
  const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
  const ops = tf as unknown as Record<string, (...a: unknown[]) => unknown>;
  const def = (name: string, fn: (this: T, ...a: unknown[]) => unknown) => {
    if (!(name in proto)) proto[name] = fn;
  };
  for (const name of CHAINED_OPS) {
    if (typeof ops[name] === 'function')
      def(name, function (this: T, ...a) {
        return ops[name](this, ...a);
      });
  }
  const reshape = (t: T, s: number[]) => tf.reshape(t, s);
  def('flatten', function () {
    return reshape(this, [this.size]);
  });
  def('asScalar', function () {
    return reshape(this, []);
  });
  def('as1D', function () {
    return reshape(this, [this.size]);
  });
  for (const d of [2, 3, 4, 5])
    def(`as${d}D`, function (...s) {
      return reshape(this, s as number[]);
    });
  def('reshapeAs', function (x) {
    return reshape(this, (x as T).shape);
  });
  def('asType', function (dtype) {
    return tf.cast(this, dtype as 'float32');
  });
  def('toFloat', function () {
    return tf.cast(this, 'float32');
  });
  def('toInt', function () {
    return tf.cast(this, 'int32');
  });
  def('toBool', function () {
    return tf.cast(this, 'bool');
  });
}

/** tfjs-layers (the Keras-style API), sharing tfjs-core with the backend; throws a short reason when missing. */
export async function loadLayers(tf: TF): Promise<TFLayers> {
  registerChainedOps(tf);
  try {
    const m = (await import('@tensorflow/tfjs-layers')) as TFLayers & { default?: TFLayers };
    return typeof m.sequential === 'function' ? m : m.default!;
  } catch (e) {
    throw new Error(missingReason(e, '@tensorflow/tfjs-layers'));
  }
}

export function tfjsAdapterText(t: TfjsSide): string {
  return describe(t.adapterInfo);
}

export function disposeTfjs(t: TfjsSide): void {
  const device = t.backend.device;
  t.tf.disposeVariables();
  t.tf.engine().reset(); // disposes every tensor and the backend
  device.destroy(); // a Dawn device keeps Node alive
}
